"""`azctl demo`: a sample season, loaded once, beside other data but never over it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from azctl import db
from azctl.services import staff
from tests.commands.helpers import Cli, assert_error, json_output, succeeded
from tests.helpers import unchanged

PERFORMANCES = re.compile(
    r"Performances: tonight's #1 at \w{3} \d\d \w{3} \d\d:\d\d, (\d+) more of la-locandiera,"
    r" (\d+) of il-servitore-di-due-padroni, 1 of aspettando-godot"
)
SCAN = re.compile(r"Scan a ticket:    azctl checkin scan ([0-9A-Z]{32}) --perf 1 --as anna")
API_TOKEN = re.compile(r"Anna's API token: ([0-9A-Z]{32}) \(shown once\)")


def shown(database_url: str) -> str:
    """The database URL as the demo prints it: without its password."""
    return sa.make_url(database_url).render_as_string(hide_password=True)


def test_demo_fills_an_empty_database_once(
    cli: Cli, database_url: str, engine: Engine, isolated_settings: Path
):
    result = succeeded(cli("demo"))
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 11, result.stdout
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
    assert lines[6] == f"Database:         {shown(database_url)}"
    assert lines[7] == "Tonight's door:   azctl perf show 1"
    scan = SCAN.fullmatch(lines[8])
    api_token = API_TOKEN.fullmatch(lines[9])
    assert scan and api_token, result.stdout
    assert lines[10] == (
        "Queued mail:      azctl mail send (writes each message as an .eml file into"
        f" {isolated_settings / 'mail'})"
    )

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
    assert again.stdout == (
        f"The demo season is already loaded in {shown(database_url)}; `azctl perf list` shows it.\n"
    )


def test_demo_says_when_its_mail_goes_by_smtp(cli: Cli, database_url: str):
    result = succeeded(cli("demo", env={"AZCTL_SMTP_URL": "smtp://box:secret@127.0.0.1:1"}))
    assert result.stdout.splitlines()[-1] == (
        "Queued mail:      azctl mail send (delivers it by SMTP to 127.0.0.1:1)"
    )


def test_demo_loads_beside_a_season_made_by_hand(cli: Cli, database_url: str, engine: Engine):
    """Other data is not the demo's: the demo loads beside it, and then knows it is loaded."""
    succeeded(cli("venue", "add", "Teatro Gerolamo", "--city", "Milano"))
    succeeded(cli("show", "add", "La Mandragola", "--publish"))
    succeeded(cli("staff", "add", "marta", "--role", "box_office"))
    loaded = succeeded(cli("demo"))
    assert loaded.stdout.startswith("Venues: Teatro Studio (teatro-studio), ")
    assert "already loaded" in succeeded(cli("demo")).stdout


@pytest.mark.parametrize(
    ("command", "taken"),
    [
        (("venue", "add", "Teatro Studio", "--city", "Milano"), "venue teatro-studio"),
        (("staff", "add", "anna", "--role", "box_office"), "staff member anna"),
    ],
)
def test_demo_refuses_to_load_over_its_own_names_made_by_hand(
    cli: Cli, database_url: str, engine: Engine, command: tuple[str, ...], taken: str
):
    succeeded(cli(*command))
    with unchanged(engine):
        assert_error(
            cli("demo"),
            f"the demo cannot be loaded beside data that uses its names ({taken});"
            " load it into an empty data dir (AZCTL_DATA_DIR)",
        )
