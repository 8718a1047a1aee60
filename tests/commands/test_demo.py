"""`azctl demo`: a sample season on an empty database, loaded once."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from azctl import db
from azctl.services import staff
from tests.commands.helpers import Cli, json_output, succeeded
from tests.helpers import unchanged

PERFORMANCES = re.compile(
    r"Performances: tonight's #1 at \w{3} \d\d \w{3} \d\d:\d\d, (\d+) more of la-locandiera,"
    r" (\d+) of il-servitore-di-due-padroni, 1 of aspettando-godot"
)
SCAN = re.compile(r"Scan a ticket:    azctl checkin scan ([0-9A-Z]{32}) --perf 1 --as anna")
API_TOKEN = re.compile(r"Anna's API token: ([0-9A-Z]{32}) \(shown once\)")


def test_demo_fills_an_empty_database_once(cli: Cli, database_url: str, engine: Engine):
    result = succeeded(cli("demo"))
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 10, result.stdout
    assert lines[0] == (
        "Venues: Teatro Studio (teatro-studio), Cortile della Cascina (cortile-della-cascina)"
    )
    assert lines[1] == (
        "Shows: la-locandiera and il-servitore-di-due-padroni (published),"
        " aspettando-godot (unpublished)"
    )
    made = PERFORMANCES.fullmatch(lines[2])
    assert made, lines[2]
    assert lines[3] == "Staff: anna (box_office), admin (admin)"
    assert lines[4] == (
        "Reservations tonight: 6 confirmed (3 checked in by anna), 2 pending;"
        " 3 more confirmed for later dates"
    )
    assert lines[5] == ""
    assert lines[6] == "Tonight's door:   azctl perf show 1"
    scan = SCAN.fullmatch(lines[7])
    api_token = API_TOKEN.fullmatch(lines[8])
    assert scan and api_token, result.stdout
    assert lines[9] == "Queued mail:      azctl mail send"

    performances = json_output(cli("perf", "list", "--json"))
    assert {row["venue"] for row in performances} == {"teatro-studio", "cortile-della-cascina"}
    assert len(performances) == 1 + int(made[1]) + int(made[2]) + 1
    tonight = next(row for row in performances if row["id"] == 1)
    assert (tonight["confirmed_seats"], tonight["checked_in_seats"]) == (14, 7)
    assert tonight["pending_reservations"] == 2

    reservations = json_output(cli("res", "list", "--json"))
    assert {row["status"] for row in reservations} == {"pending", "confirmed"}
    assert sum(row["checked_in"] for row in reservations) == 3
    assert len(reservations) == 8 + 3

    # What the demo tells a newcomer to type works.
    admitted = succeeded(cli("checkin", "scan", scan[1], "--perf", "1", "--as", "anna"))
    assert re.fullmatch(r"ok: ADMIT 2: AZ-[0-9A-Z]{6}\n", admitted.stdout)
    with db.new_session(engine) as session:
        assert staff.authenticate(session, token=api_token[1]).username == "anna"

    with unchanged(engine):
        again = succeeded(cli("demo"))
    assert again.stdout == "The demo season is already loaded; `azctl perf list` shows it.\n"
