"""Venues, shows and performances: what the theatre offers, and when."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, SQLModel, select

from azctl import db, errors
from azctl.models import Performance, Show, Venue, utcnow
from azctl.services import posters, times, validation

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_Record = TypeVar("_Record", bound=SQLModel)
_Sluggable = TypeVar("_Sluggable", Venue, Show)


def _flush(session: Session, record: _Record, *, clash: str) -> _Record:
    """Write one new or changed record now, so a UNIQUE clash surfaces as a Conflict.

    The slugs are checked before, but two admins may take the same one at the same moment.
    """
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise errors.Conflict(clash) from None
    return record


def _refuse_taken_slug(session: Session, table: type[Venue] | type[Show], slug: str) -> None:
    if session.exec(select(table.id).where(table.slug == slug)).first() is not None:
        raise errors.Conflict(f"a {table.__name__.lower()} with slug {slug!r} already exists")


def _slug_for(title: str, slug: str | None, *, field: str) -> str:
    return validation.slug(slug) if slug else validation.slugify(title, field=field)


def add_venue(
    session: Session,
    *,
    name: str,
    city: str,
    address: str | None = None,
    slug: str | None = None,
    notes: str | None = None,
) -> Venue:
    name = validation.required_text("name", name, max_length=200)
    venue = Venue(
        name=name,
        slug=_slug_for(name, slug, field="name"),
        city=validation.required_text("city", city, max_length=120),
        address=validation.optional_text("address", address, max_length=300),
        notes=validation.optional_text("notes", notes, max_length=2000),
    )
    with db.write(session):
        _refuse_taken_slug(session, Venue, venue.slug)
        return _flush(session, venue, clash=f"a venue with slug {venue.slug!r} already exists")


def list_venues(session: Session) -> list[Venue]:
    return list(session.exec(select(Venue).order_by(Venue.name)))


def _by_slug(session: Session, table: type[_Sluggable], slug: str) -> _Sluggable:
    cleaned = slug.strip().lower()
    # What cannot be a slug is not looked up: PostgreSQL refuses some text (NUL) outright.
    found = None
    if validation.is_slug(cleaned):
        statement = select(table).where(table.slug == cleaned)
        if table is Show:
            # A stored poster may be a few hundred KB: read only by what serves or changes it.
            statement = statement.options(defer(Show.poster_image))  # type: ignore[arg-type]
        found = session.exec(statement).first()
    if found is None:
        raise errors.NotFound(f"no {table.__name__.lower()} with slug {slug!r}")
    return found


def _change_slug(session: Session, record: Venue | Show, new_slug: str | None) -> None:
    if new_slug is not None and validation.slug(new_slug) != record.slug:
        _refuse_taken_slug(session, type(record), validation.slug(new_slug))
        record.slug = validation.slug(new_slug)


def get_venue(session: Session, *, slug: str) -> Venue:
    return _by_slug(session, Venue, slug)


def edit_venue(
    session: Session,
    *,
    slug: str,
    name: str | None = None,
    city: str | None = None,
    address: str | None = None,
    notes: str | None = None,
    new_slug: str | None = None,
) -> Venue:
    """Change the given fields; an empty string clears an optional one."""
    with db.write(session):
        venue = get_venue(session, slug=slug)
        if name is not None:
            venue.name = validation.required_text("name", name, max_length=200)
        if city is not None:
            venue.city = validation.required_text("city", city, max_length=120)
        if address is not None:
            venue.address = validation.optional_text("address", address, max_length=300)
        if notes is not None:
            venue.notes = validation.optional_text("notes", notes, max_length=2000)
        _change_slug(session, venue, new_slug)
        venue.updated_at = utcnow()
        return _flush(session, venue, clash=f"a venue with slug {venue.slug!r} already exists")


def add_show(
    session: Session,
    *,
    title: str,
    slug: str | None = None,
    summary: str | None = None,
    description: str | None = None,
    publish: bool = False,
) -> Show:
    title = validation.required_text("title", title, max_length=200)
    show = Show(
        title=title,
        slug=_slug_for(title, slug, field="title"),
        summary=_summary(summary),
        description=_description(description),
        is_published=publish,
    )
    with db.write(session):
        _refuse_taken_slug(session, Show, show.slug)
        return _flush(session, show, clash=f"a show with slug {show.slug!r} already exists")


def list_shows(session: Session, *, published_only: bool = False) -> list[Show]:
    statement = select(Show).order_by(Show.title)
    if published_only:
        statement = statement.where(Show.is_published)
    return list(session.exec(statement))


def get_show(session: Session, *, slug: str) -> Show:
    return _by_slug(session, Show, slug)


def _summary(text: str | None) -> str | None:
    """One line for listings: line breaks folded into spaces."""
    return validation.one_line_text("summary", text, max_length=500)


def _description(text: str | None) -> str | None:
    """Plain text in paragraphs (blank lines between them); never HTML: pages escape it."""
    return validation.paragraphs_text("description", text, max_length=10000)


def edit_show(
    session: Session,
    *,
    slug: str,
    title: str | None = None,
    summary: str | None = None,
    description: str | None = None,
    new_slug: str | None = None,
    poster: posters.Poster | None = None,
    remove_poster: bool = False,
) -> Show:
    """Change the given fields; an empty string clears an optional one.

    `poster` (made by `posters.from_source`, before this opens its transaction, since reading and
    re-encoding an image can take a moment) replaces the show's poster; `remove_poster` removes it.
    """
    if poster is not None and remove_poster:
        raise errors.InvalidInput("poster", "give a poster or remove it, not both")
    with db.write(session):
        show = get_show(session, slug=slug)
        if title is not None:
            show.title = validation.required_text("title", title, max_length=200)
        if summary is not None:
            show.summary = _summary(summary)
        if description is not None:
            show.description = _description(description)
        if poster is not None or remove_poster:
            posters.apply(show, poster)
        _change_slug(session, show, new_slug)
        show.updated_at = utcnow()
        return _flush(session, show, clash=f"a show with slug {show.slug!r} already exists")


def set_published(session: Session, *, slug: str, published: bool) -> Show:
    with db.write(session):
        show = get_show(session, slug=slug)
        show.is_published = published
        show.updated_at = utcnow()
        return show


def _layout(
    *,
    room_capacity: int,
    additional_seats: int,
    manually_occupied_seats: int,
    checkin_opens_before_minutes: int | None,
    checkin_closes_after_minutes: int | None,
) -> dict[str, int | None]:
    """A new performance's seats and check-in window, checked, as Performance fields."""
    validation.seats("capacity", room_capacity)
    validation.seats("additional", additional_seats)
    validation.seats("manual", manually_occupied_seats)
    if manually_occupied_seats > room_capacity + additional_seats:
        raise errors.InvalidInput(
            "manual",
            f"manually occupied seats ({manually_occupied_seats}) exceed capacity plus"
            f" additional seats ({room_capacity + additional_seats})",
        )
    for field, minutes in (
        ("checkin_opens_before_minutes", checkin_opens_before_minutes),
        ("checkin_closes_after_minutes", checkin_closes_after_minutes),
    ):
        if minutes is not None:
            validation.count(field, minutes)
    return {
        "room_capacity": room_capacity,
        "additional_seats": additional_seats,
        "manually_occupied_seats": manually_occupied_seats,
        "checkin_opens_before_minutes": checkin_opens_before_minutes,
        "checkin_closes_after_minutes": checkin_closes_after_minutes,
    }


def _taken_starts(
    session: Session, show: Show, venue: Venue, starts: Iterable[datetime]
) -> Sequence[datetime]:
    """Which of `starts` already have a performance of `show` at `venue`."""
    return session.exec(
        select(Performance.starts_at).where(
            Performance.show_id == show.id,
            Performance.venue_id == venue.id,
            Performance.starts_at.in_(list(starts)),  # type: ignore[attr-defined]
        )
    ).all()


def _refuse_clashes(session: Session, show: Show, venue: Venue, starts: Iterable[datetime]) -> None:
    taken = _taken_starts(session, show, venue, starts)
    if taken:
        listed = ", ".join(times.short_local(moment) for moment in sorted(taken))
        raise errors.Conflict(f"{show.slug} already plays at {venue.slug} on {listed}")


def add_performance(
    session: Session,
    *,
    show_slug: str,
    venue_slug: str,
    starts_at: datetime,
    room_capacity: int,
    additional_seats: int = 0,
    manually_occupied_seats: int = 0,
    checkin_opens_before_minutes: int | None = None,
    checkin_closes_after_minutes: int | None = None,
) -> Performance:
    """One performance; `starts_at` is an aware datetime (see `times.parse_local_datetime`)."""
    layout = _layout(
        room_capacity=room_capacity,
        additional_seats=additional_seats,
        manually_occupied_seats=manually_occupied_seats,
        checkin_opens_before_minutes=checkin_opens_before_minutes,
        checkin_closes_after_minutes=checkin_closes_after_minutes,
    )
    with db.write(session):
        show = get_show(session, slug=show_slug)
        venue = get_venue(session, slug=venue_slug)
        _refuse_clashes(session, show, venue, [starts_at])
        performance = Performance(show_id=show.id, venue_id=venue.id, starts_at=starts_at, **layout)
        return _flush(session, performance, clash=f"{show.slug} already plays at {venue.slug} then")


def parse_weekdays(text: str) -> set[int]:
    """`thu,fri,sat` → {3, 4, 5} (Monday is 0, as `date.weekday()` counts)."""
    names = [name.strip().lower()[:3] for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if not names or unknown:
        raise errors.InvalidInput("days", f"days: expected names like thu,fri,sat, got {text!r}")
    return {WEEKDAYS.index(name) for name in names}


def schedule_performances(
    session: Session,
    *,
    show_slug: str,
    venue_slug: str,
    first_day: date,
    last_day: date,
    weekdays: set[int],
    at: time,
    room_capacity: int,
    additional_seats: int = 0,
    manually_occupied_seats: int = 0,
    checkin_opens_before_minutes: int | None = None,
    checkin_closes_after_minutes: int | None = None,
    skip_existing: bool = False,
) -> list[Performance]:
    """A run of performances on the given weekdays, all created or, on any clash, none.

    With `skip_existing`, a day on which the show already plays at that venue at that time is
    left as it is and the others are created: a run can be extended, or laid over a single
    performance added before it, without first working out which days are free.
    """
    layout = _layout(
        room_capacity=room_capacity,
        additional_seats=additional_seats,
        manually_occupied_seats=manually_occupied_seats,
        checkin_opens_before_minutes=checkin_opens_before_minutes,
        checkin_closes_after_minutes=checkin_closes_after_minutes,
    )
    starts = [
        times.local_to_utc(day, at, field="time")
        for day in run_days(first_day=first_day, last_day=last_day, weekdays=weekdays)
    ]
    with db.write(session):
        show = get_show(session, slug=show_slug)
        venue = get_venue(session, slug=venue_slug)
        if skip_existing:
            taken = set(_taken_starts(session, show, venue, starts))
            starts = [moment for moment in starts if moment not in taken]
        _refuse_clashes(session, show, venue, starts)
        clash = f"{show.slug} already plays at {venue.slug} on one of those days"
        return [
            _flush(
                session,
                Performance(show_id=show.id, venue_id=venue.id, starts_at=moment, **layout),
                clash=clash,
            )
            for moment in starts
        ]


def run_days(*, first_day: date, last_day: date, weekdays: set[int]) -> list[date]:
    """The days of a run: each day from `first_day` to `last_day` whose weekday is chosen."""
    if last_day < first_day:
        raise errors.InvalidInput("to", f"--to {last_day} is before --from {first_day}")
    if (last_day - first_day).days > 366:
        raise errors.InvalidInput("to", "a run may span at most one year")
    days = [
        first_day + timedelta(days=offset)
        for offset in range((last_day - first_day).days + 1)
        if (first_day + timedelta(days=offset)).weekday() in weekdays
    ]
    if not days:
        raise errors.InvalidInput("days", "no day between --from and --to falls on --days")
    return days


def get_performance(session: Session, *, performance_id: int) -> Performance:
    performance = session.get(Performance, performance_id)
    if performance is None:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return performance


def set_booking_enabled(session: Session, *, performance_id: int, enabled: bool) -> Performance:
    """Open or close public booking; closing also stops pending reservations confirming."""
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        if enabled and performance.cancelled_at is not None:
            raise errors.InvalidState(f"performance {performance_id} is cancelled")
        performance.is_booking_enabled = enabled
        performance.updated_at = utcnow()
        return performance


def venue_line(venue: Venue) -> str:
    """Where to go, in one line: `Via Rivoli 6, Milano`."""
    return ", ".join(part for part in (venue.address, venue.city) if part)


def venue_dict(venue: Venue) -> dict[str, object]:
    return {
        "slug": venue.slug,
        "id": venue.id,
        "name": venue.name,
        "city": venue.city,
        "address": venue.address,
        "notes": venue.notes,
    }


def show_dict(show: Show) -> dict[str, object]:
    return {
        "slug": show.slug,
        "id": show.id,
        "title": show.title,
        "summary": show.summary,
        "description": show.description,
        "is_published": show.is_published,
        # Where a page finds the poster (/posters/{hash} or an https URL), and what is stored.
        "poster": show.poster_src,
        "poster_type": show.poster_type,
        "poster_bytes": len(show.poster_image) if show.poster_image is not None else None,
    }
