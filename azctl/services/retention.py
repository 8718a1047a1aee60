"""Retention (DESIGN §8): personal data is kept `AZCTL_RETENTION` after a performance starts,
then erased, and the counts kept.

For every performance that started more than the retention ago, the name, email, phone and notes
of its reservations and waiting-list entries are erased and `erased_at` set; the rows stay, with
their party sizes, states, check-ins and scans, so every count and report stays right. The outbox
rows of those reservations lose their address and their context (names, links) too.

One transaction per performance, under its lock (the lock order of DESIGN §3: the performance,
then what references it), taken with `SKIP LOCKED` on PostgreSQL so that several workers share
the due performances instead of queueing on one. Each UPDATE picks only rows not erased yet, so
two workers, or a worker killed halfway, never erase twice nor leave a row half done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import (
    OutboxMessage,
    OutboxStatus,
    Performance,
    Reservation,
    WaitlistEntry,
    WaitlistStatus,
)
from azctl.services import times
from azctl.settings import get_settings

# What an erased row says instead of a name; its email is empty and its phone and notes gone.
ERASED_NAME = "(erased)"
ERASED_EMAIL = ""
# Performances erased per transaction round trip to find them (each its own transaction).
PERFORMANCES_PER_ROUND = 50
_ACTIVE_ENTRY = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def cutoff(now: datetime, retention: timedelta | None = None) -> datetime | None:
    """Performances that started before this moment are past retention; None when it is off."""
    kept = retention if retention is not None else get_settings().retention
    return None if kept is None else now - kept


def _unerased(performance_id: int) -> sa.ColumnElement[bool]:
    """A due performance: some reservation or waiting-list entry of it still holds its data."""
    return sa.or_(
        sa.exists().where(
            Reservation.performance_id == performance_id, col(Reservation.erased_at).is_(None)
        ),
        sa.exists().where(
            WaitlistEntry.performance_id == performance_id,
            col(WaitlistEntry.erased_at).is_(None),
        ),
        sa.exists().where(
            col(OutboxMessage.reservation_id) == Reservation.id,
            Reservation.performance_id == performance_id,
            col(Reservation.erased_at).is_not(None),
            OutboxMessage.to_address != ERASED_EMAIL,
            OutboxMessage.status != OutboxStatus.SENDING,
        ),
        sa.exists().where(
            col(OutboxMessage.waitlist_entry_id) == WaitlistEntry.id,
            WaitlistEntry.performance_id == performance_id,
            col(WaitlistEntry.erased_at).is_not(None),
            OutboxMessage.to_address != ERASED_EMAIL,
            OutboxMessage.status != OutboxStatus.SENDING,
        ),
    )


def due_performances(session: Session, *, before: datetime, limit: int) -> list[int]:
    """Ids of performances started before `before` with personal data still to erase."""
    return list(
        session.exec(
            select(Performance.id)
            .where(col(Performance.starts_at) < before, _unerased(Performance.id))  # type: ignore[arg-type]
            .order_by(col(Performance.id))
            .limit(limit)
        )
    )


def erase_performance(session: Session, *, performance_id: int, now: datetime) -> int | None:
    """Erase the personal data of one performance's bookings and waiting list; returns how many
    rows were erased, or None when another worker holds the performance right now (it is doing
    this very work, or a booking change is: the next round comes back to it)."""
    with db.write(session):
        locked = session.exec(
            select(Performance.id)
            .where(Performance.id == performance_id)
            .with_for_update(skip_locked=True)
        ).first()
        if locked is None:
            return None
        erased = _erase_reservations(session, performance_id, now)
        erased += _erase_waitlist(session, performance_id, now)
        _scrub_outbox(session, performance_id)
        return erased


def _erase_reservations(session: Session, performance_id: int, now: datetime) -> int:
    result = session.execute(
        sa.update(Reservation)
        .where(Reservation.performance_id == performance_id, col(Reservation.erased_at).is_(None))
        .values(name=ERASED_NAME, email=ERASED_EMAIL, phone=None, notes=None, erased_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _erase_waitlist(session: Session, performance_id: int, now: datetime) -> int:
    """Entries still on the list (waiting, offered) keep a distinct email, `erased-ID`: at most
    one active entry per email per performance is allowed, and no address is personal data."""
    unerased = (
        WaitlistEntry.performance_id == performance_id,
        col(WaitlistEntry.erased_at).is_(None),
    )
    erased_email = sa.case(
        (
            col(WaitlistEntry.status).in_(_ACTIVE_ENTRY),
            sa.literal("erased-") + sa.cast(WaitlistEntry.id, sa.String),
        ),
        else_=sa.literal(ERASED_EMAIL),
    )
    result = session.execute(
        sa.update(WaitlistEntry)
        .where(*unerased)
        .values(name=ERASED_NAME, email=erased_email, phone=None, notes=None, erased_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _scrub_outbox(session: Session, performance_id: int) -> None:
    """The mail of the erased bookings loses its address and context; mail still queued a
    retention after its performance is given up rather than sent to nobody. A message being
    sent right now is left to its sender and scrubbed by a later round. The outbox has no
    erasure mark of its own: the empty address is the mark."""
    erased = select(Reservation.id).where(
        Reservation.performance_id == performance_id, col(Reservation.erased_at).is_not(None)
    )
    erased_entries = select(WaitlistEntry.id).where(
        WaitlistEntry.performance_id == performance_id, col(WaitlistEntry.erased_at).is_not(None)
    )
    base = sa.update(OutboxMessage).where(
        sa.or_(
            col(OutboxMessage.reservation_id).in_(erased),
            col(OutboxMessage.waitlist_entry_id).in_(erased_entries),
        ),
        OutboxMessage.status != OutboxStatus.SENDING,
    )
    scrubbed = {"to_address": ERASED_EMAIL, "context": {}}
    session.execute(
        base.where(OutboxMessage.status == OutboxStatus.QUEUED)
        .values(
            **scrubbed, status=OutboxStatus.FAILED, last_error="erased by retention before delivery"
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        base.where(OutboxMessage.to_address != ERASED_EMAIL)
        .values(**scrubbed)
        .execution_options(synchronize_session=False)
    )


def erase_due(
    session: Session,
    *,
    now: datetime | None = None,
    retention: timedelta | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Erase what is past retention (`AZCTL_RETENTION`, or `retention`); returns how many
    reservations and waiting-list entries were erased. Nothing when retention is off.

    `stop` is asked between performances: True ends the work after the one in hand.
    """
    now = now or times.now_utc()
    before = cutoff(now, retention)
    if before is None:
        return 0
    total = 0
    skipped: set[int] = set()
    while True:
        if session.in_transaction():
            session.commit()
        due = [
            performance_id
            for performance_id in due_performances(
                session, before=before, limit=PERFORMANCES_PER_ROUND + len(skipped)
            )
            if performance_id not in skipped
        ]
        if not due:
            return total
        for performance_id in due:
            if stop is not None and stop():
                return total
            erased = erase_performance(session, performance_id=performance_id, now=now)
            if erased is None:
                skipped.add(performance_id)
            else:
                total += erased
