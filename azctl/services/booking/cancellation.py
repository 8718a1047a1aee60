"""Every way a booking is cancelled: by the visitor's link, by staff, with its performance.

Cancelling a confirmed booking frees its seats. The tokens are left as they are, so a link or
ticket used later is answered for what it is (`token_used`, `not_confirmed`), not as if it had
never existed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import Reservation, ReservationStatus, TokenPurpose
from azctl.services import reports, times
from azctl.services.booking import mails, rules
from azctl.services.booking.links import is_checked_in
from azctl.services.booking.locking import (
    lock_booking,
    lock_performance_of_token,
    token_params,
    token_row,
)


def _mark_cancelled(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    now: datetime,
    *,
    kind: str,
) -> None:
    """Cancel and tell the visitor, in the language they booked in."""
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.updated_at = now
    mails.queue_notice(session, reservation, summary, kind=kind)


def _cancel(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary, now: datetime
) -> None:
    rules.refuse_cancel(reservation, checked_in=is_checked_in(session, reservation))
    _mark_cancelled(session, reservation, summary, now, kind="cancelled")


def cancel_by_token(session: Session, *, token: str, now: datetime | None = None) -> Reservation:
    """A visitor cancels with the link from their email; confirmed seats are freed."""
    now = now or times.now_utc()
    params = token_params(token, TokenPurpose.CANCEL)
    with db.write(session):
        performance = lock_performance_of_token(session, params)
        cancel_token, reservation = token_row(session, params, lock=True)
        rules.refuse_revoked(cancel_token)
        rules.refuse_uncancellable(cancel_token, reservation, now)
        summary = reports.performance_summary(session, performance_id=performance.id or 0)
        _cancel(session, reservation, summary, now)
        cancel_token.used_at = now
        return reservation


def cancel_by_ticket(session: Session, *, token: str, now: datetime | None = None) -> Reservation:
    """A visitor cancels from their ticket (its page's Cancel button); the seats are freed.

    Under the same locks, in the same order, as `cancel_by_token`: the performance the ticket's
    booking is for, then the ticket and the booking. Refused once the performance has started,
    and for a booking that has come in. The ticket's token is left as it is: scanned later, it
    is refused at the door as `not_confirmed`.
    """
    now = now or times.now_utc()
    params = token_params(token, TokenPurpose.CHECK_IN)
    with db.write(session):
        performance = lock_performance_of_token(session, params)
        ticket_token, reservation = token_row(session, params, lock=True)
        rules.refuse_revoked(ticket_token)
        rules.refuse_ticket_cancel(
            reservation, performance, now, checked_in=is_checked_in(session, reservation)
        )
        summary = reports.performance_summary(session, performance_id=performance.id or 0)
        _cancel(session, reservation, summary, now)
        return reservation


def cancel_reservation(
    session: Session, *, reference: str, now: datetime | None = None
) -> Reservation:
    """Staff cancel a booking (the visitor is told by mail); confirmed seats are freed."""
    now = now or times.now_utc()
    with db.write(session):
        reservation, _locked = lock_booking(session, reference=reference)
        summary = reports.performance_summary(session, performance_id=reservation.performance_id)
        _cancel(session, reservation, summary, now)
        return reservation


def cancel_performance(
    session: Session, *, performance_id: int, now: datetime | None = None
) -> int:
    """Cancel a performance and every open booking of it, telling each visitor; returns how many."""
    now = now or times.now_utc()
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        if performance.cancelled_at is not None:
            raise errors.InvalidState(f"performance {performance_id} is already cancelled")
        summary = reports.performance_summary(session, performance_id=performance_id)
        open_bookings = list(
            session.exec(
                select(Reservation)
                .where(
                    Reservation.performance_id == performance_id,
                    col(Reservation.status).in_(
                        (ReservationStatus.PENDING, ReservationStatus.CONFIRMED)
                    ),
                )
                .order_by(col(Reservation.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        for reservation in open_bookings:
            _mark_cancelled(session, reservation, summary, now, kind="performance_cancelled")
        performance.cancelled_at = now
        performance.is_booking_enabled = False
        performance.updated_at = now
        return len(open_bookings)
