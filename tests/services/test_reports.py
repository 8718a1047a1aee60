"""Read-only views: a performance's summary, lists of performances, and the check-in window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from azctl import errors
from azctl.services import booking, catalog, checkin, reports, times
from azctl.settings import reload_settings


@pytest.fixture
def season(session):
    catalog.add_venue(session, name="Teatro Studio", city="Milano")
    catalog.add_venue(session, name="Cortile", city="Milano")
    catalog.add_show(session, title="La Locandiera", publish=True)
    catalog.add_show(session, title="Aspettando Godot")

    def at(day: date, clock: time, *, show="la-locandiera", venue="teatro-studio", **layout):
        return catalog.add_performance(
            session,
            show_slug=show,
            venue_slug=venue,
            starts_at=times.local_to_utc(day, clock, field="at"),
            room_capacity=layout.pop("room_capacity", 50),
            **layout,
        )

    return at


def test_summary_counts_seats_pending_and_check_ins(session, make_performance, book, confirmed):
    performance = make_performance(capacity=30, additional=4, manual=2)
    admitted = confirmed(performance, 3)
    confirmed(performance, 5)
    book(performance, 2)
    book(performance, 1)
    checkin.scan(session, text=admitted.ticket_token, performance_id=performance.id)

    summary = reports.performance_summary(session, performance_id=performance.id)
    assert summary.seats.confirmed_seats == 8
    assert summary.seats.checked_in_seats == 3
    assert summary.seats.still_to_come_seats == 5
    assert summary.seats.available_seats == 30 + 4 - 2 - 8
    assert summary.pending_reservations == 2
    assert summary.show.slug == "open-show"
    assert summary.label == f"Open Show, {times.short_local(performance.starts_at)}"


def test_summary_as_dict_carries_the_cli_contract_keys_with_local_offsets(session, season):
    performance = season(date(2031, 5, 17), time(20, 30), room_capacity=90, additional_seats=6)
    answer = reports.performance_summary(session, performance_id=performance.id).as_dict()
    assert {
        "id",
        "show",
        "venue",
        "starts_at",
        "room_capacity",
        "additional_seats",
        "manually_occupied_seats",
        "confirmed_seats",
        "available_seats",
        "checked_in_seats",
        "is_booking_enabled",
    } <= set(answer)
    assert answer["id"] == performance.id
    assert (answer["show"], answer["venue"]) == ("la-locandiera", "teatro-studio")
    assert answer["starts_at"] == "2031-05-17T20:30:00+02:00"
    assert answer["checkin_opens_at"] == "2031-05-17T17:30:00+02:00"
    assert answer["checkin_closes_at"] == "2031-05-18T00:30:00+02:00"
    assert (answer["room_capacity"], answer["additional_seats"], answer["available_seats"]) == (
        90,
        6,
        96,
    )
    assert answer["is_booking_enabled"] is True
    assert answer["is_cancelled"] is False


def test_summary_of_an_unknown_performance_is_not_found(session):
    with pytest.raises(errors.NotFound) as info:
        reports.performance_summary(session, performance_id=12345)
    assert info.value.code == "not_found"


def test_list_performances_filters(session, season):
    late_night = season(date(2031, 5, 17), time(0, 30))  # 16 May 22:30 UTC
    evening = season(date(2031, 5, 17), time(23, 45))
    next_day = season(date(2031, 5, 18), time(0, 15))
    elsewhere = season(date(2031, 5, 17), time(18, 0), venue="cortile")
    hidden = season(date(2031, 5, 17), time(21, 0), show="aspettando-godot")

    def ids(**filters):
        return [s.performance.id for s in reports.list_performances(session, **filters)]

    assert ids() == [late_night.id, elsewhere.id, hidden.id, evening.id, next_day.id]
    assert ids(on_day=date(2031, 5, 17)) == [late_night.id, elsewhere.id, hidden.id, evening.id]
    assert ids(venue_slug="Cortile ") == [elsewhere.id]
    assert ids(show_slug="aspettando-godot") == [hidden.id]
    assert hidden.id not in ids(published_only=True)
    assert ids(upcoming_from=evening.starts_at) == [next_day.id]


def test_default_check_in_window_is_three_hours_before_to_four_after(session, season):
    performance = season(date(2031, 5, 17), time(20, 30))
    opens, closes = reports.checkin_window(performance)
    assert opens == performance.starts_at - timedelta(hours=3)
    assert closes == performance.starts_at + timedelta(hours=4)


def test_check_in_window_defaults_are_configurable(session, season, monkeypatch):
    monkeypatch.setenv("AZCTL_CHECKIN_OPENS_BEFORE", "PT45M")
    monkeypatch.setenv("AZCTL_CHECKIN_CLOSES_AFTER", "PT1H")
    reload_settings()
    performance = season(date(2031, 5, 17), time(20, 30))
    assert reports.checkin_window(performance) == (
        datetime(2031, 5, 17, 17, 45, tzinfo=UTC),
        datetime(2031, 5, 17, 19, 30, tzinfo=UTC),
    )


def test_a_performance_window_overrides_the_default(session, season):
    performance = season(
        date(2031, 5, 17),
        time(20, 30),
        checkin_opens_before_minutes=0,
        checkin_closes_after_minutes=90,
    )
    assert reports.checkin_window(performance) == (
        performance.starts_at,
        performance.starts_at + timedelta(minutes=90),
    )


def test_a_cancelled_performance_shows_as_cancelled_with_all_seats_free(
    session, make_performance, confirmed
):
    performance = make_performance(capacity=10)
    confirmed(performance, 4)
    booking.cancel_performance(session, performance_id=performance.id)
    answer = reports.performance_summary(session, performance_id=performance.id).as_dict()
    assert (answer["is_cancelled"], answer["is_booking_enabled"]) == (True, False)
    assert (answer["confirmed_seats"], answer["available_seats"]) == (0, 10)
