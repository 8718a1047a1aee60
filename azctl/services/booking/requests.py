"""A visitor asks for seats: the pending reservation, its links and the mail that carries them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from azctl import db, errors
from azctl.models import Reservation
from azctl.services import i18n, reports, times, tokens
from azctl.services.booking import form, mails, rules
from azctl.services.reservations import REFERENCE_PREFIX


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
    fields = form.clean(name=name, email=email, phone=phone, notes=notes, party_size=party_size)
    with db.write(session):
        summary = public_performance(session, performance_id=performance_id)
        rules.refuse_closed(summary.performance, now)
        rules.refuse_not_enough_seats(fields.party_size, summary.seats.available_seats)
        reservation = Reservation(
            performance_id=performance_id,
            reference=_unused_reference(session),
            name=fields.name,
            email=fields.email,
            phone=fields.phone,
            party_size=fields.party_size,
            notes=fields.notes,
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
