"""What staff type, read in one place for every command: table tests that need no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from azctl import errors
from azctl.services import times
from azctl.services.words import plural

# 23:30 in Rome on 31 December 2030 (UTC+1): `today` is still the 31st there, `tomorrow` 2031.
LATE = datetime(2030, 12, 31, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-12-12 20:30", datetime(2030, 12, 12, 19, 30, tzinfo=UTC)),
        ("2030-12-12T20:30", datetime(2030, 12, 12, 19, 30, tzinfo=UTC)),
        ("  2030-06-12   9:05 ", datetime(2030, 6, 12, 7, 5, tzinfo=UTC)),
        ("today 23:45", datetime(2030, 12, 31, 22, 45, tzinfo=UTC)),
        ("Tomorrow 20:30", datetime(2031, 1, 1, 19, 30, tzinfo=UTC)),
    ],
)
def test_a_local_time_is_read_in_the_theatres_zone(text: str, expected: datetime):
    assert times.parse_local_datetime(text, field="--at", now=LATE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-02-30 20:30", "--at: 2027-02-30 is not a date"),
        ("2027-13-01T20:30", "--at: 2027-13-01 is not a date"),
        ("2027-02-28 24:00", "--at: 24:00 is not a time of day"),
        ("2027-02-28 20:60", "--at: 20:60 is not a time of day"),
        ("2027-02-28", "--at: expected YYYY-MM-DD HH:MM, got '2027-02-28'"),
        ("20270228 20:30", "--at: expected YYYY-MM-DD HH:MM, got '20270228 20:30'"),
        ("yesterday 20:30", "--at: expected YYYY-MM-DD HH:MM, got 'yesterday 20:30'"),
        ("2030-03-31 02:30", "2030-03-31 02:30 does not exist in Europe/Rome"),
    ],
)
def test_a_time_that_is_not_one_is_refused_by_name(text: str, message: str):
    with pytest.raises(errors.InvalidInput) as info:
        times.parse_local_datetime(text, field="--at", now=LATE)
    assert (info.value.field, info.value.message) == ("--at", message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2031-02-28", date(2031, 2, 28)),
        ("today", date(2030, 12, 31)),
        (" TOMORROW ", date(2031, 1, 1)),
    ],
)
def test_a_day_is_a_date_today_or_tomorrow(text: str, expected: date):
    assert times.parse_date(text, field="--day", now=LATE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2031-02-29", "--day: 2031-02-29 is not a date"),
        ("2031-W01-1", "--day: expected YYYY-MM-DD, today or tomorrow, got '2031-W01-1'"),
        ("20310228", "--day: expected YYYY-MM-DD, today or tomorrow, got '20310228'"),
        ("", "--day: expected YYYY-MM-DD, today or tomorrow, got ''"),
    ],
)
def test_a_day_that_is_not_one_is_refused_by_name(text: str, message: str):
    with pytest.raises(errors.InvalidInput) as info:
        times.parse_date(text, field="--day", now=LATE)
    assert info.value.message == message


def test_a_clock_time_is_hours_and_minutes():
    assert times.parse_clock("9:05", field="--time") == time(9, 5)
    with pytest.raises(errors.InvalidInput, match=r"^--time: expected HH:MM, got '9\.05'$"):
        times.parse_clock("9.05", field="--time")


@pytest.mark.parametrize(
    ("count", "seats", "bookings"),
    [
        (0, "0 seats are", "0 bookings"),
        (1, "1 seat is", "1 booking"),
        (2, "2 seats are", "2 bookings"),
    ],
)
def test_plural_agrees_with_the_count(count: int, seats: str, bookings: str):
    assert plural(count, "seat is", "seats are") == seats
    assert plural(count, "booking") == bookings
