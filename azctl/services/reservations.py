"""Finding reservations: by reference, by performance, by what staff type into a search."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import (
    CheckIn,
    Performance,
    Reservation,
    ReservationStatus,
    Show,
    Venue,
)
from azctl.services import times, tokens

REFERENCE_PREFIX = "AZ-"
# A reference as a person types it: `AZ-7KQ4M2`, `az 7kq4m2`, `AZ7KQ4M2`, spaces anywhere.
_TYPED_REFERENCE = re.compile(r"AZ-?([0-9A-Z]{6})")
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
# Matches are loaded this many ids at a time: well under any database's limit on parameters.
_IDS_PER_QUERY = 500


def normalise_reference(reference: str) -> str:
    """`az-7kq4m2`, `7KQ4M2` and ` AZ-7KQ4M2 ` all name `AZ-7KQ4M2`."""
    cleaned = reference.strip().upper()
    return cleaned if cleaned.startswith(REFERENCE_PREFIX) else REFERENCE_PREFIX + cleaned


def parse_reference(text: str) -> str | None:
    """The booking reference in what staff typed into a scan field, or None if it is not one.

    A reference is short and starts with `AZ`, a ticket token is 32 characters without a prefix,
    so the two cannot be taken for each other; case, spaces and the hyphen do not matter, and the
    letters a person misreads (I, L, O) are read as the digits the alphabet has instead.
    """
    match = _TYPED_REFERENCE.fullmatch("".join(text.split()).upper())
    if match is None:
        return None
    code = match.group(1).translate(_LOOKALIKES)
    if any(char not in tokens.ALPHABET for char in code):
        return None
    return REFERENCE_PREFIX + code


def fold(text: str) -> str:
    """`Françoise Çelik` as `francoise celik`: case and accents dropped, so a search typed on any
    keyboard finds the name as the visitor spelled it, and the other way round."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def get_reservation(session: Session, *, reference: str, lock: bool = False) -> Reservation:
    """A reservation by its reference, fresh from the database (locked if asked)."""
    statement = (
        select(Reservation)
        .where(Reservation.reference == normalise_reference(reference))
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    reservation = session.exec(statement).first()
    if reservation is None:
        raise errors.NotFound(f"no reservation with reference {reference!r}")
    return reservation


@dataclass(frozen=True)
class ReservationRow:
    """A reservation with what staff need beside it: its performance and check-in."""

    reservation: Reservation
    show: Show
    venue: Venue
    performance: Performance
    checked_in_at: datetime | None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "reference",
        "status",
        "checked_in",
        "checked_in_at",
        "name",
        "email",
        "phone",
        "party_size",
        "notes",
        "door_note",
        "performance_id",
        "show",
        "starts_at",
        "created_at",
        "confirmed_at",
        "expires_at",
        "cancelled_at",
    )

    def as_dict(self) -> dict[str, Any]:
        reservation = self.reservation
        return {
            "reference": reservation.reference,
            "status": reservation.status,
            "checked_in": self.checked_in_at is not None,
            "checked_in_at": times.iso_local(self.checked_in_at),
            "name": reservation.name,
            "email": reservation.email,
            "phone": reservation.phone,
            "party_size": reservation.party_size,
            "notes": reservation.notes,
            "door_note": reservation.door_note,
            "performance_id": reservation.performance_id,
            "show": self.show.slug,
            "starts_at": times.iso_local(self.performance.starts_at),
            "created_at": times.iso_local(reservation.created_at),
            "confirmed_at": times.iso_local(reservation.confirmed_at),
            "expires_at": times.iso_local(reservation.expires_at),
            "cancelled_at": times.iso_local(reservation.cancelled_at),
        }


def list_reservations(
    session: Session,
    *,
    performance_id: int | None = None,
    status: str | None = None,
    search: str | None = None,
    reference: str | None = None,
    limit: int | None = None,
) -> list[ReservationRow]:
    """Reservations, newest performance first then by name; `search` matches name, email or
    reference, whatever the case or accents (`celik` finds `Çelik`)."""
    statement = (
        select(Reservation, Show, Venue, Performance, CheckIn.checked_in_at)
        .join(Performance, Performance.id == Reservation.performance_id)  # type: ignore[arg-type]
        .join(Show, Show.id == Performance.show_id)  # type: ignore[arg-type]
        .join(Venue, Venue.id == Performance.venue_id)  # type: ignore[arg-type]
        .outerjoin(CheckIn, CheckIn.reservation_id == Reservation.id)  # type: ignore[arg-type]
        .order_by(col(Performance.starts_at).desc(), col(Reservation.name), col(Reservation.id))
        .execution_options(populate_existing=True)
    )
    if performance_id is not None:
        if session.get(Performance, performance_id) is None:
            raise errors.NotFound(f"no performance with id {performance_id}")
        statement = statement.where(Reservation.performance_id == performance_id)
    if status is not None:
        if status not in set(ReservationStatus):
            known = ", ".join(ReservationStatus)
            raise errors.InvalidInput("status", f"status must be one of {known}, got {status!r}")
        statement = statement.where(Reservation.status == status)
    if reference is not None:
        statement = statement.where(Reservation.reference == normalise_reference(reference))
    if search and search.strip():
        return list(_folded_matches(session, statement, fold(search.strip()), limit))
    if limit is not None:
        statement = statement.limit(limit)
    return [ReservationRow(*row) for row in session.exec(statement)]


def _folded_matches(
    session: Session, statement: Any, needle: str, limit: int | None
) -> Iterator[ReservationRow]:
    """The rows of `statement` whose name, email or reference contains `needle`, folded.

    Neither SQLite nor PostgreSQL folds accents in a portable way, so the three columns are read
    and folded here, in the statement's order, and the rows that match are then loaded by id.
    """
    candidates = statement.with_only_columns(
        col(Reservation.id),
        col(Reservation.name),
        col(Reservation.email),
        col(Reservation.reference),
    )
    matched = [
        reservation_id
        for reservation_id, name, email, reference in session.exec(candidates)
        if needle in fold(name) or needle in fold(email) or needle in fold(reference)
    ][:limit]
    for start in range(0, len(matched), _IDS_PER_QUERY):
        chunk = matched[start : start + _IDS_PER_QUERY]
        rows = session.exec(statement.where(col(Reservation.id).in_(chunk)))
        yield from (ReservationRow(*row) for row in rows)


def reservation_row(session: Session, *, reference: str) -> ReservationRow:
    rows = list_reservations(session, reference=reference)
    if not rows:
        raise errors.NotFound(f"no reservation with reference {reference!r}")
    return rows[0]
