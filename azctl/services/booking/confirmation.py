"""Confirmation: the anti-overbooking rule.

In one transaction: lock the performance row, recount the confirmed seats (and those held by
waiting-list offers), and confirm only if the party fits, with the token spent, the check-in
token issued and the ticket mail queued. Not enough seats: nothing changes and the reservation
stays pending (`sold_out`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from azctl import db, errors
from azctl.models import Performance, Reservation, ReservationStatus, TokenPurpose
from azctl.services import capacity, reports, tickets, times
from azctl.services.booking import mails, rules
from azctl.services.booking.locking import (
    LOCKED_TOKEN_ROW,
    TOKEN_ROW,
    lock_performance_of_token,
    token_params,
    token_row,
)

# The booking, its performance and the seats confirmed so far, in one statement without a lock.
_SEAT_CHECK = TOKEN_ROW.add_columns(
    Performance,
    capacity.confirmed_seats_of(Reservation.performance_id),
    capacity.held_seats_of(Reservation.performance_id),
).join(Performance, Performance.id == Reservation.performance_id)  # type: ignore[arg-type]
# The same booking locked (after its performance), with the seats recounted in the same statement.
_CONFIRMING = LOCKED_TOKEN_ROW.add_columns(
    capacity.confirmed_seats_of(Reservation.performance_id),
    capacity.held_seats_of(Reservation.performance_id),
)


@dataclass(frozen=True)
class ConfirmedBooking:
    reservation: Reservation
    summary: reports.PerformanceSummary  # as read before confirming: its seats exclude this one
    ticket_token: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reservation.reference,
            "status": self.reservation.status,
            "party_size": self.reservation.party_size,
            "performance": {
                "id": self.summary.performance.id,
                "show": self.summary.show.title,
                "venue": self.summary.venue.name,
                "starts_at": times.iso_local(self.summary.performance.starts_at),
            },
            "ticket_url": tickets.ticket_url(self.ticket_token),
        }


def _judge(row: Any, performance: Performance, now: datetime) -> Reservation:
    """Every refusal, on the token, booking and seat count of `row` as read."""
    confirm_token, reservation, confirmed_seats, held_seats = row
    free = capacity.available_seats(
        performance, confirmed_seats=int(confirmed_seats), held_seats=int(held_seats)
    )
    rules.refuse_to_confirm(confirm_token, reservation, performance, free, now)
    return reservation


def _first_look(session: Session, params: dict[str, str], now: datetime) -> int:
    """Judge the booking without a lock and without a transaction; returns its performance.

    Most answers in a rush are refusals (a spent link, a full house), and a refusal that is
    certain already must not queue on the lock. The look reads on a session of its own, in
    autocommit on PostgreSQL: one round trip, with no BEGIN and no ROLLBACK around it.
    """
    with Session(db.read_only(session.get_bind())) as apart:
        row = apart.exec(_SEAT_CHECK, params=params).first()  # type: ignore[call-overload]
    if row is None:
        raise errors.InvalidToken("this link is not valid")
    confirm_token, reservation, performance, confirmed_seats, held_seats = row
    try:
        _judge((confirm_token, reservation, confirmed_seats, held_seats), performance, now)
    except errors.TokenExpired:
        with db.write(session):
            _record_expiry(session, params, now)
        raise
    return reservation.performance_id


def confirm_booking(
    session: Session, *, token: str, now: datetime | None = None
) -> ConfirmedBooking:
    """Confirm a pending reservation by its emailed token, if the party still fits.

    In a rush every confirmation of a performance queues on its lock, so the booking is judged
    first without the lock (`_first_look`). Then the performance summary the mail needs is read
    and, in the lock order, the performance is locked, the booking locked and read again with
    the seats recounted, and every refusal judged again on the rows as they are now (they may
    have been expired, cancelled, resent or closed while we waited). Only then is anything
    written.
    """
    now = now or times.now_utc()
    params = token_params(token, TokenPurpose.CONFIRMATION)
    performance_id = _first_look(session, params, now)
    with db.write(session):
        summary = reports.performance_summary(session, performance_id=performance_id)
        performance = lock_performance_of_token(session, params)
        row = session.exec(_CONFIRMING, params=params).one()  # type: ignore[call-overload]
        confirm_token = row[0]
        try:
            reservation = _judge(row, performance, now)
        except errors.TokenExpired:
            _record_expiry(session, params, now)
            raise
        confirm_token.used_at = now
        reservation.status = ReservationStatus.CONFIRMED
        reservation.confirmed_at = now
        reservation.qr_code_generated_at = now
        reservation.updated_at = now
        ticket_token = mails.queue_ticket_mail(session, reservation, summary)
        session.flush()
        return ConfirmedBooking(reservation=reservation, summary=summary, ticket_token=ticket_token)


def _record_expiry(session: Session, params: dict[str, str], now: datetime) -> None:
    """Mark a pending booking whose link has run out as expired, under the performance lock (as
    every change of a booking's state is), and commit that before the refusal is raised."""
    lock_performance_of_token(session, params)
    _token, reservation = token_row(session, params, lock=True)
    if reservation.status == ReservationStatus.PENDING:
        reservation.status = ReservationStatus.EXPIRED
        reservation.updated_at = now
    session.commit()
