"""A note for the door on a booking (`res flag`): "wheelchair space", "pays at the door".

Staff write it, staff read it (the door screen, `res show`, `res list`); the visitor never sees
it. It is one short line, since the door shows it beside the admission, and it is written under
the booking's locks like every change of a booking, so it never lands on a booking that a
cancellation or an exchange is changing at the same moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from azctl import db, errors
from azctl.models import Reservation
from azctl.services import times, validation
from azctl.services.booking.locking import lock_booking

MAX_DOOR_NOTE = 200


def clean_door_note(text: str | None) -> str:
    """The note as stored: trimmed, at most `MAX_DOOR_NOTE` characters, on one line."""
    if text is not None and ("\n" in text or "\r" in text):
        raise errors.InvalidInput(
            "note", "note: a door note is one line", reason="control_characters"
        )
    return validation.required_text("note", text, max_length=MAX_DOOR_NOTE)


def flag_reservation(
    session: Session, *, reference: str, note: str | None, now: datetime | None = None
) -> Reservation:
    """Set a booking's door note, or clear it with `note=None`."""
    now = now or times.now_utc()
    cleaned = None if note is None else clean_door_note(note)
    with db.write(session):
        reservation, _locked = lock_booking(session, reference=reference)
        reservation.door_note = cleaned
        reservation.updated_at = now
        return reservation
