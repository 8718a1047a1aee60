"""What a visitor may see: published shows, their upcoming performances and the seats left.

Never anything about other visitors; the seat count is the only figure shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from azctl import errors
from azctl.models import Show
from azctl.services import booking, catalog, reports, times


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
