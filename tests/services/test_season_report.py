"""The season report: figures per performance and per show, no-shows only once the door closed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from azctl import errors
from azctl.models import WaitlistEntry
from azctl.services import booking, checkin, reports, season_report, times, walkins


def add_waitlist(session, performance, *states):
    """Entries in `states` (`waiting`, `offered`, `booked`, `lapsed`, `left`), as the waiting
    list leaves them: every entry that was offered seats keeps `offered_at`."""
    now = times.now_utc()
    with session.begin():
        for number, (status, offered) in enumerate(states):
            session.add(
                WaitlistEntry(
                    performance_id=performance.id,
                    reference=f"WL-{performance.id}{number:04d}",
                    status=status,
                    name=f"Waiting {number}",
                    email=f"wait{number}@example.org",
                    party_size=2,
                    offered_at=now if offered else None,
                )
            )


@pytest.fixture
def evening(session, make_performance, confirmed, book):
    """Tonight, 20 seats + 2 additional: 2 + 3 + 1 confirmed, 2 of them in; a pending 4 and a
    cancelled 5; one walk-in kept of two sold; a waiting list of five."""
    performance = make_performance(capacity=20, additional=2, starts_in=timedelta(hours=1))
    came = confirmed(performance, 2)
    confirmed(performance, 3)
    confirmed(performance, 1)
    book(performance, 4)
    gone = confirmed(performance, 5)
    booking.cancel_reservation(session, reference=gone.reservation.reference)
    checkin.scan(session, text=came.ticket_token, performance_id=performance.id)
    walkins.change_walk_ins(session, performance_id=performance.id, change=2)
    walkins.change_walk_ins(session, performance_id=performance.id, change=-1)
    add_waitlist(
        session,
        performance,
        ("waiting", False),
        ("offered", True),
        ("booked", True),
        ("lapsed", True),
        ("left", False),
    )
    return performance


def test_figures_of_one_evening_before_and_after_the_door_closes(session, evening):
    _opens, closes = reports.checkin_window(evening)

    during = season_report.season_report(session, now=closes - timedelta(minutes=1))
    [line] = during.performances
    assert line.as_dict() | {"starts_at": None} == {
        "performance_id": evening.id,
        "show": "open-show",
        "show_title": "Open Show",
        "venue": "teatro-studio",
        "starts_at": None,
        "is_cancelled": False,
        "seats": 22,
        "confirmed": 6,
        "checked_in": 2,
        "no_shows": None,  # the door is still open: latecomers are not absent yet
        "walk_ins": 1,
        "waitlist_joined": 5,
        "waitlist_offered": 3,
        "waitlist_booked": 1,
    }

    after = season_report.season_report(session, now=closes)
    assert after.performances[0].figures.no_shows == 4


def test_a_show_sums_its_performances_and_no_shows_only_of_closed_doors(
    session, make_performance, confirmed
):
    past = make_performance(capacity=10, starts_in=timedelta(days=-2))
    later = make_performance(capacity=30, starts_in=timedelta(days=5))
    other = make_performance(capacity=7, starts_in=timedelta(days=1), show_slug="b-side")
    then = times.now_utc() - timedelta(days=3)
    earlier = booking.submit_booking(
        session, performance_id=past.id, name="Ada", email="ada@example.org", party_size=3, now=then
    )
    booking.confirm_booking(session, token=earlier.confirm_token, now=then)
    confirmed(later, 4)
    confirmed(other, 2)

    found = season_report.season_report(session)
    assert [(s.show.slug, s.performances) for s in found.shows] == [
        ("b-side", 1),
        ("open-show", 2),
    ]
    b_side, open_show = (s.figures for s in found.shows)
    assert (open_show.seats, open_show.confirmed, open_show.no_shows) == (40, 7, 3)
    assert (b_side.seats, b_side.confirmed, b_side.no_shows) == (7, 2, None)
    # Every figure is the sum of its performances' (None counts as nothing).
    assert found.as_dict()["shows"][1]["confirmed"] == sum(
        line["confirmed"] for line in found.as_dict()["performances"] if line["show"] == "open-show"
    )


def test_filters_by_show_and_local_days(session, make_performance):
    today = times.to_local(times.now_utc()).date()
    make_performance(starts_in=timedelta(days=1))
    make_performance(starts_in=timedelta(days=10))
    make_performance(starts_in=timedelta(days=1), show_slug="b-side")

    assert len(season_report.season_report(session).performances) == 3
    only = season_report.season_report(session, show_slug="b-side")
    assert [line.show.slug for line in only.performances] == ["b-side"]
    soon = season_report.season_report(session, first_day=today, last_day=today + timedelta(days=2))
    assert len(soon.performances) == 2
    assert (
        season_report.season_report(
            session, first_day=date(2001, 1, 1), last_day=date(2001, 1, 2)
        ).performances
        == []
    )
    with pytest.raises(errors.NotFound):
        season_report.season_report(session, show_slug="nope")


def test_a_cancelled_performance_has_no_no_shows(session, make_performance, confirmed):
    performance = make_performance(starts_in=timedelta(hours=1))
    confirmed(performance, 2)
    booking.cancel_performance(session, performance_id=performance.id)
    found = season_report.season_report(session, now=times.now_utc() + timedelta(days=1))
    line = found.performances[0].as_dict()
    assert (line["is_cancelled"], line["confirmed"], line["no_shows"]) == (True, 0, None)


def test_a_moved_booking_counts_where_it_went(session, make_performance, confirmed):
    a = make_performance(starts_in=timedelta(hours=1))
    b = make_performance(starts_in=timedelta(days=2))
    moved = confirmed(a, 3)
    booking.move_reservation(session, reference=moved.reservation.reference, to_performance_id=b.id)
    closes_a = reports.checkin_window(a)[1]
    lines = season_report.season_report(session, now=closes_a).performances
    assert [(line.figures.confirmed, line.figures.no_shows) for line in lines] == [
        (0, 0),
        (3, None),
    ]


def test_walk_ins_sold_several_at_once_count_each_seat(session, make_performance):
    performance = make_performance(starts_in=timedelta(hours=1))
    walkins.change_walk_ins(session, performance_id=performance.id, change=3)
    assert season_report.season_report(session).performances[0].figures.walk_ins == 3
