"""Reminders: one mail per confirmed booking, `AZCTL_REMINDER_BEFORE` before its performance
(DESIGN §8). `queue_due_reminders` is one of the worker's kinds of work.

**The moment** is counted on the theatre's wall clock: with `24h`, a performance on Sunday at
20:30 is reminded on Saturday at 20:30 local time, also on the nights the clocks change (then
23 or 25 real hours before; `times.wall_clock_before`). A visitor reads "24 hours before" as "the
same time the day before", and a reminder an hour off on two weekends a year would read as a
mistake.

**Who gets one**: every confirmed booking of a performance not cancelled, once its moment has
come and while the performance is still ahead, if no reminder was queued for it
(`reminder_queued_at`) and it is not checked in already. A booking confirmed at or after the
moment (`confirmed_at`, or its creation for a row without one) gets none: its ticket mail has
just told it everything. Nothing marks it; the rule is read again from `confirmed_at` each
round, so when the performance moves (`performance_moves`) and the moment with it, such a
booking is reminded at the new moment if it was confirmed before that one.

**Exactly once**, with any number of workers: each performance's reminders are queued in one
transaction that holds its lock (the lock order: performance, then its reservations), and
`reminder_queued_at` is set in the same transaction as each outbox row. On PostgreSQL the
performance is taken `FOR UPDATE SKIP LOCKED`: a worker that finds it taken (by another worker,
or a confirmation) moves on to the next, and the rest is done in a later round. SQLite has one
writer at a time (`BEGIN IMMEDIATE`), so there the second worker waits, then finds nothing left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from azctl import db
from azctl.models import CheckIn, Performance, Reservation, ReservationStatus
from azctl.models.base import UTCDateTime
from azctl.services import calendar_mails, reports, times
from azctl.settings import get_settings

# The wall-clock moment is at most the DST shift (an hour) from the real one; looking this far
# past `before` finds every performance that might be due.
_SLACK = timedelta(hours=3)
# Bookings reminded per transaction: the performance's lock is held for one batch at a time.
BATCH = 100

# When a booking became confirmed; rows confirmed before `confirmed_at` was kept count from their
# creation.
_CONFIRMED_AT = sa.type_coerce(
    func.coalesce(Reservation.confirmed_at, Reservation.created_at), UTCDateTime
)
# Confirmed, not reminded yet, and not already in the hall (with a short REMINDER_BEFORE the door
# may open before the moment).
_UNREMINDED = (
    col(Reservation.status) == ReservationStatus.CONFIRMED,
    col(Reservation.reminder_queued_at).is_(None),
    ~sa.exists().where(col(CheckIn.reservation_id) == Reservation.id),
)


def reminder_moment(starts_at: datetime, before: timedelta | None = None) -> datetime | None:
    """When a performance starting at `starts_at` is reminded; None when reminders are off."""
    before = before if before is not None else get_settings().reminder_before
    if before is None:
        return None
    return times.wall_clock_before(starts_at, before)


def _due_performances(session: Session, now: datetime, before: timedelta) -> list[int]:
    """The performances with a booking to remind now, read without a lock, in start order."""
    earliest_confirmed = sa.type_coerce(func.min(_CONFIRMED_AT), UTCDateTime)
    rows = session.exec(
        select(Performance.id, Performance.starts_at, earliest_confirmed)
        .join(Reservation, col(Reservation.performance_id) == Performance.id)
        .where(
            col(Performance.cancelled_at).is_(None),
            col(Performance.starts_at) > now,
            col(Performance.starts_at) <= now + before + _SLACK,
            *_UNREMINDED,
        )
        .group_by(col(Performance.id), col(Performance.starts_at))
        .order_by(col(Performance.starts_at), col(Performance.id))
    ).all()
    due = []
    for performance_id, starts_at, confirmed_at in rows:
        moment = times.wall_clock_before(starts_at, before)
        if moment <= now and confirmed_at < moment:
            due.append(performance_id)
    return due


def _remind_batch(session: Session, performance_id: int, now: datetime, before: timedelta) -> int:
    """Queue up to BATCH reminders of one performance, in one transaction; returns how many."""
    with db.write(session):
        performance = session.exec(
            select(Performance)
            .where(Performance.id == performance_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).first()
        if performance is None:  # another worker holds it (or it is gone): a later round
            return 0
        # Judged again under the lock: it may have moved or been cancelled since the first look.
        moment = times.wall_clock_before(performance.starts_at, before)
        if performance.cancelled_at is not None or not (moment <= now < performance.starts_at):
            return 0
        reservations = session.exec(
            select(Reservation)
            .where(
                Reservation.performance_id == performance_id,
                *_UNREMINDED,
                _CONFIRMED_AT < moment,  # noqa: SIM300 (a column expression, not a constant)
            )
            .order_by(col(Reservation.id))
            .limit(BATCH)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        if not reservations:
            return 0
        summary = reports.performance_summary(session, performance_id=performance_id)
        for reservation in reservations:
            calendar_mails.queue_reminder_mail(session, reservation, summary)
            reservation.reminder_queued_at = now
        return len(reservations)


def queue_due_reminders(engine: Engine, now: datetime | None = None) -> int:
    """Queue every reminder that is due at `now`; returns how many were queued (a worker kind)."""
    now = now or times.now_utc()
    before = get_settings().reminder_before
    if before is None:
        return 0
    queued = 0
    with db.new_session(engine) as session:
        for performance_id in _due_performances(session, now, before):
            while True:
                done = _remind_batch(session, performance_id, now, before)
                queued += done
                if done < BATCH:
                    break
    return queued
