"""Dates and times as staff type them (DESIGN.md §5): `YYYY-MM-DD HH:MM` or the `T` form the JSON
shows, `today` and `tomorrow`; a day the calendar lacks is named; a start in the past needs
`--past`; every refusal names the option typed."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl.models import Performance
from azctl.services import catalog, times
from tests.commands.helpers import Cli, assert_error, assert_usage_error, json_output, succeeded
from tests.helpers import unchanged

EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"


@pytest.fixture
def stage(session: Session) -> None:
    catalog.add_venue(session, name="Teatro Studio", city="Milano")
    catalog.add_show(session, title="La Locandiera", publish=True)


def add(cli: Cli, *options: str):
    return cli(
        "perf", "add", "la-locandiera", "teatro-studio", "--capacity", "9", *options, "--json"
    )


def schedule(cli: Cli, first: str, last: str, *options: str, days: str = EVERY_DAY):
    return cli(
        "perf",
        "schedule",
        "la-locandiera",
        "teatro-studio",
        "--from",
        first,
        "--to",
        last,
        "--days",
        days,
        "--time",
        "20:30",
        "--capacity",
        "9",
        *options,
        "--json",
    )


def tomorrow() -> str:
    return (times.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("at", ["2030-12-12 20:30", "2030-12-12T20:30", " 2030-12-12  20:30 "])
def test_at_takes_the_typed_and_the_printed_form(cli: Cli, stage: None, at: str):
    assert json_output(add(cli, "--at", at))["starts_at"] == "2030-12-12T20:30:00+01:00"


def test_at_takes_tomorrow(cli: Cli, stage: None):
    added = json_output(add(cli, "--at", "tomorrow 20:30"))
    assert added["starts_at"].startswith(f"{tomorrow()}T20:30:00+")


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2027-02-30 20:30", "--at: 2027-02-30 is not a date"),
        ("2027-02-28T24:00", "--at: 24:00 is not a time of day"),
        ("30/12/2027 20:30", "--at: expected YYYY-MM-DD HH:MM, got '30/12/2027 20:30'"),
        ("2027-02-28", "--at: expected YYYY-MM-DD HH:MM, got '2027-02-28'"),
    ],
)
def test_a_date_or_time_that_is_not_one_is_named(
    cli: Cli, stage: None, engine: Engine, at: str, message: str
):
    with unchanged(engine):
        assert_error(add(cli, "--at", at), message)


def test_a_start_in_the_past_needs_past(cli: Cli, stage: None, engine: Engine):
    with unchanged(engine):
        assert_error(
            add(cli, "--at", "2020-01-10 20:30"),
            "--at: 2020-01-10 20:30 is in the past; give --past to add it anyway",
        )
    added = json_output(add(cli, "--at", "2020-01-10 20:30", "--past"))
    assert added["starts_at"] == "2020-01-10T20:30:00+01:00"


def test_a_run_that_starts_in_the_past_needs_past(cli: Cli, stage: None, engine: Engine):
    with unchanged(engine):
        assert_error(
            schedule(cli, "2019-12-30", "2020-01-31", days="fri"),
            "--from: 2020-01-03 20:30 is in the past; give --past to schedule it anyway",
        )
    created = json_output(schedule(cli, "2019-12-30", "2020-01-31", "--past", days="fri"))
    assert [row["starts_at"][:10] for row in created] == [
        "2020-01-03",
        "2020-01-10",
        "2020-01-17",
        "2020-01-24",
        "2020-01-31",
    ]


def test_schedule_takes_tomorrow(cli: Cli, stage: None):
    created = json_output(schedule(cli, "tomorrow", "Tomorrow"))
    assert [row["starts_at"][:10] for row in created] == [tomorrow()]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2031-02-29", "2031-03-05", "--from: 2031-02-29 is not a date"),
        ("2031-02-20", "2031-02-30", "--to: 2031-02-30 is not a date"),
        (
            "yesterday",
            "2031-03-05",
            "--from: expected YYYY-MM-DD, today or tomorrow, got 'yesterday'",
        ),
    ],
)
def test_schedule_names_the_day_at_fault(
    cli: Cli, stage: None, engine: Engine, first: str, last: str, message: str
):
    with unchanged(engine):
        assert_error(schedule(cli, first, last), message)


def test_list_takes_today_and_tomorrow(cli: Cli, make_performance):
    now = times.now_utc().replace(second=0, microsecond=0)
    # Noon tomorrow, local: on tomorrow's list whatever the hour the test runs.
    noon = times.local_to_utc(times.today() + timedelta(days=1), time(12, 0), field="")
    performance: Performance = make_performance(starts_in=noon - now)
    listed = json_output(succeeded(cli("perf", "list", "--day", "tomorrow", "--json")))
    assert [row["id"] for row in listed] == [performance.id]
    assert json_output(cli("perf", "list", "--day", "TODAY", "--json")) == []


@pytest.mark.parametrize("option", ["--checkin-opens", "--checkin-closes"])
def test_a_negative_door_window_names_the_option(
    cli: Cli, stage: None, engine: Engine, option: str
):
    with unchanged(engine):
        result = add(cli, "--at", "2030-12-12 20:30", option, "-30")
    assert_usage_error(result, f"Invalid value for '{option}': ")
    assert "_minutes" not in result.stderr
