"""Staff and scheduled upkeep of bookings: fresh links by mail, lapsed pendings expired."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import Reservation, ReservationStatus, TokenPurpose
from azctl.services import reports, times
from azctl.services.booking import mails, rules
from azctl.services.booking.locking import lock_booking

_LAPSED = (
    col(Reservation.status) == ReservationStatus.PENDING,
    col(Reservation.expires_at) <= sa.bindparam("now"),
)


def resend(session: Session, *, reference: str, now: datetime | None = None) -> Reservation:
    """Mail the visitor fresh links, revoking the old ones (raw tokens are never stored).

    Pending: a new confirmation link (and a new deadline); confirmed: a new ticket.
    """
    now = now or times.now_utc()
    with db.write(session):
        reservation, _locked = lock_booking(session, reference=reference)
        summary = reports.performance_summary(session, performance_id=reservation.performance_id)
        rules.refuse_resend(reservation, summary.performance, now)
        if reservation.status == ReservationStatus.PENDING:
            mails.revoke_tokens(
                session, reservation, (TokenPurpose.CONFIRMATION, TokenPurpose.CANCEL), now
            )
            mails.queue_confirmation_mail(session, reservation, summary, now)
        else:
            mails.revoke_tokens(
                session, reservation, (TokenPurpose.CHECK_IN, TokenPurpose.CANCEL), now
            )
            mails.queue_ticket_mail(session, reservation, summary)
        reservation.updated_at = now
        return reservation


def expire_pending(session: Session, *, now: datetime | None = None) -> int:
    """Mark pending reservations whose confirmation link has lapsed as expired; returns how many.

    In the lock order like every change of a booking: the performances concerned first, in
    ascending id, then one UPDATE whose WHERE is checked again row by row, so a confirmation
    committed meanwhile is never overwritten.
    """
    now = now or times.now_utc()
    with db.write(session):
        due = session.exec(
            select(Reservation.performance_id).where(*_LAPSED).distinct(), params={"now": now}
        ).all()
        if not due:
            return 0
        db.lock_performances(session, due)
        statement = (
            sa.update(Reservation)
            .where(*_LAPSED, col(Reservation.performance_id).in_(due))
            .values(status=ReservationStatus.EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return session.exec(statement, params={"now": now}).rowcount  # type: ignore[call-overload]
