"""Venues, shows and performances: validation, slugs, clashes and runs of dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from azctl import errors
from azctl.models import Performance, Show, Venue
from azctl.services import booking, catalog, times
from tests.conftest import count_rows
from tests.services.helpers import fresh, refused

FUTURE = datetime(2031, 5, 17, 18, 30, tzinfo=UTC)


@pytest.fixture
def venue(session):
    return catalog.add_venue(session, name="Teatro Studio", city="Milano", address="Via Rovello 2")


@pytest.fixture
def show(session):
    return catalog.add_show(session, title="La Locandiera (2026)", publish=True)


def test_add_venue_and_show_make_slugs_from_names(engine, venue, show):
    assert venue.slug == "teatro-studio"
    assert show.slug == "la-locandiera-2026"
    assert fresh(engine, Venue, venue.id).address == "Via Rovello 2"
    assert fresh(engine, Show, show.id).is_published is True


def test_new_show_is_unpublished_by_default(engine, session):
    show = catalog.add_show(session, title="Arlecchino")
    assert fresh(engine, Show, show.id).is_published is False
    assert [s.slug for s in catalog.list_shows(session, published_only=True)] == []


def test_taken_venue_slug_is_refused_and_nothing_is_written(engine, session, venue):
    with refused(engine, errors.Conflict, "conflict"):
        catalog.add_venue(session, name="Teatro Studio", city="Roma")
    assert count_rows(engine, Venue) == 1


def test_taken_show_slug_is_refused_even_with_another_title(engine, session, show):
    with refused(engine, errors.Conflict, "conflict"):
        catalog.add_show(session, title="Something else", slug="la-locandiera-2026")
    assert count_rows(engine, Show) == 1


def test_invalid_venue_fields_are_refused(engine, session, subtests):
    for fields, field in (
        ({"name": "  ", "city": "Milano"}, "name"),
        ({"name": "Piccolo", "city": ""}, "city"),
        ({"name": "Piccolo", "city": "Milano", "slug": "Not A Slug"}, "slug"),
        ({"name": "x" * 201, "city": "Milano"}, "name"),
        ({"name": "Pic\x00colo", "city": "Milano"}, "name"),
        ({"name": "!!!", "city": "Milano"}, "name"),
    ):
        with subtests.test(fields=fields):
            with refused(engine, errors.InvalidInput, "invalid_input") as info:
                catalog.add_venue(session, **fields)
            assert info.value.field == field
    assert count_rows(engine, Venue) == 0


def test_edit_venue_changes_fields_and_slug_and_clears_optional(engine, session, venue):
    catalog.edit_venue(session, slug="teatro-studio", address="", new_slug="studio", city="Monza")
    stored = fresh(engine, Venue, venue.id)
    assert (stored.slug, stored.city, stored.address) == ("studio", "Monza", None)
    with pytest.raises(errors.NotFound):
        catalog.get_venue(session, slug="teatro-studio")


def test_edit_venue_to_a_taken_slug_is_refused(engine, session, venue):
    catalog.add_venue(session, name="Piccolo", city="Milano")
    with refused(engine, errors.Conflict, "conflict"):
        catalog.edit_venue(session, slug="piccolo", new_slug="teatro-studio")


def test_edit_show_and_publish_unpublish(engine, session, show):
    catalog.edit_show(session, slug=show.slug, title="La Locandiera", summary="Goldoni")
    catalog.set_published(session, slug=show.slug, published=False)
    stored = fresh(engine, Show, show.id)
    assert (stored.title, stored.summary, stored.is_published) == (
        "La Locandiera",
        "Goldoni",
        False,
    )
    catalog.set_published(session, slug=show.slug, published=True)
    assert fresh(engine, Show, show.id).is_published is True


def test_unknown_slugs_are_not_found(engine, session):
    with refused(engine, errors.NotFound, "not_found"):
        catalog.set_published(session, slug="nothing", published=True)
    with refused(engine, errors.NotFound, "not_found"):
        catalog.edit_venue(session, slug="nowhere", name="x")
    with pytest.raises(errors.NotFound):
        catalog.get_performance(session, performance_id=999)


def test_add_performance_stores_the_seat_layout(engine, session, venue, show):
    performance = catalog.add_performance(
        session,
        show_slug=show.slug,
        venue_slug=venue.slug,
        starts_at=FUTURE,
        room_capacity=90,
        additional_seats=6,
        manually_occupied_seats=4,
        checkin_opens_before_minutes=45,
        checkin_closes_after_minutes=0,
    )
    stored = fresh(engine, Performance, performance.id)
    assert stored.starts_at == FUTURE
    assert (stored.room_capacity, stored.additional_seats, stored.manually_occupied_seats) == (
        90,
        6,
        4,
    )
    assert (stored.checkin_opens_before_minutes, stored.checkin_closes_after_minutes) == (45, 0)
    assert stored.is_booking_enabled is True
    assert stored.cancelled_at is None


@pytest.mark.parametrize("missing", ["show", "venue"])
def test_add_performance_for_unknown_show_or_venue_is_not_found(
    engine, session, venue, show, missing
):
    slugs = {"show_slug": show.slug, "venue_slug": venue.slug}
    slugs[f"{missing}_slug"] = "does-not-exist"
    with refused(engine, errors.NotFound, "not_found"):
        catalog.add_performance(session, **slugs, starts_at=FUTURE, room_capacity=10)


IMPOSSIBLE_LAYOUTS = [
    ({"room_capacity": -1}, "capacity"),
    ({"room_capacity": 10, "additional_seats": -1}, "additional"),
    ({"room_capacity": 10, "manually_occupied_seats": -1}, "manual"),
    ({"room_capacity": 10, "additional_seats": 2, "manually_occupied_seats": 13}, "manual"),
    ({"room_capacity": 10, "checkin_opens_before_minutes": -5}, "checkin_opens_before_minutes"),
    ({"room_capacity": 10, "checkin_closes_after_minutes": -1}, "checkin_closes_after_minutes"),
    ({"room_capacity": 10.5}, "capacity"),
    ({"room_capacity": True}, "capacity"),
]


def test_add_performance_with_an_impossible_layout_is_refused(
    engine, session, venue, show, subtests
):
    for layout, field in IMPOSSIBLE_LAYOUTS:
        with subtests.test(layout=layout):
            with refused(engine, errors.InvalidInput, "invalid_input") as info:
                catalog.add_performance(
                    session, show_slug=show.slug, venue_slug=venue.slug, starts_at=FUTURE, **layout
                )
            assert info.value.field == field
    assert count_rows(engine, Performance) == 0


def test_manual_seats_may_fill_capacity_plus_additional_exactly(engine, session, venue, show):
    performance = catalog.add_performance(
        session,
        show_slug=show.slug,
        venue_slug=venue.slug,
        starts_at=FUTURE,
        room_capacity=10,
        additional_seats=2,
        manually_occupied_seats=12,
    )
    assert fresh(engine, Performance, performance.id).manually_occupied_seats == 12


def test_same_show_venue_and_time_twice_is_a_conflict(engine, session, venue, show):
    place = {"show_slug": show.slug, "venue_slug": venue.slug, "starts_at": FUTURE}
    catalog.add_performance(session, **place, room_capacity=10)
    with refused(engine, errors.Conflict, "conflict"):
        catalog.add_performance(session, **place, room_capacity=20)
    assert count_rows(engine, Performance) == 1


def test_schedule_creates_one_performance_per_matching_day_in_local_time(
    engine, session, venue, show
):
    # 2030-03-31 is the night Europe/Rome moves to summer time.
    made = catalog.schedule_performances(
        session,
        show_slug=show.slug,
        venue_slug=venue.slug,
        first_day=date(2030, 3, 28),
        last_day=date(2030, 4, 6),
        weekdays=catalog.parse_weekdays("thu, Friday,sat"),
        at=time(20, 30),
        room_capacity=40,
    )
    assert len(made) == 6
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(Performance.starts_at, Performance.room_capacity).order_by(
                Performance.starts_at
            )
        ).all()
    local = [times.to_local(start).strftime("%a %Y-%m-%d %H:%M") for start, _ in stored]
    assert local == [
        "Thu 2030-03-28 20:30",
        "Fri 2030-03-29 20:30",
        "Sat 2030-03-30 20:30",
        "Thu 2030-04-04 20:30",
        "Fri 2030-04-05 20:30",
        "Sat 2030-04-06 20:30",
    ]
    utc_hours = [times.to_local(start).utcoffset() for start, _ in stored]
    assert utc_hours[:3] == [timedelta(hours=1)] * 3
    assert utc_hours[3:] == [timedelta(hours=2)] * 3
    assert {capacity for _, capacity in stored} == {40}


def test_schedule_with_one_clash_creates_nothing(engine, session, venue, show):
    catalog.add_performance(
        session,
        show_slug=show.slug,
        venue_slug=venue.slug,
        starts_at=times.local_to_utc(date(2030, 4, 5), time(20, 30), field="at"),
        room_capacity=10,
    )
    with refused(engine, errors.Conflict, "conflict") as info:
        catalog.schedule_performances(
            session,
            show_slug=show.slug,
            venue_slug=venue.slug,
            first_day=date(2030, 4, 1),
            last_day=date(2030, 4, 10),
            weekdays={4, 5},
            at=time(20, 30),
            room_capacity=40,
        )
    assert "Fri 05 Apr 20:30" in info.value.message
    assert count_rows(engine, Performance) == 1


def test_schedule_skipping_existing_days_creates_only_the_others(engine, session, venue, show):
    def at(day: int) -> datetime:
        return times.local_to_utc(date(2030, 4, day), time(20, 30), field="at")

    catalog.add_performance(
        session, show_slug=show.slug, venue_slug=venue.slug, starts_at=at(5), room_capacity=10
    )
    made = catalog.schedule_performances(
        session,
        show_slug=show.slug,
        venue_slug=venue.slug,
        first_day=date(2030, 4, 1),
        last_day=date(2030, 4, 10),
        weekdays={4, 5},
        at=time(20, 30),
        room_capacity=40,
        skip_existing=True,
    )
    assert [performance.starts_at for performance in made] == [at(6)]
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(Performance.starts_at, Performance.room_capacity).order_by(
                Performance.starts_at
            )
        ).all()
    assert [tuple(row) for row in stored] == [(at(5), 10), (at(6), 40)]  # the first one kept


@pytest.mark.parametrize(
    ("first", "last", "weekdays", "field"),
    [
        (date(2030, 4, 10), date(2030, 4, 1), {4}, "to"),
        (date(2030, 4, 1), date(2031, 4, 10), {4}, "to"),
        (date(2030, 4, 1), date(2030, 4, 2), {6}, "days"),
    ],
)
def test_schedule_refuses_impossible_runs(
    engine, session, venue, show, first, last, weekdays, field
):
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        catalog.schedule_performances(
            session,
            show_slug=show.slug,
            venue_slug=venue.slug,
            first_day=first,
            last_day=last,
            weekdays=weekdays,
            at=time(20, 30),
            room_capacity=40,
        )
    assert info.value.field == field


@pytest.mark.parametrize("text", ["", "thu,funday", " , "])
def test_parse_weekdays_refuses_unknown_names(text):
    with pytest.raises(errors.InvalidInput) as info:
        catalog.parse_weekdays(text)
    assert info.value.field == "days"


def test_a_local_time_skipped_by_the_clock_change_is_refused():
    with pytest.raises(errors.InvalidInput) as info:
        times.parse_local_datetime("2030-03-31 02:30")
    assert info.value.code == "invalid_input"
    assert times.parse_local_datetime("2030-03-31 03:30") == datetime(
        2030, 3, 31, 1, 30, tzinfo=UTC
    )


def test_closing_booking_refuses_new_bookings_and_reopening_allows_them(
    engine, session, make_performance, book
):
    performance = make_performance(capacity=10)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    assert fresh(engine, Performance, performance.id).is_booking_enabled is False
    with refused(engine, errors.BookingClosed, "booking_closed"):
        book(performance, 2)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=True)
    assert book(performance, 2).reservation.status == "pending"


def test_a_cancelled_performance_cannot_be_reopened(engine, session, make_performance):
    performance = make_performance(capacity=10)
    booking.cancel_performance(session, performance_id=performance.id)
    with refused(engine, errors.InvalidState, "invalid_state"):
        catalog.set_booking_enabled(session, performance_id=performance.id, enabled=True)
    assert fresh(engine, Performance, performance.id).is_booking_enabled is False


def test_set_booking_enabled_on_unknown_performance_is_not_found(engine, session):
    with refused(engine, errors.NotFound, "not_found"):
        catalog.set_booking_enabled(session, performance_id=4242, enabled=False)


def test_list_shows_published_only(session):
    catalog.add_show(session, title="Beta", publish=True)
    catalog.add_show(session, title="Alpha")
    assert [s.slug for s in catalog.list_shows(session)] == ["alpha", "beta"]
    assert [s.slug for s in catalog.list_shows(session, published_only=True)] == ["beta"]
    assert session.exec(select(Show.slug).where(Show.slug == "alpha")).one() == "alpha"
