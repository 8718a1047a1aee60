"""`azctl res move`, `azctl res flag` and `azctl report`."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from azctl.models import Reservation
from azctl.services import checkin, times
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_usage_error,
    json_output,
    succeeded,
    table,
)
from tests.helpers import unchanged


@pytest.fixture
def dates(make_performance):
    a = make_performance(capacity=20, starts_in=timedelta(hours=3))
    b = make_performance(capacity=4, starts_in=timedelta(days=7))
    return a, b


def test_res_move_prints_the_move_and_json_is_res_show(cli: Cli, dates, confirmed):
    a, b = dates
    reference = confirmed(a, 2, name="Marco Rossi").reservation.reference
    result = succeeded(cli("res", "move", reference, "--to", str(b.id)))
    assert result.stdout.startswith(f"Moved {reference} from performance {a.id} to {b.id} (")
    assert "a new ticket is queued to" in result.stdout

    other = confirmed(a, 1).reservation.reference
    moved = json_output(cli("res", "move", other, "--to", str(b.id), "--json"))
    assert moved == json_output(cli("res", "show", other, "--json"))
    assert moved["performance_id"] == b.id


def test_res_move_refusals_are_one_line_and_change_nothing(cli: Cli, engine, dates, confirmed):
    a, b = dates
    big = confirmed(a, 5).reservation.reference
    with unchanged(engine):
        assert_error(
            cli("res", "move", big, "--to", str(b.id)),
            f"{big} is for 5 seats; performance {b.id} has only 4 seats free",
        )
        assert_error(
            cli("res", "move", big, "--to", str(a.id)),
            f"{big} is already for performance {a.id}",
        )
        assert_error(cli("res", "move", big, "--to", "999"), "no performance with id 999")
    assert_usage_error(cli("res", "move", big), "--to")


def test_res_flag_sets_shows_and_clears_a_door_note(cli: Cli, engine, dates, confirmed):
    a, _b = dates
    reference = confirmed(a, 2, name="Marco Rossi").reservation.reference
    result = succeeded(cli("res", "flag", reference, "wheelchair space"))
    assert result.stdout == f"Door note for {reference}: wheelchair space\n"
    assert json_output(cli("res", "show", reference, "--json"))["door_note"] == "wheelchair space"
    assert json_output(cli("res", "list", "--json"))[0]["door_note"] == "wheelchair space"
    header, rows = table(cli("res", "list"), title="Reservations")
    assert rows[0][header.index("Door note")] == "wheelchair space"
    listed = list(csv.DictReader(io.StringIO(succeeded(cli("res", "list", "--csv")).stdout)))
    assert listed[0]["door_note"] == "wheelchair space"

    succeeded(cli("res", "flag", reference, "--clear"))
    assert json_output(cli("res", "show", reference, "--json"))["door_note"] is None


def test_res_flag_refusals(cli: Cli, engine, dates, confirmed):
    a, _b = dates
    reference = confirmed(a, 2).reservation.reference
    with unchanged(engine):
        assert_error(cli("res", "flag", reference, "x" * 201), "note is longer than 200 characters")
        assert_error(cli("res", "flag", reference, "two\nlines"), "note: a door note is one line")
        assert_error(
            cli("res", "flag", "AZ-000000", "hi"), "no reservation with reference 'AZ-000000'"
        )
    assert_usage_error(cli("res", "flag", reference), "--clear")
    assert_usage_error(cli("res", "flag", reference, "hi", "--clear"), "--clear")


def test_a_csv_door_note_is_neutralised(cli: Cli, dates, confirmed):
    a, _b = dates
    reference = confirmed(a, 2).reservation.reference
    succeeded(cli("res", "flag", reference, "=HYPERLINK(1)"))
    listed = list(csv.DictReader(io.StringIO(succeeded(cli("res", "list", "--csv")).stdout)))
    assert listed[0]["door_note"] == "'=HYPERLINK(1)"


@pytest.fixture
def season(session, make_performance, confirmed_earlier, confirmed):
    """A performance whose door closed (3 confirmed, 1 in) and one next week (2 confirmed)."""
    past = make_performance(capacity=10, starts_in=timedelta(hours=-5))
    came = confirmed_earlier(past, 1)
    confirmed_earlier(past, 2)
    checkin.manual(
        session,
        reference=came.reservation.reference,
        performance_id=past.id,
        now=past.starts_at,
    )
    later = make_performance(capacity=8, starts_in=timedelta(days=7))
    confirmed(later, 2)
    return past, later


REPORT_FIELDS = [
    "level",
    "show",
    "show_title",
    "performance_id",
    "venue",
    "starts_at",
    "is_cancelled",
    "performances",
    "seats",
    "confirmed",
    "checked_in",
    "no_shows",
    "walk_ins",
    "waitlist_joined",
    "waitlist_offered",
    "waitlist_booked",
]


def test_report_json(cli: Cli, season):
    past, later = season
    answer = json_output(cli("report", "--json"))
    assert list(answer) == ["performances", "shows"]
    first, second = answer["performances"]
    assert (first["performance_id"], first["seats"], first["confirmed"]) == (past.id, 10, 3)
    assert (first["checked_in"], first["no_shows"]) == (1, 2)
    assert (second["performance_id"], second["confirmed"], second["no_shows"]) == (
        later.id,
        2,
        None,
    )
    assert answer["shows"] == [
        {
            "show": "open-show",
            "show_title": "Open Show",
            "performances": 2,
            "seats": 18,
            "confirmed": 5,
            "checked_in": 1,
            "no_shows": 2,
            "walk_ins": 0,
            "waitlist_joined": 0,
            "waitlist_offered": 0,
            "waitlist_booked": 0,
        }
    ]


def test_report_csv_goes_through_the_one_writer(cli: Cli, season):
    past, _later = season
    text = succeeded(cli("report", "--csv")).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(REPORT_FIELDS)
    assert [row["level"] for row in rows] == ["performance", "performance", "show"]
    assert rows[0]["performance_id"] == str(past.id)
    assert (rows[0]["no_shows"], rows[1]["no_shows"]) == ("2", "")
    assert rows[2]["is_cancelled"] == ""


def test_report_table_has_a_line_per_performance_a_total_and_bars(cli: Cli, season):
    header, rows = table(cli("report"), title="Season report")
    assert header[:7] == [
        "Performance",
        "Seats",
        "Confirmed",
        "In",
        "No-show",
        "Walk-in",
        "Waitlist",
    ]
    assert [row[1:6] for row in rows] == [
        ["10", "3", "1", "2", "0"],
        ["8", "2", "0", "", "0"],
        ["18", "5", "1", "2", "0"],
    ]
    assert rows[2][0] == "Open Show (2)"
    # 10 seats in 12 cells: 1 in (1 cell), 3 confirmed (4 cells), the rest free.
    assert rows[0][-1] == "█▓▓▓░░░░░░░░"


def test_report_filters_and_refusals(cli: Cli, season):
    today = times.to_local(times.now_utc()).date()
    week = (today + timedelta(days=7)).isoformat()
    answer = json_output(cli("report", "--from", week, "--to", week, "--json"))
    assert len(answer["performances"]) == 1
    assert (
        json_output(cli("report", "--show", "open-show", "--json"))["shows"][0]["performances"] == 2
    )
    assert_error(cli("report", "--show", "nope"), "no show with slug 'nope'")
    assert_error(
        cli("report", "--from", "yesterday"),
        "--from: expected YYYY-MM-DD, today or tomorrow, got 'yesterday'",
    )
    assert_usage_error(cli("report", "--json", "--csv"), "--json or --csv")


def test_report_of_nothing(cli: Cli, engine):
    result = cli("report")
    assert result.exit_code == 0
    assert result.stderr == "No performances.\n"
    assert json_output(cli("report", "--json")) == {"performances": [], "shows": []}


def test_the_moved_booking_is_stored_where_it_went(cli: Cli, engine, dates, confirmed):
    a, b = dates
    ticket = confirmed(a, 2)
    succeeded(cli("res", "move", ticket.reservation.reference, "--to", str(b.id)))
    with engine.connect() as connection:
        stored = connection.execute(
            Reservation.__table__.select().where(Reservation.id == ticket.reservation.id)
        ).one()
    assert stored.performance_id == b.id
