"""The season report (`azctl report`, DESIGN §8): who booked, who came, who did not, per date.

Per performance: its seats, the seats confirmed, checked in, the no-shows, the walk-ins sold at
the door, and how the waiting list went (entries joined, offered, booked); then the same summed
per show. Seat figures count people (party sizes); waiting-list figures count entries (parties).

A **no-show** is a confirmed booking not checked in when its check-in window has closed
(`reports.checkin_window`). Before the window closes nobody is a no-show yet: the figure is None,
not 0, so a report run during the evening does not call the latecomers absent. A show's no-shows
sum the performances whose window has closed (None if none has).

Walk-ins are read from the scan log, where the door writes one row per seat sold or given back
(`walkins`): sold minus given back. Everything here only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl.models import (
    CheckIn,
    Performance,
    Reservation,
    ReservationStatus,
    ScanLog,
    Show,
    Venue,
    WaitlistEntry,
    WaitlistStatus,
)
from azctl.services import catalog, reports, times, walkins


def _count_where(*conditions: Any) -> Any:
    return sa.func.count().filter(*conditions)


def _seats_where(*conditions: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(Reservation.party_size).filter(*conditions), 0)


@dataclass(frozen=True)
class Figures:
    """The counts a report line shows; `no_shows` is None until a check-in window has closed."""

    seats: int
    confirmed: int
    checked_in: int
    no_shows: int | None
    walk_ins: int
    waitlist_joined: int
    waitlist_offered: int
    waitlist_booked: int

    def __add__(self, other: Figures) -> Figures:
        summed: dict[str, Any] = {}
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            summed[field.name] = (
                None if mine is None and theirs is None else (mine or 0) + (theirs or 0)
            )
        return Figures(**summed)

    def as_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True)
class PerformanceLine:
    performance: Performance
    show: Show
    venue: Venue
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "performance_id": self.performance.id,
            "show": self.show.slug,
            "show_title": self.show.title,
            "venue": self.venue.slug,
            "starts_at": times.iso_local(self.performance.starts_at),
            "is_cancelled": self.performance.cancelled_at is not None,
            **self.figures.as_dict(),
        }


@dataclass(frozen=True)
class ShowLine:
    show: Show
    performances: int
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "show": self.show.slug,
            "show_title": self.show.title,
            "performances": self.performances,
            **self.figures.as_dict(),
        }


@dataclass(frozen=True)
class SeasonReport:
    performances: list[PerformanceLine]
    shows: list[ShowLine]

    # One CSV for both levels: a `level` column says which a line is.
    CSV_FIELDS: ClassVar[tuple[str, ...]] = (
        "level",
        "show",
        "show_title",
        "performance_id",
        "venue",
        "starts_at",
        "is_cancelled",
        "performances",
        *(field.name for field in fields(Figures)),
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "performances": [line.as_dict() for line in self.performances],
            "shows": [line.as_dict() for line in self.shows],
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        rows = [{"level": "performance", **line.as_dict()} for line in self.performances]
        rows.extend({"level": "show", **line.as_dict()} for line in self.shows)
        return rows


def _reservation_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per performance: confirmed seats, checked-in seats, confirmed seats not checked in."""
    confirmed = Reservation.status == ReservationStatus.CONFIRMED
    statement = (
        select(
            Reservation.performance_id,
            _seats_where(confirmed),
            _seats_where(col(CheckIn.id).is_not(None)),
            _seats_where(confirmed, col(CheckIn.id).is_(None)),
        )
        .outerjoin(CheckIn, CheckIn.reservation_id == Reservation.id)  # type: ignore[arg-type]
        .where(col(Reservation.performance_id).in_(ids))
        .group_by(col(Reservation.performance_id))
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in session.exec(statement)}


def _walk_ins(session: Session, ids: list[int]) -> dict[int, int]:
    statement = (
        select(
            ScanLog.performance_id,
            _count_where(ScanLog.result == walkins.SOLD)
            - _count_where(ScanLog.result == walkins.GIVEN_BACK),
        )
        .where(ScanLog.source == walkins.SOURCE, col(ScanLog.performance_id).in_(ids))
        .group_by(col(ScanLog.performance_id))
    )
    return {row[0]: max(0, int(row[1])) for row in session.exec(statement)}


def _waitlist(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per performance: entries that joined, that were ever offered seats, that booked."""
    statement = (
        select(
            WaitlistEntry.performance_id,
            sa.func.count(),
            _count_where(col(WaitlistEntry.offered_at).is_not(None)),
            _count_where(WaitlistEntry.status == WaitlistStatus.BOOKED),
        )
        .where(col(WaitlistEntry.performance_id).in_(ids))
        .group_by(col(WaitlistEntry.performance_id))
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in session.exec(statement)}


def season_report(
    session: Session,
    *,
    show_slug: str | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
) -> SeasonReport:
    """The report for the performances of `show_slug` (all shows if None) between two local
    days, both included (either may be open)."""
    now = now or times.now_utc()
    statement = (
        select(Performance, Show, Venue)
        .join(Show, Show.id == Performance.show_id)  # type: ignore[arg-type]
        .join(Venue, Venue.id == Performance.venue_id)  # type: ignore[arg-type]
        .order_by(col(Show.title), col(Show.id), col(Performance.starts_at), col(Performance.id))
    )
    if show_slug is not None:
        statement = statement.where(Show.id == catalog.get_show(session, slug=show_slug).id)
    if first_day is not None:
        statement = statement.where(Performance.starts_at >= times.local_day_bounds(first_day)[0])
    if last_day is not None:
        statement = statement.where(Performance.starts_at <= times.local_day_bounds(last_day)[1])
    found = list(session.exec(statement))
    ids = [performance.id for performance, _show, _venue in found if performance.id is not None]
    bookings = _reservation_counts(session, ids) if ids else {}
    walk_ins = _walk_ins(session, ids) if ids else {}
    waitlist = _waitlist(session, ids) if ids else {}

    lines: list[PerformanceLine] = []
    for performance, show, venue in found:
        assert performance.id is not None
        confirmed, checked_in, absent = bookings.get(performance.id, (0, 0, 0))
        _opens, closes = reports.checkin_window(performance)
        window_closed = closes <= now and performance.cancelled_at is None
        joined, offered, booked = waitlist.get(performance.id, (0, 0, 0))
        figures = Figures(
            seats=performance.room_capacity + performance.additional_seats,
            confirmed=confirmed,
            checked_in=checked_in,
            no_shows=absent if window_closed else None,
            walk_ins=walk_ins.get(performance.id, 0),
            waitlist_joined=joined,
            waitlist_offered=offered,
            waitlist_booked=booked,
        )
        lines.append(PerformanceLine(performance, show, venue, figures))

    shows: list[ShowLine] = []
    for line in lines:
        if shows and shows[-1].show.id == line.show.id:
            last = shows[-1]
            shows[-1] = ShowLine(last.show, last.performances + 1, last.figures + line.figures)
        else:
            shows.append(ShowLine(line.show, 1, line.figures))
    return SeasonReport(performances=lines, shows=shows)
