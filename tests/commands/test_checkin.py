"""`azctl checkin scan|manual|list|undo`: exit 0 only when the party may come in."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from typer.testing import Result

from azctl.models import CheckIn, ScanLog
from azctl.services import booking, tickets
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_iso_with_offset,
    count,
    describe,
    json_output,
    short,
    shown,
    succeeded,
    table,
)
from tests.helpers import snapshot, unchanged

CHECKIN_FIELDS = ["reference", "party_size", "name", "checked_in_at", "checked_in_by", "source"]


@pytest.fixture
def tonight(make_performance):
    return make_performance(capacity=20)


@pytest.fixture
def ticket(tonight, confirmed) -> booking.ConfirmedBooking:
    return confirmed(tonight, 2, name="Giulia Bianchi")


def scan(cli: Cli, text: str, performance_id: int, *options: str):
    return cli("checkin", "scan", text, "--perf", str(performance_id), *options)


def refused_json(result: Result) -> dict[str, object]:
    """The door's JSON answer to a party it did not admit: on stdout, with exit 1."""
    assert (result.exit_code, result.stderr) == (1, ""), describe(result)
    return json.loads(result.stdout)


def refused_scan(result: Result, line: str) -> None:
    """Not admitted: the result code and message on stdout, nothing on stderr, exit 1."""
    assert (result.exit_code, result.stdout, result.stderr) == (1, line + "\n", ""), describe(
        result
    )


def test_scan_a_bare_token(cli: Cli, tonight, ticket, engine: Engine):
    reference = ticket.reservation.reference
    result = succeeded(scan(cli, ticket.ticket_token, tonight.id))
    assert (result.stdout, result.stderr) == (f"ok: ADMIT 2: {reference}\n", "")
    assert count(engine, CheckIn) == 1
    assert count(engine, ScanLog, result="ok", source="qr_scan") == 1


def test_scan_a_ticket_url(cli: Cli, tonight, ticket):
    url = tickets.ticket_url(ticket.ticket_token)
    assert url.endswith(f"/t/{ticket.ticket_token}")
    result = succeeded(scan(cli, url, tonight.id))
    assert result.stdout == f"ok: ADMIT 2: {ticket.reservation.reference}\n"


def test_scan_what_a_mangled_keyboard_layout_types(cli: Cli, tonight, ticket):
    mangled = "https>&&127.0.0.1&t&" + ticket.ticket_token.lower()
    assert succeeded(scan(cli, mangled, tonight.id)).stdout.startswith("ok: ADMIT 2: ")


def test_scan_json_as_a_staff_member(cli: Cli, tonight, ticket, anna: str):
    outcome = json_output(scan(cli, ticket.ticket_token, tonight.id, "--as", "anna", "--json"))
    checked_in_at = assert_iso_with_offset(outcome.pop("checked_in_at"))
    assert outcome == {
        "result": "ok",
        "message": f"ADMIT 2: {ticket.reservation.reference}",
        "reference": ticket.reservation.reference,
        "party_size": 2,
        "performance_id": tonight.id,
        "performance": f"Open Show, {short(tonight.starts_at)}",
        "checked_in_by": "anna",
        "direction": "in",
        "door": "main",
        "door_note": None,
    }
    listed = json_output(cli("checkin", "list", "--perf", str(tonight.id), "--json"))
    assert listed[0]["checked_in_by"] == "anna"
    assert listed[0]["checked_in_at"] == checked_in_at.isoformat()


def test_a_second_scan_says_already_checked_in(cli: Cli, tonight, ticket, anna: str, engine):
    succeeded(scan(cli, ticket.ticket_token, tonight.id, "--as", "anna"))
    again = scan(cli, ticket.ticket_token, tonight.id)
    assert again.exit_code == 1, describe(again)
    assert re.fullmatch(
        r"already_checked_in: ALREADY CHECKED IN at \d\d:\d\d by anna\n", again.stdout
    )
    outcome = refused_json(scan(cli, ticket.ticket_token, tonight.id, "--json"))
    assert outcome["result"] == "already_checked_in"
    assert outcome["checked_in_by"] == "anna"
    assert count(engine, CheckIn) == 1
    assert count(engine, ScanLog) == 3


def test_garbage_is_an_unknown_ticket_and_only_logged(cli: Cli, tonight, ticket, engine: Engine):
    before = snapshot(engine)
    refused_scan(
        scan(cli, "hello world", tonight.id), "unknown_token: UNKNOWN TICKET: no such ticket"
    )
    after = snapshot(engine)
    assert {name: rows for name, rows in after.items() if name != "scan_log"} == {
        name: rows for name, rows in before.items() if name != "scan_log"
    }
    assert count(engine, ScanLog, result="unknown_token") == 1
    assert count(engine, CheckIn) == 0


def test_a_well_formed_token_that_is_no_ticket_is_unknown(cli: Cli, tonight, ticket):
    refused_scan(scan(cli, "0" * 32, tonight.id), "unknown_token: UNKNOWN TICKET: no such ticket")
    outcome = refused_json(scan(cli, "0" * 32, tonight.id, "--json"))
    assert outcome == {
        "result": "unknown_token",
        "message": "UNKNOWN TICKET: no such ticket",
        "reference": None,
        "party_size": None,
        "performance_id": None,
        "performance": None,
        "checked_in_at": None,
        "checked_in_by": None,
        "direction": "in",
        "door": "main",
        "door_note": None,
    }


def test_a_ticket_for_another_performance(cli: Cli, tonight, ticket, make_performance):
    other = make_performance(starts_in=timedelta(hours=1))
    label = f"Open Show, {short(tonight.starts_at)}"
    refused_scan(
        scan(cli, ticket.ticket_token, other.id),
        f"wrong_performance: WRONG PERFORMANCE: ticket is for {label}",
    )
    outcome = refused_json(scan(cli, ticket.ticket_token, other.id, "--json"))
    assert (outcome["performance_id"], outcome["performance"]) == (tonight.id, label)


def test_too_early(cli: Cli, make_performance, confirmed):
    later = make_performance(starts_in=timedelta(hours=5))
    early = confirmed(later, 2)
    result = scan(cli, early.ticket_token, later.id)
    opens = short(later.starts_at - timedelta(hours=3))
    assert result.exit_code == 1, describe(result)
    assert re.fullmatch(
        rf"too_early: TOO EARLY: the door opens at {opens} \(now \d\d:\d\d\)\n", result.stdout
    )
    outcome = refused_json(scan(cli, early.ticket_token, later.id, "--json"))
    assert outcome["result"] == "too_early"
    assert assert_iso_with_offset(outcome["window_opens_at"]) == later.starts_at - timedelta(
        hours=3
    )
    assert_iso_with_offset(outcome["window_closes_at"])
    assert_iso_with_offset(outcome["now"])


def test_too_late(cli: Cli, make_performance, confirmed_earlier):
    past = make_performance(starts_in=timedelta(hours=-5))
    late = confirmed_earlier(past, 2)
    closes = short(past.starts_at + timedelta(hours=4))
    result = scan(cli, late.ticket_token, past.id)
    assert result.exit_code == 1, describe(result)
    assert re.fullmatch(
        rf"too_late: TOO LATE: the door closed at {closes} \(now \d\d:\d\d\)\n", result.stdout
    )


def test_manual_check_in_by_reference(cli: Cli, tonight, ticket, anna: str):
    reference = ticket.reservation.reference
    result = succeeded(
        cli("checkin", "manual", reference[3:].lower(), "--perf", str(tonight.id), "--as", "anna")
    )
    assert result.stdout == f"ok: ADMIT 2: {reference}\n"
    listed = json_output(cli("checkin", "list", "--perf", str(tonight.id), "--json"))
    assert [(row["reference"], row["source"], row["checked_in_by"]) for row in listed] == [
        (reference, "manual", "anna")
    ]
    again = cli("checkin", "manual", reference, "--perf", str(tonight.id))
    assert again.exit_code == 1
    assert again.stdout.startswith("already_checked_in: ALREADY CHECKED IN at ")


def test_manual_json(cli: Cli, tonight, ticket):
    outcome = json_output(
        cli("checkin", "manual", ticket.reservation.reference, "--perf", str(tonight.id), "--json")
    )
    assert (outcome["result"], outcome["party_size"], outcome["checked_in_by"]) == ("ok", 2, None)


def test_manual_check_in_of_a_pending_booking(cli: Cli, tonight, book, engine: Engine):
    pending = book(tonight, 3).reservation.reference
    refused_scan(
        cli("checkin", "manual", pending, "--perf", str(tonight.id)),
        f"not_confirmed: NOT CONFIRMED: booking {pending} is pending",
    )
    assert count(engine, CheckIn) == 0
    assert count(engine, ScanLog, result="not_confirmed", source="manual") == 1


def test_after_the_performance_is_cancelled(cli: Cli, tonight, ticket):
    perf = str(tonight.id)
    succeeded(cli("perf", "cancel", perf, "--yes"))
    line = f"performance_cancelled: PERFORMANCE CANCELLED: Open Show, {short(tonight.starts_at)}"
    refused_scan(scan(cli, ticket.ticket_token, tonight.id), line)
    refused_scan(cli("checkin", "manual", ticket.reservation.reference, "--perf", perf), line)


def test_a_cancelled_booking_is_not_confirmed(cli: Cli, tonight, ticket):
    reference = ticket.reservation.reference
    succeeded(cli("res", "cancel", reference))
    refused_scan(
        scan(cli, ticket.ticket_token, tonight.id),
        f"not_confirmed: NOT CONFIRMED: booking {reference} is cancelled",
    )


def test_manual_check_in_of_an_unknown_reference_is_refused_and_logged(
    cli: Cli, tonight, ticket, engine: Engine
):
    before = snapshot(engine)
    assert_error(
        cli("checkin", "manual", "AZ-NOSUCH", "--perf", str(tonight.id)),
        "no reservation with reference 'AZ-NOSUCH'",
    )
    after = snapshot(engine)
    assert {name: rows for name, rows in after.items() if name != "scan_log"} == {
        name: rows for name, rows in before.items() if name != "scan_log"
    }
    assert count(engine, ScanLog, result="unknown_token", source="manual") == 1


@pytest.fixture
def arrivals(cli: Cli, tonight, confirmed, anna: str) -> list[str]:
    """Giulia scanned by anna, then Marco checked in by hand; Sara has not come."""
    giulia = confirmed(tonight, 2, name="Giulia Bianchi")
    marco = confirmed(tonight, 4, name="Marco Rossi")
    confirmed(tonight, 1, name="Sara Conti")
    succeeded(scan(cli, giulia.ticket_token, tonight.id, "--as", "anna"))
    succeeded(cli("checkin", "manual", marco.reservation.reference, "--perf", str(tonight.id)))
    return [giulia.reservation.reference, marco.reservation.reference]


def test_list_table_in_order_of_arrival(cli: Cli, tonight, arrivals: list[str]):
    header, rows = table(cli("checkin", "list", "--perf", str(tonight.id)), title="Check-ins")
    assert header == ["At", "Reference", "Seats", "Name", "By", "How"]
    assert [row[1:] for row in rows] == [
        [arrivals[0], "2", "Giulia Bianchi", "anna", "qr_scan"],
        [arrivals[1], "4", "Marco Rossi", "", "manual"],
    ]
    listed = json_output(cli("checkin", "list", "--perf", str(tonight.id), "--json"))
    assert [row[0] for row in rows] == [
        shown(assert_iso_with_offset(row["checked_in_at"])) for row in listed
    ]


def test_list_json_and_csv(cli: Cli, tonight, arrivals: list[str]):
    listed = json_output(cli("checkin", "list", "--perf", str(tonight.id), "--json"))
    assert all(list(row) == CHECKIN_FIELDS for row in listed)
    assert [(row["reference"], row["party_size"], row["name"]) for row in listed] == [
        (arrivals[0], 2, "Giulia Bianchi"),
        (arrivals[1], 4, "Marco Rossi"),
    ]
    result = succeeded(cli("checkin", "list", "--perf", str(tonight.id), "--csv"))
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == CHECKIN_FIELDS
    rows = list(reader)
    assert [row["reference"] for row in rows] == arrivals
    assert [row["checked_in_by"] for row in rows] == ["anna", ""]
    assert [row["checked_in_at"] for row in rows] == [row["checked_in_at"] for row in listed]


def test_list_when_nobody_has_come(cli: Cli, tonight):
    result = succeeded(cli("checkin", "list", "--perf", str(tonight.id)))
    assert (result.stdout, result.stderr) == ("", "No check-ins.\n")
    assert json_output(cli("checkin", "list", "--perf", str(tonight.id), "--json")) == []


def test_csv_header_does_not_depend_on_there_being_rows(cli: Cli, tonight):
    result = succeeded(cli("checkin", "list", "--perf", str(tonight.id), "--csv"))
    assert result.stdout == ",".join(CHECKIN_FIELDS) + "\n"


def test_undo_takes_a_check_in_back(cli: Cli, tonight, ticket, anna: str, engine: Engine):
    reference = ticket.reservation.reference
    perf = str(tonight.id)
    succeeded(scan(cli, ticket.ticket_token, tonight.id))
    result = succeeded(cli("checkin", "undo", reference, "--perf", perf, "--as", "anna"))
    assert (result.stdout, result.stderr) == (f"Undid the check-in of {reference}.\n", "")
    assert count(engine, CheckIn) == 0
    assert count(engine, ScanLog, result="undone") == 1
    assert json_output(cli("perf", "show", perf, "--json"))["checked_in_seats"] == 0
    assert succeeded(scan(cli, ticket.ticket_token, tonight.id)).stdout.startswith("ok: ")


def test_undo_refusals_change_nothing(cli: Cli, tonight, ticket, engine: Engine, make_performance):
    reference = ticket.reservation.reference
    other = make_performance(starts_in=timedelta(hours=1))
    with unchanged(engine):
        assert_error(
            cli("checkin", "undo", reference, "--perf", str(tonight.id)),
            f"{reference} is not checked in to performance {tonight.id}",
        )
        assert_error(
            cli("checkin", "undo", "AZ-NOSUCH", "--perf", str(tonight.id)),
            "no reservation with reference 'AZ-NOSUCH'",
        )
    succeeded(scan(cli, ticket.ticket_token, tonight.id))
    with unchanged(engine):
        assert_error(
            cli("checkin", "undo", reference, "--perf", str(other.id)),
            f"{reference} is not checked in to performance {other.id}",
        )


@pytest.mark.parametrize(
    "args",
    [
        ["checkin", "scan", "0" * 32, "--perf", "999"],
        ["checkin", "manual", "AZ-NOSUCH", "--perf", "999"],
        ["checkin", "list", "--perf", "999"],
        ["checkin", "undo", "AZ-NOSUCH", "--perf", "999"],
    ],
)
def test_an_unknown_performance_is_refused(cli: Cli, tonight, engine: Engine, args):
    with unchanged(engine):
        assert_error(cli(*args), "no performance with id 999")


def test_acting_as_someone_unknown_or_disabled_is_refused(
    cli: Cli, tonight, ticket, bob: None, engine: Engine
):
    perf = str(tonight.id)
    reference = ticket.reservation.reference
    with unchanged(engine):
        assert_error(
            scan(cli, ticket.ticket_token, tonight.id, "--as", "carla"), "no staff member 'carla'"
        )
        assert_error(
            scan(cli, ticket.ticket_token, tonight.id, "--as", "bob"),
            "staff member 'bob' is disabled",
        )
        assert_error(
            cli("checkin", "manual", reference, "--perf", perf, "--as", "bob"),
            "staff member 'bob' is disabled",
        )
    succeeded(scan(cli, ticket.ticket_token, tonight.id))
    with unchanged(engine):
        assert_error(
            cli("checkin", "undo", reference, "--perf", perf, "--as", "carla"),
            "no staff member 'carla'",
        )
