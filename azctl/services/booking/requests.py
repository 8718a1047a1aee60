"""A visitor asks for seats: the pending reservation, its links and the mail that carries them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from azctl import db, errors
from azctl.models import Reservation
from azctl.services import i18n, reports, times, tokens, validation
from azctl.services.booking import mails, rules
from azctl.services.reservations import REFERENCE_PREFIX
from azctl.settings import get_settings


@dataclass(frozen=True)
class SubmittedBooking:
    """A new pending reservation; the raw tokens are for the email only."""

    reservation: Reservation
    confirm_token: str
    cancel_token: str


def new_reference() -> str:
    """A short, unguessable-enough handle for phone support: `AZ-7KQ4M2`. Not a secret."""
    return REFERENCE_PREFIX + "".join(secrets.choice(tokens.ALPHABET) for _ in range(6))


def _unused_reference(session: Session) -> str:
    while True:
        reference = new_reference()
        taken = session.exec(select(Reservation.id).where(Reservation.reference == reference))
        if taken.first() is None:
            return reference


def public_performance(session: Session, *, performance_id: int) -> reports.PerformanceSummary:
    """A performance a visitor may see: its show is published."""
    summary = reports.performance_summary(session, performance_id=performance_id)
    if not summary.show.is_published:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return summary


def submit_booking(
    session: Session,
    *,
    performance_id: int,
    name: str,
    email: str,
    party_size: int,
    phone: str | None = None,
    notes: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> SubmittedBooking:
    """A visitor asks for seats: a pending reservation, its tokens and the mail, or a refusal.

    Seats are checked here only to turn visitors away early; they are held at confirmation. A new
    reservation is seen by no one until commit, so it needs no performance lock. `language` is
    the visitor's (one the theatre offers, else its default): every mail of the booking uses it.
    """
    now = now or times.now_utc()
    name = validation.required_text("name", name, max_length=200)
    email = validation.email(email)
    phone = validation.optional_text("phone", phone, max_length=40)
    notes = validation.optional_text("notes", notes, max_length=1000)
    validation.count("party_size", party_size, minimum=1, maximum=get_settings().max_party_size)
    with db.write(session):
        summary = public_performance(session, performance_id=performance_id)
        rules.refuse_closed(summary.performance, now)
        rules.refuse_not_enough_seats(party_size, summary.seats.available_seats)
        reservation = Reservation(
            performance_id=performance_id,
            reference=_unused_reference(session),
            name=name,
            email=email,
            phone=phone,
            party_size=party_size,
            notes=notes,
            language=i18n.for_reservation(language),
        )
        session.add(reservation)
        session.flush()
        confirm_token, cancel_token = mails.queue_confirmation_mail(
            session, reservation, summary, now
        )
        return SubmittedBooking(
            reservation=reservation, confirm_token=confirm_token, cancel_token=cancel_token
        )
