"""What a visitor may see: published shows, their upcoming performances and the seats left.

Never anything about other visitors; the seat count is the only figure shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from azctl import errors
from azctl.models import Show
from azctl.services import booking, catalog, reports, times
from azctl.settings import get_settings


def performance_dict(summary: reports.PerformanceSummary, now: datetime) -> dict[str, Any]:
    venue = summary.venue
    state = booking.booking_state(summary.performance, now)
    return {
        "id": summary.performance.id,
        "show": summary.show.slug,
        "starts_at": times.iso_local(summary.performance.starts_at),
        "venue": {
            "slug": venue.slug,
            "name": venue.name,
            "city": venue.city,
            "address": venue.address,
        },
        "available_seats": summary.seats.available_seats,
        "booking": state,
        "is_bookable": state == "open" and summary.seats.available_seats > 0,
    }


def _show_dict(show: Show, performances: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "slug": show.slug,
        "title": show.title,
        "summary": show.summary,
        "description": show.description,
        "performances": performances,
    }


def _upcoming(
    session: Session, now: datetime, show_slug: str | None = None
) -> list[reports.PerformanceSummary]:
    return [
        summary
        for summary in reports.list_performances(
            session, show_slug=show_slug, upcoming_from=now, published_only=True
        )
        if summary.performance.cancelled_at is None
    ]


def list_shows(session: Session, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Published shows that can be booked now, each with its upcoming performances."""
    now = now or times.now_utc()
    by_show: dict[int, tuple[Show, list[dict[str, Any]]]] = {}
    for summary in _upcoming(session, now):
        _show, performances = by_show.setdefault(summary.show.id or 0, (summary.show, []))
        performances.append(performance_dict(summary, now))
    return [
        _show_dict(show, performances)
        for show, performances in by_show.values()
        if any(performance["is_bookable"] for performance in performances)
    ]


def get_show(session: Session, *, slug: str, now: datetime | None = None) -> dict[str, Any]:
    """One published show and its upcoming performances; unpublished ones do not exist here."""
    now = now or times.now_utc()
    show = catalog.get_show(session, slug=slug)
    if not show.is_published:
        raise errors.NotFound(f"no show with slug {slug!r}")
    return _show_dict(show, [performance_dict(s, now) for s in _upcoming(session, now, slug)])


# What a visitor's page says of a performance, one word each: the Book link is shown only when
# it is `open` or `few_left`. Closed comes before sold out: a waiting list makes no sense for a
# performance that takes no bookings at all.
OPEN, FEW_LEFT, SOLD_OUT, CLOSED = "open", "few_left", "sold_out", "closed"


@dataclass(frozen=True)
class PerformanceRow:
    """One upcoming performance as a visitor's page lists it: plain values, safe to keep in a
    worker's cache and to hand to a template."""

    id: int
    starts_at: datetime
    venue: str
    address: str
    free_seats: int
    status: str

    @property
    def is_bookable(self) -> bool:
        return self.status in (OPEN, FEW_LEFT)


@dataclass(frozen=True)
class ShowRow:
    """A published show and its upcoming performances, in start order."""

    slug: str
    title: str
    summary: str | None
    description: str | None
    poster_src: str | None
    performances: tuple[PerformanceRow, ...]


def availability(summary: reports.PerformanceSummary, now: datetime, *, few_seats: int) -> str:
    """The one word a page shows for a performance (see OPEN … CLOSED above)."""
    if booking.booking_state(summary.performance, now) != "open":
        return CLOSED
    free = summary.seats.available_seats
    if free <= 0:
        return SOLD_OUT
    return FEW_LEFT if free < few_seats else OPEN


def _performance_row(
    summary: reports.PerformanceSummary, now: datetime, few_seats: int
) -> PerformanceRow:
    return PerformanceRow(
        id=summary.performance.id or 0,
        starts_at=summary.performance.starts_at,
        venue=summary.venue.name,
        address=catalog.venue_line(summary.venue),
        free_seats=summary.seats.available_seats,
        status=availability(summary, now, few_seats=few_seats),
    )


def _show_row(show: Show, performances: list[PerformanceRow]) -> ShowRow:
    return ShowRow(
        slug=show.slug,
        title=show.title,
        summary=show.summary,
        description=show.description,
        poster_src=show.poster_src,
        performances=tuple(performances),
    )


def season(session: Session, *, now: datetime | None = None) -> list[ShowRow]:
    """The season page: every published show with an upcoming performance that is not cancelled.

    Unlike the API's list (shows that can be booked now), a sold-out or closed run stays on the
    season: it is still on, and its page says why it cannot be booked (or offers the waiting list).
    """
    now = now or times.now_utc()
    few_seats = get_settings().few_seats
    by_show: dict[int, tuple[Show, list[PerformanceRow]]] = {}
    for summary in _upcoming(session, now):
        _show, rows = by_show.setdefault(summary.show.id or 0, (summary.show, []))
        rows.append(_performance_row(summary, now, few_seats))
    return [_show_row(show, rows) for show, rows in by_show.values()]


def show_page(session: Session, *, slug: str, now: datetime | None = None) -> ShowRow:
    """One published show and its upcoming performances; unpublished ones do not exist here."""
    now = now or times.now_utc()
    show = catalog.get_show(session, slug=slug)
    if not show.is_published:
        raise errors.NotFound(f"no show with slug {slug!r}")
    few_seats = get_settings().few_seats
    rows = [_performance_row(s, now, few_seats) for s in _upcoming(session, now, show.slug)]
    return _show_row(show, rows)
