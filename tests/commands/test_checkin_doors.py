"""`azctl checkin scan|manual --door NAME [--exit]` and `azctl checkin conflicts`: several
entrances, a party leaving at the interval and coming back, and the offline admissions that
clashed, as a script sees them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from azctl import db
from azctl.models import CheckIn, DoorPass, ScanLog
from azctl.services import checkin, checkin_offline, door_copy, times
from azctl.services.door_counts import Conflict
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_iso_with_offset,
    count,
    describe,
    iso,
    json_output,
    short,
    succeeded,
    table,
)
from tests.helpers import unchanged


@pytest.fixture
def tonight(make_performance):
    return make_performance(capacity=20)


@pytest.fixture
def ticket(tonight, confirmed):
    return confirmed(tonight, 2, name="Giulia Bianchi")


def scan(cli: Cli, text: str, performance_id: int, *options: str):
    return cli("checkin", "scan", text, "--perf", str(performance_id), *options)


def manual(cli: Cli, reference: str, performance_id: int, *options: str):
    return cli("checkin", "manual", reference, "--perf", str(performance_id), *options)


def refused(result, line: str) -> None:
    """Not let through: the code and message alone on stdout, exit 1."""
    assert (result.exit_code, result.stdout, result.stderr) == (1, line + "\n", ""), describe(
        result
    )


def test_a_scan_at_the_side_door_records_the_door(cli: Cli, tonight, ticket, anna, engine):
    reference = ticket.reservation.reference
    result = succeeded(scan(cli, ticket.ticket_token, tonight.id, "--door", "side", "--as", "anna"))
    assert (result.stdout, result.stderr) == (f"ok: ADMIT 2: {reference}\n", "")
    assert count(engine, CheckIn, door="side") == 1
    assert count(engine, DoorPass, door="side", direction="in") == 1
    assert count(engine, ScanLog, door="side", direction="in", result="ok") == 1

    again = scan(cli, ticket.ticket_token, tonight.id, "--door", "main", "--json")
    assert again.exit_code == 1, describe(again)
    answer = json.loads(again.stdout)
    assert (answer["result"], answer["door"], answer["direction"]) == (
        "already_checked_in",
        "main",
        "in",
    )
    assert answer["message"].endswith("by anna (side door)")


def test_the_json_answer_names_the_door_the_way_and_the_door_note(cli: Cli, tonight, ticket):
    reference = ticket.reservation.reference
    succeeded(cli("res", "flag", reference, "wheelchair space"))
    answer = json_output(scan(cli, ticket.ticket_token, tonight.id, "--door", "  side  ", "--json"))
    assert_iso_with_offset(answer.pop("checked_in_at"))
    assert answer == {
        "result": "ok",
        "message": f"ADMIT 2: {reference}",
        "reference": reference,
        "party_size": 2,
        "performance_id": tonight.id,
        "performance": f"Open Show, {short(tonight.starts_at)}",
        "checked_in_by": None,
        "direction": "in",
        "door": "side",
        "door_note": "wheelchair space",
    }
    leaving = json_output(scan(cli, ticket.ticket_token, tonight.id, "--exit", "--json"))
    assert (leaving["result"], leaving["direction"], leaving["door"]) == ("ok", "out", "main")
    assert leaving["door_note"] is None


def test_out_at_the_interval_once_then_back_in_once(cli: Cli, tonight, ticket, engine: Engine):
    reference = ticket.reservation.reference
    token = ticket.ticket_token
    refused(
        scan(cli, token, tonight.id, "--exit"), f"not_inside: NOT INSIDE: {reference} never came in"
    )
    succeeded(scan(cli, token, tonight.id))
    out = succeeded(scan(cli, token, tonight.id, "--exit", "--door", "side"))
    assert (out.stdout, out.stderr) == (f"ok: EXIT 2: {reference} may come back in once\n", "")
    refused(
        scan(cli, token, tonight.id, "--exit"),
        f"not_inside: NOT INSIDE: {reference} has left already",
    )
    back = succeeded(scan(cli, token, tonight.id, "--door", "side"))
    assert back.stdout == f"ok: ADMIT 2 (back in): {reference}\n"
    assert scan(cli, token, tonight.id).exit_code == 1

    assert count(engine, CheckIn) == 1
    assert [count(engine, DoorPass, direction=way) for way in ("in", "out")] == [2, 1]
    assert count(engine, ScanLog, result="not_inside", direction="out") == 2


def test_manual_exit_by_reference(cli: Cli, tonight, ticket, anna):
    reference = ticket.reservation.reference
    perf = tonight.id
    refused(
        manual(cli, reference, perf, "--exit"), f"not_inside: NOT INSIDE: {reference} never came in"
    )
    succeeded(manual(cli, reference, perf, "--as", "anna"))
    out = succeeded(manual(cli, reference.lower(), perf, "--exit", "--door", "side"))
    assert out.stdout == f"ok: EXIT 2: {reference} may come back in once\n"
    refused(
        manual(cli, reference, perf, "--exit", "--door", "side"),
        f"not_inside: NOT INSIDE: {reference} has left already",
    )
    answer = json_output(manual(cli, reference, perf, "--json"))
    assert (answer["result"], answer["checked_in_by"]) == ("ok", "anna")
    assert answer["message"] == f"ADMIT 2 (back in): {reference}"


@pytest.mark.parametrize("command", ["scan", "manual"])
def test_a_door_name_too_long_is_refused_in_one_line(
    cli: Cli, tonight, ticket, engine: Engine, command
):
    text = ticket.ticket_token if command == "scan" else ticket.reservation.reference
    with unchanged(engine):
        for options in (
            ("--door", "x" * 41),
            ("--door", "bar\x07"),
            ("--exit", "--door", "x" * 41),
        ):
            assert_error(
                cli("checkin", command, text, "--perf", str(tonight.id), *options),
                "door: a door's name is at most 40 printable characters",
            )
    assert succeeded(scan(cli, ticket.ticket_token, tonight.id, "--door", "y" * 40))


# --- conflicts ------------------------------------------------------------------------------------


@pytest.fixture
def clash(session, engine, tonight, ticket, make_staff):
    """The side door let the party in offline, after the main door had admitted it online."""
    copy = door_copy.take_copy(session, performance_id=tonight.id, door="side")
    first_at = times.now_utc() - timedelta(minutes=3)
    bruno, _token = make_staff("bruno")
    checkin.scan(
        session, text=ticket.ticket_token, performance_id=tonight.id, door="main", now=first_at
    )
    passed_at = first_at + timedelta(minutes=1)
    assert copy.decide(text=ticket.ticket_token, now=passed_at).admitted
    [entry] = copy.journal
    with db.new_session(engine) as upload:
        answer = checkin_offline.record_offline(
            upload,
            performance_id=tonight.id,
            nonce=entry.nonce,
            passed_at=passed_at,
            token_hash=entry.token_hash,
            door="side",
            staff=bruno,
        )
    assert answer.result == "already_checked_in"
    return first_at, passed_at


def test_conflicts_json_has_stable_keys(cli: Cli, tonight, ticket, clash):
    first_at, passed_at = clash
    [row] = json_output(cli("checkin", "conflicts", "--perf", str(tonight.id), "--json"))
    assert list(row) == list(Conflict.FIELDS)
    recorded_at = assert_iso_with_offset(row.pop("recorded_at"))
    assert recorded_at > passed_at
    assert row == {
        "reference": ticket.reservation.reference,
        "party_size": 2,
        "door": "side",
        "direction": "in",
        "passed_at": iso(passed_at),
        "conflict": "already_checked_in",
        "by": "bruno",
        "first_door": "main",
        "first_at": iso(first_at),
    }


def clock(moment) -> str:
    return f"{times.to_local(moment):%H:%M}"


def test_conflicts_table(cli: Cli, tonight, ticket, clash):
    first_at, passed_at = clash
    result = cli("checkin", "conflicts", "--perf", str(tonight.id))
    header, rows = table(result, title="Offline admissions that clashed")
    assert result.stderr == ""
    assert header == [
        "At",
        "Door",
        "Reference",
        "Seats",
        "Clash",
        "First",
        "at",
        "By",
    ]
    assert rows == [
        [
            clock(passed_at),
            "side",
            ticket.reservation.reference,
            "2",
            "already_checked_in",
            "main",
            clock(first_at),
            "bruno",
        ]
    ]


def test_no_conflicts_is_said_on_stderr(cli: Cli, tonight, ticket):
    succeeded(scan(cli, ticket.ticket_token, tonight.id))
    result = succeeded(cli("checkin", "conflicts", "--perf", str(tonight.id)))
    assert (result.stdout, result.stderr) == ("", "No offline admissions that clashed.\n")
    assert json_output(cli("checkin", "conflicts", "--perf", str(tonight.id), "--json")) == []


def test_conflicts_of_an_unknown_performance_is_refused(cli: Cli, tonight, engine: Engine):
    with unchanged(engine):
        assert_error(cli("checkin", "conflicts", "--perf", "999"), "no performance with id 999")
