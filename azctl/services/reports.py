"""Read-only views of performances that every front end shows: seats, window, state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import Performance, Reservation, ReservationStatus, Show, Venue
from azctl.services import catalog, times
from azctl.services.capacity import (
    SeatCounts,
    checked_in_seats_of,
    confirmed_seats_of,
    held_seats_of,
)
from azctl.settings import get_settings


def checkin_window(performance: Performance) -> tuple[datetime, datetime]:
    """When the door opens and closes for this performance (its own window or the default)."""
    settings = get_settings()
    opens_before = (
        settings.checkin_opens_before
        if performance.checkin_opens_before_minutes is None
        else timedelta(minutes=performance.checkin_opens_before_minutes)
    )
    closes_after = (
        settings.checkin_closes_after
        if performance.checkin_closes_after_minutes is None
        else timedelta(minutes=performance.checkin_closes_after_minutes)
    )
    return performance.starts_at - opens_before, performance.starts_at + closes_after


@dataclass(frozen=True)
class PerformanceSummary:
    performance: Performance
    show: Show
    venue: Venue
    seats: SeatCounts
    pending_reservations: int

    @property
    def label(self) -> str:
        """How staff name it: `La Locandiera, Sat 12 Dec 20:30`."""
        return f"{self.show.title}, {times.short_local(self.performance.starts_at)}"

    @property
    def booking_state(self) -> str:
        """`open`, `closed`, `started` or `cancelled` now: one word for lists and door screens,
        by the same rule that refuses a booking."""
        # Imported here: the booking package reads these summaries, so it imports this module.
        from azctl.services.booking.rules import booking_state

        return booking_state(self.performance, times.now_utc())

    def as_dict(self) -> dict[str, Any]:
        performance, seats = self.performance, self.seats
        opens, closes = checkin_window(performance)
        return {
            "id": performance.id,
            "show": self.show.slug,
            "show_title": self.show.title,
            "venue": self.venue.slug,
            "venue_name": self.venue.name,
            "starts_at": times.iso_local(performance.starts_at),
            "room_capacity": seats.room_capacity,
            "additional_seats": seats.additional_seats,
            "manually_occupied_seats": seats.manually_occupied_seats,
            "confirmed_seats": seats.confirmed_seats,
            "held_seats": seats.held_seats,
            "available_seats": seats.available_seats,
            "checked_in_seats": seats.checked_in_seats,
            "pending_reservations": self.pending_reservations,
            "is_booking_enabled": performance.is_booking_enabled,
            "is_cancelled": performance.cancelled_at is not None,
            "booking": self.booking_state,
            "checkin_opens_at": times.iso_local(opens),
            "checkin_closes_at": times.iso_local(closes),
        }


# Built once: the subqueries cost Python more to build than the database takes to run them.
_PENDING = (
    select(sa.func.count())
    .where(
        Reservation.performance_id == Performance.id,
        Reservation.status == ReservationStatus.PENDING,
    )
    .scalar_subquery()
)
_SUMMARIES = (
    select(
        Performance,
        Show,
        Venue,
        confirmed_seats_of(Performance.id),
        checked_in_seats_of(Performance.id),
        _PENDING,
        held_seats_of(Performance.id),
    )
    .join(Show, Show.id == Performance.show_id)  # type: ignore[arg-type]
    .join(Venue, Venue.id == Performance.venue_id)  # type: ignore[arg-type]
    .order_by(col(Performance.starts_at), col(Performance.id))
    # A stored poster is read only by /posters/{hash}: not once per row of every listing.
    .options(defer(Show.poster_image))  # type: ignore[arg-type]
    .execution_options(populate_existing=True)
)


def _summaries(session: Session, *conditions: Any) -> list[PerformanceSummary]:
    statement = _SUMMARIES.where(*conditions)
    return [
        PerformanceSummary(
            performance=performance,
            show=show,
            venue=venue,
            seats=SeatCounts(
                room_capacity=performance.room_capacity,
                additional_seats=performance.additional_seats,
                manually_occupied_seats=performance.manually_occupied_seats,
                confirmed_seats=int(confirmed),
                checked_in_seats=int(checked_in),
                held_seats=int(held),
            ),
            pending_reservations=int(pending_count),
        )
        for performance, show, venue, confirmed, checked_in, pending_count, held in session.exec(
            statement
        )
    ]


def performance_summary(session: Session, *, performance_id: int) -> PerformanceSummary:
    found = _summaries(session, Performance.id == performance_id)
    if not found:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return found[0]


def list_performances(
    session: Session,
    *,
    show_slug: str | None = None,
    venue_slug: str | None = None,
    on_day: date | None = None,
    upcoming_from: datetime | None = None,
    published_only: bool = False,
    ids: Collection[int] | None = None,
) -> list[PerformanceSummary]:
    """Performances in start order, narrowed by any of the filters given."""
    conditions: list[Any] = []
    if ids is not None:
        conditions.append(col(Performance.id).in_(ids))
    if show_slug is not None:
        conditions.append(Show.id == catalog.get_show(session, slug=show_slug).id)
    if venue_slug is not None:
        conditions.append(Venue.id == catalog.get_venue(session, slug=venue_slug).id)
    if on_day is not None:
        start, end = times.local_day_bounds(on_day)
        conditions.append(col(Performance.starts_at).between(start, end))
    if upcoming_from is not None:
        conditions.append(Performance.starts_at > upcoming_from)
    if published_only:
        conditions.append(col(Show.is_published).is_(True))
    return _summaries(session, *conditions)
