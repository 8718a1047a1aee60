"""`azctl perf add|schedule|list|show|capacity|open|close|cancel`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl.models import OutboxMessage, Performance, Reservation
from azctl.services import catalog, checkin
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_iso_with_offset,
    count,
    describe,
    iso,
    json_output,
    record,
    short,
    shown,
    succeeded,
    table,
)
from tests.helpers import unchanged

# `perf show ID --json`: the keys scripts rely on, and the rest this version prints.
CONTRACT_KEYS = {
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
}
SUMMARY_KEYS = CONTRACT_KEYS | {
    "show_title",
    "held_seats",
    "venue_name",
    "pending_reservations",
    "is_cancelled",
    "checkin_opens_at",
    "checkin_closes_at",
    "booking",
}
LIST_HEADER = ["Id", "Starts", "Show", "Venue", "Confirmed", "Free", "In", "Booking"]
TIMESTAMP_KEYS = ("starts_at", "checkin_opens_at", "checkin_closes_at")


@pytest.fixture
def stage(session: Session) -> None:
    """Two venues and two shows, one of them published; no performances yet."""
    catalog.add_venue(session, name="Teatro Studio", city="Milano")
    catalog.add_venue(session, name="Cortile della Cascina", city="Milano", slug="cortile")
    catalog.add_show(session, title="La Locandiera", publish=True)
    catalog.add_show(session, title="Aspettando Godot")


def add(
    cli: Cli, at: str, *options: str, show: str = "la-locandiera", venue: str = "teatro-studio"
) -> dict[str, Any]:
    return json_output(
        cli("perf", "add", show, venue, "--at", at, "--capacity", "99", *options, "--json")
    )


def test_add_prints_the_id_first_then_the_summary(cli: Cli, stage: None):
    result = cli(
        "perf",
        "add",
        "la-locandiera",
        "teatro-studio",
        "--at",
        "2030-12-12 20:30",
        "--capacity",
        "99",
        "--additional",
        "4",
        "--manual",
        "2",
    )
    key, fields = record(result, title="La Locandiera, Thu 12 Dec 20:30")
    assert key == "1"
    assert fields == {
        "show": "la-locandiera",
        "show title": "La Locandiera",
        "venue": "teatro-studio",
        "venue name": "Teatro Studio",
        "starts at": "Thu 12 Dec 2030 20:30",
        "room capacity": "99",
        "additional seats": "4",
        "manually occupied seats": "2",
        "confirmed seats": "0",
        "held seats": "0",
        "available seats": "101",
        "checked in seats": "0",
        "pending reservations": "0",
        "is booking enabled": "yes",
        "is cancelled": "no",
        "booking": "open",
        "checkin opens at": "Thu 12 Dec 2030 17:30",
        "checkin closes at": "Fri 13 Dec 2030 00:30",
    }
    assert result.stderr == ""


def test_add_json_follows_the_contract(cli: Cli, stage: None, engine: Engine):
    added = add(cli, "2030-12-12 20:30", "--checkin-opens", "60", "--checkin-closes", "30")
    assert set(added) == SUMMARY_KEYS
    assert added == {
        "id": 1,
        "show": "la-locandiera",
        "show_title": "La Locandiera",
        "venue": "teatro-studio",
        "venue_name": "Teatro Studio",
        "starts_at": "2030-12-12T20:30:00+01:00",
        "room_capacity": 99,
        "additional_seats": 0,
        "manually_occupied_seats": 0,
        "confirmed_seats": 0,
        "held_seats": 0,
        "available_seats": 99,
        "checked_in_seats": 0,
        "pending_reservations": 0,
        "is_booking_enabled": True,
        "is_cancelled": False,
        "booking": "open",
        "checkin_opens_at": "2030-12-12T19:30:00+01:00",
        "checkin_closes_at": "2030-12-12T21:00:00+01:00",
    }
    assert count(engine, Performance) == 1


def test_summer_times_carry_the_summer_offset(cli: Cli, stage: None):
    added = add(cli, "2030-07-10 21:00")
    assert added["starts_at"] == "2030-07-10T21:00:00+02:00"
    for key in TIMESTAMP_KEYS:
        assert_iso_with_offset(added[key])


def test_a_wall_clock_time_that_does_not_exist_is_refused(cli: Cli, stage: None, engine: Engine):
    with unchanged(engine):
        assert_error(
            cli(
                "perf",
                "add",
                "la-locandiera",
                "teatro-studio",
                "--at",
                "2030-03-31 02:30",
                "--capacity",
                "9",
            ),
            "2030-03-31 02:30 does not exist in Europe/Rome",
        )


def test_the_same_show_venue_and_time_twice_is_refused(cli: Cli, stage: None, engine: Engine):
    add(cli, "2030-12-12 20:30")
    with unchanged(engine):
        assert_error(
            cli(
                "perf",
                "add",
                "la-locandiera",
                "teatro-studio",
                "--at",
                "2030-12-12 20:30",
                "--capacity",
                "9",
            ),
            "la-locandiera already plays at teatro-studio on Thu 12 Dec 20:30",
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--manual", "100"],
            "manually occupied seats (100) exceed capacity plus additional seats (99)",
        ),
        (["--additional", "-1"], "additional must be at least 0, got -1"),
    ],
)
def test_add_refuses_bad_seats(
    cli: Cli, stage: None, engine: Engine, options: list[str], message: str
):
    with unchanged(engine):
        assert_error(
            cli(
                "perf",
                "add",
                "la-locandiera",
                "teatro-studio",
                "--at",
                "2030-12-12 20:30",
                "--capacity",
                "99",
                *options,
            ),
            message,
        )


SCHEDULE = [
    "perf",
    "schedule",
    "la-locandiera",
    "teatro-studio",
    "--from",
    "2030-12-01",
    "--to",
    "2030-12-14",
    "--days",
    "thu,Fri",
    "--time",
    "20:30",
    "--capacity",
    "50",
]


def test_schedule_creates_every_chosen_weekday(cli: Cli, stage: None, engine: Engine):
    created = json_output(cli(*SCHEDULE, "--json"))
    assert [row["starts_at"] for row in created] == [
        "2030-12-05T20:30:00+01:00",
        "2030-12-06T20:30:00+01:00",
        "2030-12-12T20:30:00+01:00",
        "2030-12-13T20:30:00+01:00",
    ]
    assert {row["room_capacity"] for row in created} == {50}
    assert {row["show"] for row in created} == {"la-locandiera"}
    assert all(set(row) == SUMMARY_KEYS for row in created)
    assert count(engine, Performance) == 4


def test_schedule_table(cli: Cli, stage: None):
    header, rows = table(
        cli(*SCHEDULE[:7], "2030-12-06", *SCHEDULE[8:]), title="Scheduled performances"
    )
    assert header == LIST_HEADER
    assert rows == [
        ["1", "Thu 05 Dec 2030 20:30", "La Locandiera", "Teatro Studio", "0", "50", "0", "open"],
        ["2", "Fri 06 Dec 2030 20:30", "La Locandiera", "Teatro Studio", "0", "50", "0", "open"],
    ]


def test_schedule_is_all_or_nothing(cli: Cli, stage: None, engine: Engine):
    add(cli, "2030-12-12 20:30")
    with unchanged(engine):
        assert_error(
            cli(*SCHEDULE), "la-locandiera already plays at teatro-studio on Thu 12 Dec 20:30"
        )


def test_schedule_skip_existing_adds_the_other_days(cli: Cli, stage: None, engine: Engine):
    add(cli, "2030-12-12 20:30")
    result = succeeded(cli(*SCHEDULE, "--skip-existing", "--json"))
    created = json.loads(result.stdout)
    assert [row["starts_at"] for row in created] == [
        "2030-12-05T20:30:00+01:00",
        "2030-12-06T20:30:00+01:00",
        "2030-12-13T20:30:00+01:00",
    ]
    assert result.stderr == "Added 3; 1 already scheduled.\n"
    assert count(engine, Performance) == 4

    with unchanged(engine):
        again = succeeded(cli(*SCHEDULE, "--skip-existing", "--json"))
    assert (json.loads(again.stdout), again.stderr) == ([], "Added 0; 4 already scheduled.\n")


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({"--days": "thu,funday"}, "days: expected names like thu,fri,sat, got 'thu,funday'"),
        ({"--to": "2030-12-03"}, "no day between --from and --to falls on --days"),
        ({"--from": "2030-12-20"}, "--to 2030-12-14 is before --from 2030-12-20"),
        ({"--from": "2030-12-32"}, "--from: 2030-12-32 is not a date"),
        ({"--to": "14/12/2030"}, "--to: expected YYYY-MM-DD, today or tomorrow, got '14/12/2030'"),
        ({"--time": "25:00"}, "--time: 25:00 is not a time of day"),
        ({"--to": "2032-01-01"}, "a run may span at most one year"),
        ({"--capacity": "-3"}, "capacity must be at least 0, got -3"),
    ],
)
def test_schedule_refuses_bad_input(
    cli: Cli, stage: None, engine: Engine, replace: dict[str, str], message: str
):
    args = list(SCHEDULE)
    for option, value in replace.items():
        args[args.index(option) + 1] = value
    with unchanged(engine):
        assert_error(cli(*args), message)


def test_schedule_of_an_unknown_show_is_refused(cli: Cli, stage: None, engine: Engine):
    args = list(SCHEDULE)
    args[2] = "amleto"
    with unchanged(engine):
        assert_error(cli(*args), "no show with slug 'amleto'")


@pytest.fixture
def season(cli: Cli, stage: None) -> None:
    """#1 and #3 at the Studio, #2 in the Cortile, #4 long past."""
    add(cli, "2030-12-12 20:30")
    add(cli, "2030-12-13 18:00", venue="cortile")
    add(cli, "2030-12-12 21:00", show="aspettando-godot")
    add(cli, "2020-01-10 20:30", "--past")


def test_list_table_in_start_order(cli: Cli, season: None):
    header, rows = table(cli("perf", "list"), title="Performances")
    assert header == LIST_HEADER
    assert rows == [
        ["4", "Fri 10 Jan 2020 20:30", "La Locandiera", "Teatro Studio", "0", "99", "0", "started"],
        ["1", "Thu 12 Dec 2030 20:30", "La Locandiera", "Teatro Studio", "0", "99", "0", "open"],
        ["3", "Thu 12 Dec 2030 21:00", "Aspettando Godot", "Teatro Studio", "0", "99", "0", "open"],
        [
            "2",
            "Fri 13 Dec 2030 18:00",
            "La Locandiera",
            "Cortile della Cascina",
            "0",
            "99",
            "0",
            "open",
        ],
    ]


def ids(cli: Cli, *options: str) -> list[int]:
    return [row["id"] for row in json_output(cli("perf", "list", *options, "--json"))]


def test_list_filters(cli: Cli, season: None):
    assert ids(cli) == [4, 1, 3, 2]
    assert ids(cli, "--show", "la-locandiera") == [4, 1, 2]
    assert ids(cli, "--venue", "cortile") == [2]
    assert ids(cli, "--show", "la-locandiera", "--venue", "teatro-studio") == [4, 1]
    assert ids(cli, "--day", "2030-12-12") == [1, 3]
    assert ids(cli, "--upcoming") == [1, 3, 2]
    assert ids(cli, "--upcoming", "--venue", "teatro-studio", "--day", "2020-01-10") == []


def test_list_today(cli: Cli, make_performance):
    starting = make_performance(starts_in=timedelta(0))
    make_performance(starts_in=timedelta(days=2))
    listed = json_output(cli("perf", "list", "--day", "today", "--json"))
    assert [(row["id"], row["starts_at"]) for row in listed] == [
        (starting.id, iso(starting.starts_at))
    ]


def test_list_json_rows_are_summaries(cli: Cli, season: None):
    listed = json_output(cli("perf", "list", "--json"))
    assert all(set(row) == SUMMARY_KEYS for row in listed)
    for row in listed:
        for key in TIMESTAMP_KEYS:
            assert_iso_with_offset(row[key])


def test_list_when_there_are_none(cli: Cli, stage: None):
    result = succeeded(cli("perf", "list"))
    assert (result.stdout, result.stderr) == ("", "No performances.\n")
    assert json_output(cli("perf", "list", "--json")) == []


def test_list_refuses_a_bad_day(cli: Cli, stage: None):
    assert_error(
        cli("perf", "list", "--day", "12/12/2030"),
        "--day: expected YYYY-MM-DD, today or tomorrow, got '12/12/2030'",
    )


@pytest.fixture
def busy(session: Session, make_performance, confirmed, book) -> Performance:
    """Ten seats plus two, one held: 3 + 2 confirmed (the 3 checked in), 1 pending."""
    performance = make_performance(capacity=10, additional=2, manual=1)
    ticket = confirmed(performance, 3)
    confirmed(performance, 2)
    book(performance, 1)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    return performance


def test_show_json_counts_every_kind_of_seat(cli: Cli, busy: Performance):
    shown_json = json_output(cli("perf", "show", str(busy.id), "--json"))
    assert shown_json == {
        "id": busy.id,
        "show": "open-show",
        "show_title": "Open Show",
        "venue": "teatro-studio",
        "venue_name": "Teatro Studio",
        "starts_at": iso(busy.starts_at),
        "room_capacity": 10,
        "additional_seats": 2,
        "manually_occupied_seats": 1,
        "confirmed_seats": 5,
        "held_seats": 0,
        "available_seats": 6,
        "checked_in_seats": 3,
        "pending_reservations": 1,
        "is_booking_enabled": True,
        "is_cancelled": False,
        "booking": "open",
        "checkin_opens_at": iso(busy.starts_at - timedelta(hours=3)),
        "checkin_closes_at": iso(busy.starts_at + timedelta(hours=4)),
    }
    for key in TIMESTAMP_KEYS:
        assert_iso_with_offset(shown_json[key])


def test_show_table(cli: Cli, busy: Performance):
    key, fields = record(
        cli("perf", "show", str(busy.id)), title=f"Open Show, {short(busy.starts_at)}"
    )
    assert key == str(busy.id)
    assert fields["starts at"] == shown(busy.starts_at)
    assert fields["confirmed seats"] == "5"
    assert fields["available seats"] == "6"
    assert fields["checked in seats"] == "3"
    assert fields["checkin opens at"] == shown(busy.starts_at - timedelta(hours=3))


def seats(cli: Cli, performance_id: int, *options: str) -> dict[str, object]:
    return json_output(cli("perf", "capacity", str(performance_id), *options, "--json"))


def test_capacity_changes_each_number(cli: Cli, busy: Performance):
    changed = seats(cli, busy.id, "--capacity", "20")
    assert (changed["room_capacity"], changed["available_seats"]) == (20, 16)
    changed = seats(cli, busy.id, "--additional", "0", "--manual", "3")
    assert changed["additional_seats"] == 0
    assert changed["manually_occupied_seats"] == 3
    assert changed["available_seats"] == 12
    assert changed["confirmed_seats"] == 5
    assert json_output(cli("perf", "show", str(busy.id), "--json")) == changed


def test_capacity_occupy_moves_seats_sold_at_the_door(cli: Cli, busy: Performance):
    assert seats(cli, busy.id, "--occupy", "+2")["manually_occupied_seats"] == 3
    after = seats(cli, busy.id, "--occupy", "-1")
    assert (after["manually_occupied_seats"], after["available_seats"]) == (2, 5)
    # Exactly the free seats may go.
    assert seats(cli, busy.id, "--occupy", "5")["available_seats"] == 0


def test_capacity_without_options_keeps_the_seats(cli: Cli, busy: Performance):
    before = json_output(cli("perf", "show", str(busy.id), "--json"))
    key, fields = record(
        cli("perf", "capacity", str(busy.id)), title=f"Open Show, {short(busy.starts_at)}"
    )
    assert (key, fields["available seats"]) == (str(busy.id), "6")
    assert json_output(cli("perf", "show", str(busy.id), "--json")) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--manual", "1", "--occupy", "+1"], "give either --manual or --occupy, not both"),
        (
            ["--manual", "8"],
            "10 + 2 additional seats would not hold the 5 confirmed and 8 manually occupied seats",
        ),
        (
            ["--additional", "0", "--capacity", "5"],
            "5 + 0 additional seats would not hold the 5 confirmed and 1 manually occupied seats",
        ),
        (["--occupy", "+7"], "cannot occupy 7 more seats: only 6 are free"),
        (["--occupy", "-2"], "cannot free 2 seats: only 1 is occupied"),
        (["--manual", "-1"], "manual must be at least 0, got -1"),
    ],
)
def test_capacity_refusals_change_nothing(
    cli: Cli, busy: Performance, engine: Engine, options: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli("perf", "capacity", str(busy.id), *options), message)


def test_occupy_that_is_not_a_number_changes_nothing(cli: Cli, busy: Performance, engine: Engine):
    with unchanged(engine):
        result = cli("perf", "capacity", str(busy.id), "--occupy", "abc")
    assert result.exit_code != 0
    assert "expected +N or -N, got 'abc'" in result.stderr
    assert isinstance(result.exception, SystemExit), describe(result)


def test_occupy_that_is_not_a_number_is_one_error_line(cli: Cli, busy: Performance):
    assert_error(
        cli("perf", "capacity", str(busy.id), "--occupy", "abc"),
        "--occupy: expected +N or -N, got 'abc'",
    )


def test_close_and_open_booking(cli: Cli, busy: Performance):
    key, fields = record(
        cli("perf", "close", str(busy.id)), title=f"Open Show, {short(busy.starts_at)}"
    )
    assert (key, fields["is booking enabled"]) == (str(busy.id), "no")
    assert json_output(cli("perf", "show", str(busy.id), "--json"))["is_booking_enabled"] is False
    assert json_output(cli("perf", "open", str(busy.id), "--json"))["is_booking_enabled"] is True
    assert json_output(cli("perf", "close", str(busy.id), "--json"))["is_booking_enabled"] is False


def test_cancel_with_yes_cancels_every_booking_and_tells_each_visitor(
    cli: Cli, busy: Performance, engine: Engine
):
    queued = count(engine, OutboxMessage)
    result = succeeded(cli("perf", "cancel", str(busy.id), "--yes"))
    assert result.stdout == (
        f"Cancelled performance {busy.id} (Open Show, {short(busy.starts_at)}) and 3 bookings.\n"
    )
    assert count(engine, Reservation, status="cancelled") == 3
    assert count(engine, OutboxMessage, kind="performance_cancelled") == 3
    assert count(engine, OutboxMessage) == queued + 3
    after = json_output(cli("perf", "show", str(busy.id), "--json"))
    assert (after["is_cancelled"], after["is_booking_enabled"]) == (True, False)
    assert (after["confirmed_seats"], after["pending_reservations"]) == (0, 0)


def test_cancelling_one_booking_says_booking(cli: Cli, make_performance, confirmed):
    performance = make_performance(capacity=10)
    confirmed(performance, 4)
    result = succeeded(cli("perf", "cancel", str(performance.id), "--yes"))
    assert result.stdout == (
        f"Cancelled performance {performance.id} (Open Show, {short(performance.starts_at)})"
        " and 1 booking.\n"
    )


def test_cancel_asks_first_and_no_changes_nothing(cli: Cli, busy: Performance, engine: Engine):
    with unchanged(engine):
        result = cli("perf", "cancel", str(busy.id), input="n\n")
    assert result.exit_code == 1, describe(result)
    assert result.stderr == (
        f"Cancel Open Show, {short(busy.starts_at)} and all its bookings? [y/N] Nothing changed.\n"
    )


def test_cancel_asks_first_and_yes_cancels(cli: Cli, busy: Performance):
    result = succeeded(cli("perf", "cancel", str(busy.id), input="y\n"))
    assert result.stdout.endswith(
        f"Cancelled performance {busy.id} (Open Show, {short(busy.starts_at)}) and 3 bookings.\n"
    )
    assert json_output(cli("perf", "show", str(busy.id), "--json"))["is_cancelled"] is True


def test_a_cancelled_performance_stays_cancelled(cli: Cli, busy: Performance, engine: Engine):
    succeeded(cli("perf", "cancel", str(busy.id), "--yes"))
    with unchanged(engine):
        assert_error(
            cli("perf", "cancel", str(busy.id), "--yes"),
            f"performance {busy.id} is already cancelled",
        )
        assert_error(cli("perf", "open", str(busy.id)), f"performance {busy.id} is cancelled")


@pytest.mark.parametrize(
    "args",
    [
        ["perf", "show", "999"],
        ["perf", "show", "999", "--json"],
        ["perf", "capacity", "999", "--occupy", "+1"],
        ["perf", "open", "999"],
        ["perf", "close", "999"],
        ["perf", "cancel", "999", "--yes"],
    ],
)
def test_an_unknown_performance_is_refused(cli: Cli, make_performance, engine: Engine, args):
    make_performance()
    with unchanged(engine):
        assert_error(cli(*args), "no performance with id 999")


@pytest.mark.parametrize(
    ("option", "message"),
    [("--show", "no show with slug 'amleto'"), ("--venue", "no venue with slug 'amleto'")],
)
def test_list_by_an_unknown_slug_is_refused(cli: Cli, stage: None, option: str, message: str):
    assert_error(cli("perf", "list", option, "amleto"), message)


def test_list_table_tells_cancelled_from_closed(cli: Cli, season: None):
    succeeded(cli("perf", "close", "1"))
    succeeded(cli("perf", "cancel", "3", "--yes"))
    _header, rows = table(cli("perf", "list", "--day", "2030-12-12"), title="Performances")
    assert rows[0][-1] != rows[1][-1]
