"""The error boundary: a refusal is one `Error:` line on stderr, exit 1, and no change; a usage
mistake exits 2; nothing ends in a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import errors
from azctl.services import booking
from tests.commands.helpers import Cli, assert_error, assert_usage_error, describe
from tests.helpers import unchanged

AT = ["--at", "2030-12-12 20:30"]
TOO_BIG = str(2**63)


@dataclass
class Stock:
    perf: str
    ref: str
    pending: str
    ticket: str


@pytest.fixture
def stock(make_performance, confirmed, book, anna: str, bob: None) -> Stock:
    """Four seats at the Teatro Studio: 3 confirmed, 1 pending, 1 free; anna works, bob not."""
    performance = make_performance(capacity=4)
    ticket = confirmed(performance, 3)
    pending = book(performance, 1)
    return Stock(
        perf=str(performance.id),
        ref=ticket.reservation.reference,
        pending=pending.reservation.reference,
        ticket=ticket.ticket_token,
    )


REFUSALS = [
    (
        ["perf", "add", "hamlet", "teatro-studio", *AT, "--capacity", "10"],
        "no show with slug 'hamlet'",
    ),
    (
        ["perf", "add", "open-show", "nowhere", *AT, "--capacity", "10"],
        "no venue with slug 'nowhere'",
    ),
    (
        ["perf", "add", "open-show", "teatro-studio", *AT, "--capacity", "-1"],
        "capacity must be at least 0, got -1",
    ),
    (
        [
            "perf",
            "add",
            "open-show",
            "teatro-studio",
            "--at",
            "2026-13-01 10:00",
            "--capacity",
            "9",
        ],
        "--at: 2026-13-01 is not a date",
    ),
    (
        ["perf", "add", "open-show", "teatro-studio", "--at", "tomorrow", "--capacity", "9"],
        "--at: expected YYYY-MM-DD HH:MM, got 'tomorrow'",
    ),
    (
        ["perf", "add", "open-show", "teatro-studio", "--at", "2030-12-12", "--capacity", "9"],
        "--at: expected YYYY-MM-DD HH:MM, got '2030-12-12'",
    ),
    (
        ["perf", "capacity", "{perf}", "--capacity", "2"],
        "2 + 0 additional seats would not hold the 3 confirmed and 0 manually occupied seats",
    ),
    (["perf", "capacity", "{perf}", "--capacity", "-1"], "capacity must be at least 0, got -1"),
    (
        ["perf", "capacity", "{perf}", "--occupy", "+2"],
        "cannot occupy 2 more seats: only 1 is free",
    ),
    (["perf", "show", "999"], "no performance with id 999"),
    (
        ["venue", "add", "Teatro Studio", "--city", "Milano"],
        "a venue with slug 'teatro-studio' already exists",
    ),
    (["show", "add", "Open Show"], "a show with slug 'open-show' already exists"),
    (["venue", "show", "nowhere"], "no venue with slug 'nowhere'"),
    (["show", "show", "hamlet"], "no show with slug 'hamlet'"),
    (["res", "show", "AZ-NOSUCH"], "no reservation with reference 'AZ-NOSUCH'"),
    (["res", "cancel", "nosuch"], "no reservation with reference 'nosuch'"),
    (["res", "resend", "AZ-NOSUCH"], "no reservation with reference 'AZ-NOSUCH'"),
    (
        ["checkin", "scan", "{ticket}", "--perf", "{perf}", "--as", "carla"],
        "no staff member 'carla'",
    ),
    (
        ["checkin", "scan", "{ticket}", "--perf", "{perf}", "--as", "bob"],
        "staff member 'bob' is disabled",
    ),
    (
        ["checkin", "manual", "{ref}", "--perf", "{perf}", "--as", "bob"],
        "staff member 'bob' is disabled",
    ),
    (
        ["res", "list", "--status", "bogus"],
        "status must be one of pending, confirmed, cancelled, expired, got 'bogus'",
    ),
    (
        ["checkin", "undo", "{pending}", "--perf", "{perf}"],
        "{pending} is not checked in to performance {perf}",
    ),
    (["staff", "add", "anna", "--role", "admin"], "staff member 'anna' already exists"),
    (["mail", "test", "nobody"], "address: 'nobody' is not an email address"),
]


def fill(args: list[str], stock: Stock) -> list[str]:
    return [arg.format(**vars(stock)) for arg in args]


@pytest.mark.parametrize(
    ("args", "message"),
    REFUSALS,
    ids=[" ".join(a[:2]) + f" #{n}" for n, (a, _m) in enumerate(REFUSALS)],
)
def test_a_refusal_is_one_error_line_and_changes_nothing(
    cli: Cli, stock: Stock, engine: Engine, args: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli(*fill(args, stock)), message.format(**vars(stock)))


def test_a_scan_of_garbage_is_a_result_not_an_error(cli: Cli, stock: Stock):
    result = cli("checkin", "scan", "garbage", "--perf", stock.perf)
    assert (result.exit_code, result.stderr) == (1, ""), describe(result)
    assert result.stdout == "unknown_token: UNKNOWN TICKET: no such ticket\n"


@pytest.mark.parametrize("party_size", [0, -1, 9])
def test_the_booking_service_refuses_a_bad_party_size(
    session: Session, engine: Engine, stock: Stock, party_size: int
):
    """The CLI has no booking verb; the service behind every front end refuses, and nothing
    is written."""
    with unchanged(engine), pytest.raises(errors.InvalidInput) as refused:
        booking.submit_booking(
            session,
            performance_id=int(stock.perf),
            name="Giulia Bianchi",
            email="giulia@example.org",
            party_size=party_size,
        )
    assert refused.value.field == "party_size"
    assert refused.value.code == "invalid_input"
    bound = "at most 8" if party_size > 0 else "at least 1"
    assert refused.value.message == f"party_size must be {bound}, got {party_size}"


USAGE = [
    (["perf", "add", "open-show", "teatro-studio", *AT], "Missing option '--capacity'"),
    (["perf", "add", "open-show", "teatro-studio", *AT, "--capacity", "ten"], "--capacity"),
    (["perf", "capacity", "first", "--occupy", "+1"], "Invalid value"),
    (["venue", "add", "Sala Nuova"], "Missing option '--city'"),
    (["staff", "add", "carla"], "Missing option '--role'"),
    (["checkin", "scan", "0" * 32], "Missing option '--perf'"),
    (["res", "show"], "Missing argument"),
    (["res", "list", "--json", "--csv"], "give --json or --csv, not both"),
    (["checkin", "list", "--perf", "1", "--csv", "--json"], "give --json or --csv, not both"),
    (["perf", "list", "--csv"], "No such option: --csv"),
]


@pytest.mark.parametrize(
    ("args", "needle"), USAGE, ids=[" ".join(a[:2]) + f" #{n}" for n, (a, _m) in enumerate(USAGE)]
)
def test_a_usage_mistake_exits_2_and_changes_nothing(
    cli: Cli, make_performance, engine: Engine, args: list[str], needle: str
):
    make_performance()
    with unchanged(engine):
        assert_usage_error(cli(*args), needle)


def test_a_usage_mistake_is_one_line_too(cli: Cli, database_url: str):
    result = cli("perf", "add", "open-show", "teatro-studio", *AT)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["Error: Missing option '--capacity'."]


def test_an_unreachable_database_is_one_error_line(cli: Cli):
    result = cli(
        "perf", "list", env={"AZCTL_DATABASE_URL": "postgresql+psycopg://azctl@127.0.0.1:1/azctl"}
    )
    assert result.exit_code == 1, describe(result)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: the database is unavailable: ")
    assert len(result.stderr.splitlines()) == 1
    assert isinstance(result.exception, SystemExit)


def test_a_bad_setting_is_a_configuration_error(cli: Cli):
    result = cli("venue", "list", env={"AZCTL_TIMEZONE": "Mars/Olympus"})
    assert (result.exit_code, result.stdout) == (2, ""), describe(result)
    assert result.stderr == (
        "Configuration error: AZCTL_TIMEZONE: unknown time zone 'Mars/Olympus'\n"
    )
    assert isinstance(result.exception, SystemExit)


def test_an_unparseable_database_url_is_a_configuration_error(cli: Cli):
    result = cli("venue", "list", env={"AZCTL_DATABASE_URL": "not a url"})
    assert result.exit_code == 2, describe(result)
    assert len(result.stderr.splitlines()) == 1
    assert "AZCTL_DATABASE_URL" in result.stderr


def test_a_data_dir_that_cannot_be_made_is_one_error_line(cli: Cli, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = cli("venue", "list", env={"AZCTL_DATA_DIR": str(blocker / "data")})
    assert result.exit_code in (1, 2), describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["perf", "show", TOO_BIG],
        ["perf", "add", "open-show", "teatro-studio", *AT, "--capacity", TOO_BIG],
        ["checkin", "list", "--perf", TOO_BIG],
    ],
    ids=["perf show", "perf add", "checkin list"],
)
def test_an_integer_out_of_range_is_refused_in_one_line(
    cli: Cli, stock: Stock, engine: Engine, args: list[str]
):
    with unchanged(engine):
        result = cli(*args)
    assert result.exit_code in (1, 2), describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("bind", "problem"),
    [
        ("127.0.0.1:99999", "port 99999 is not between 1 and 65535"),
        ("127.0.0.1:0", "port 0 is not between 1 and 65535"),
        ("127.0.0.1", "expected HOST:PORT (e.g. 127.0.0.1:8000), got '127.0.0.1'"),
        ("localhost:http", "expected HOST:PORT (e.g. 127.0.0.1:8000), got 'localhost:http'"),
        (":8000", "expected HOST:PORT (e.g. 127.0.0.1:8000), got ':8000'"),
        ("::1:8000", "write an IPv6 host in brackets, e.g. [::1]:8000, got '::1:8000'"),
    ],
)
def test_a_malformed_bind_is_one_usage_line(cli: Cli, bind: str, problem: str):
    result = cli("serve", "--bind", bind)
    assert (result.exit_code, result.stdout) == (2, ""), describe(result)
    assert result.stderr == f"Error: Invalid value for '--bind': {problem}\n"


@pytest.mark.parametrize(
    "bind", ["0.0.0.0:8000", "tickets.example.org:443", "[::1]:8000", "unix:/run/azctl.sock"]
)
def test_a_well_formed_bind_reaches_gunicorn(cli: Cli, monkeypatch: pytest.MonkeyPatch, bind: str):
    from azctl.http import server

    served: list[str] = []
    monkeypatch.setattr(server, "serve", lambda *, bind, **_options: served.append(bind))
    result = cli("serve", "--bind", bind)
    assert (result.exit_code, result.stderr, served) == (0, "", [bind]), describe(result)
