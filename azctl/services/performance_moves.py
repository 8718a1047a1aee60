"""Moving a performance to another date or time (`perf move`, DESIGN §5 and §8).

In one transaction, under the performance's lock and then its bookings' (the lock order):
refuse what cannot move, set the new start, carry every open link's expiry that depends on the
start along with it, let the reminders follow the new time, and mail every visitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import (
    Performance,
    Reservation,
    ReservationStatus,
    ReservationToken,
    TokenPurpose,
)
from azctl.services import calendar_mails, reminders, reports, times
from azctl.settings import get_settings


@dataclass(frozen=True)
class MovedPerformance:
    performance: Performance
    previous_start: datetime
    confirmed_told: int  # confirmed bookings mailed the new time with their ticket
    pending_told: int  # pending bookings mailed a note


def _refuse(session: Session, performance: Performance, starts_at: datetime, now: datetime) -> None:
    """Every reason a performance cannot move to `starts_at`, judged under its lock."""
    if performance.cancelled_at is not None:
        raise errors.InvalidState(f"performance {performance.id} is cancelled")
    if performance.starts_at <= now:
        raise errors.InvalidState(
            f"performance {performance.id} has already started"
            f" ({times.to_local(performance.starts_at):%Y-%m-%d %H:%M}); it cannot move"
        )
    times.refuse_past(starts_at, now=now, field="--at")
    if starts_at == performance.starts_at:
        raise errors.InvalidInput(
            "at", f"performance {performance.id} already starts at {times.short_local(starts_at)}"
        )
    clash = session.exec(
        select(Performance.id).where(
            Performance.show_id == performance.show_id,
            Performance.venue_id == performance.venue_id,
            Performance.starts_at == starts_at,
            Performance.id != performance.id,
        )
    ).first()
    if clash is not None:
        raise _clash(session, performance, starts_at)


def _clash(session: Session, performance: Performance, starts_at: datetime) -> errors.Conflict:
    summary = reports.performance_summary(session, performance_id=performance.id or 0)
    return errors.Conflict(
        f"{summary.show.slug} already plays at {summary.venue.slug}"
        f" on {times.short_local(starts_at)}"
    )


def _confirm_by(token: ReservationToken, previous_start: datetime, new_start: datetime) -> datetime:
    """A confirm link never outlives the start. One cut short by the old start (its expiry is
    the old start) gets back what AZCTL_CONFIRM_TTL gave it from its issue, at least the old
    start; either way, no later than the new start."""
    unclamped = token.expires_at
    if token.expires_at >= previous_start:
        unclamped = max(token.created_at + get_settings().confirm_ttl, previous_start)
    return min(unclamped, new_start)


def _move_links(
    session: Session, performance: Performance, reservations: list[Reservation], previous: datetime
) -> None:
    """Open links whose expiry is tied to the start follow it: cancel links expire at the start,
    check-in links when the door closes, confirm links never after the start. A pending
    booking lapses with its newest confirm link, as when it was mailed."""
    by_id = {reservation.id: reservation for reservation in reservations}
    if not by_id:
        return
    _opens, closes = reports.checkin_window(performance)
    open_tokens = session.exec(
        select(ReservationToken)
        .where(
            col(ReservationToken.reservation_id).in_(list(by_id)),
            col(ReservationToken.revoked_at).is_(None),
            col(ReservationToken.used_at).is_(None),
        )
        .order_by(col(ReservationToken.id))
    ).all()
    for token in open_tokens:
        if token.purpose == TokenPurpose.CANCEL:
            token.expires_at = performance.starts_at
        elif token.purpose == TokenPurpose.CHECK_IN:
            token.expires_at = closes
        elif token.purpose == TokenPurpose.CONFIRMATION:
            token.expires_at = _confirm_by(token, previous, performance.starts_at)
            reservation = by_id[token.reservation_id]
            if reservation.status == ReservationStatus.PENDING:
                reservation.expires_at = token.expires_at  # the newest link's, by id order


def _follow_reminders(
    performance: Performance, reservations: list[Reservation], now: datetime
) -> None:
    """Reminders follow the new time: if its moment is still ahead, each confirmed booking is
    reminded again then; if it has passed, this move's mail (which carries all a reminder
    does) stands for it, so no reminder follows it a minute later."""
    moment = reminders.reminder_moment(performance.starts_at)
    if moment is None:
        return
    for reservation in reservations:
        if reservation.status == ReservationStatus.CONFIRMED:
            reservation.reminder_queued_at = None if moment > now else now


def _still_confirmable(reservation: Reservation, now: datetime) -> bool:
    """A pending booking whose confirm link has not lapsed: told that the link still works."""
    return reservation.expires_at is None or reservation.expires_at > now


def move_performance(
    session: Session, *, performance_id: int, starts_at: datetime, now: datetime | None = None
) -> MovedPerformance:
    """Move a performance to `starts_at` (aware) and tell every visitor; or a refusal that
    changes nothing: a time in the past, a cancelled or started performance, or the same
    show already at that venue then."""
    now = now or times.now_utc()
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        _refuse(session, performance, starts_at, now)
        reservations = list(
            session.exec(
                select(Reservation)
                .where(
                    Reservation.performance_id == performance_id,
                    col(Reservation.status).in_(
                        [ReservationStatus.PENDING, ReservationStatus.CONFIRMED]
                    ),
                )
                .order_by(col(Reservation.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        )
        previous = performance.starts_at
        performance.starts_at = starts_at
        performance.updated_at = now
        session.add(performance)
        try:
            session.flush()
        except IntegrityError:  # the same show and venue taken at that time by a writer meanwhile
            raise errors.Conflict("that show already plays at that venue then") from None
        _move_links(session, performance, reservations, previous)
        _follow_reminders(performance, reservations, now)
        summary = reports.performance_summary(session, performance_id=performance_id)
        told = {ReservationStatus.CONFIRMED: 0, ReservationStatus.PENDING: 0}
        for reservation in reservations:
            confirmed = reservation.status == ReservationStatus.CONFIRMED
            if not confirmed and not _still_confirmable(reservation, now):
                continue
            calendar_mails.queue_moved_mail(
                session, reservation, summary, previous_start=previous, confirmed=confirmed
            )
            reservation.updated_at = now
            told[ReservationStatus(reservation.status)] += 1
        return MovedPerformance(
            performance=performance,
            previous_start=previous,
            confirmed_told=told[ReservationStatus.CONFIRMED],
            pending_told=told[ReservationStatus.PENDING],
        )
