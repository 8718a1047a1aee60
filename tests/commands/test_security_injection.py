"""SQL metacharacters and oversized strings in every text an admin types are stored exactly or
refused, never executed, through the real command line (CliRunner, in process).

A value is either stored byte for byte (read back from the database and as the table prints it)
or refused with one `Error:` line on stderr that quotes it faithfully and exit 1 (2 for an
argument that is not text at all); never a traceback. Every table is still there afterwards.
tests/http/test_security_injection.py sweeps a longer list of payloads through the same services;
this file proves what the command line adds: parsing, the error boundary and the display.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from azctl.models import ScanLog, Show, Staff, Venue
from tests.commands.helpers import Cli, assert_error, describe, json_output, record
from tests.conftest import count_rows
from tests.helpers import unchanged

# What Python makes of bytes that are not UTF-8 in a shell argument (surrogateescape).
UNDECODABLE = "not utf-8 \udcff"
PAYLOADS = [
    "Robert'); DELETE FROM staff;--",
    '" OR 1=1 --',
    "'; DROP TABLE venue; --",
    "%_%' OR name LIKE '%",
    "back\\slash \\' \\",
    "Ünïcødé 🎭 日本語 \u202e [red]markup[/red] :warning: {0} %s",
    "tab\tand\nnew line",
    "nul\x00byte",
    UNDECODABLE,
]
STORABLE = [p for p in PAYLOADS if "\x00" not in p and p != UNDECODABLE]
ONE_LINE = [p for p in STORABLE if "\n" not in p and "\t" not in p]
# The text options of `venue add` and `show add` (the first is the positional NAME / TITLE), with
# the longest value the service takes.
TEXTS = {
    Venue: {"name": 200, "city": 120, "address": 300, "notes": 2000},
    Show: {"title": 200, "summary": 500, "description": 10000},
}
NOUN = {Venue: "venue", Show: "show"}
serial = itertools.count(1)


def add(cli: Cli, table, texts: dict[str, str], slug: str | None = None):
    """`venue add` / `show add` with the given texts and a fresh slug unless one is given."""
    first, *options = TEXTS[table]
    args = [NOUN[table], "add", texts.get(first, "Teatro")]
    if table is Venue:
        args += ["--city", texts.get("city", "Milano")]
    args += [f"--{name}={texts[name]}" for name in options if name in texts and name != "city"]
    args += ["--slug", slug or f"s-{next(serial)}", "--json"]
    return cli(*args)


def stored(engine: Engine, table, slug: str) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(sa.select(table).where(table.slug == slug)).mappings().one()
    return dict(row)


def assert_one_line_refusal(result, value: str = "") -> None:
    """One `Error:` line, nothing on stdout, no traceback; exit 1, or 2 (a usage mistake) for an
    argument that is not text at all, which is refused before any command runs."""
    assert result.exit_code == (2 if UNDECODABLE in value else 1), describe(result)
    assert result.stdout == "", describe(result)
    assert result.stderr.startswith("Error: "), describe(result)
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)


def assert_schema_intact(engine: Engine) -> None:
    present = set(sa.inspect(engine).get_table_names())
    expected = {table.name for table in SQLModel.metadata.sorted_tables}
    assert expected <= present, f"tables gone: {expected - present}"


def test_every_text_option_is_stored_exactly_or_refused_in_one_line(
    cli: Cli, database_url: str, engine: Engine
):
    """Each payload in every text option of `venue add` and `show add` at once: SQL is kept as
    text, byte for byte (trimmed; a summary's whitespace folded), in the database and in the
    table `show` prints; NUL and undecodable bytes are refused in one line and add nothing."""
    for table, payload in itertools.product(TEXTS, PAYLOADS):
        before = count_rows(engine, table)
        result = add(cli, table, dict.fromkeys(TEXTS[table], payload))
        if payload not in STORABLE:
            assert_one_line_refusal(result, payload)
            assert count_rows(engine, table) == before
            continue
        slug = json_output(result)["slug"]
        row = stored(engine, table, slug)
        assert {name: row[name] for name in TEXTS[table]} == {
            # a summary is one line: its line breaks and runs of spaces are one space
            name: " ".join(payload.split()) if name == "summary" else payload.strip()
            for name in TEXTS[table]
        }
        if payload in ONE_LINE:
            _key, shown = record(cli(NOUN[table], "show", slug))
            assert {name: shown[name] for name in TEXTS[table]} == dict.fromkeys(
                TEXTS[table], payload
            )
    assert_schema_intact(engine)
    assert count_rows(engine, Venue) == count_rows(engine, Show) == len(STORABLE)


def test_ten_times_a_limit_is_refused_in_one_line(cli: Cli, database_url: str, engine: Engine):
    with unchanged(engine):
        for table, limits in TEXTS.items():
            for name, limit in limits.items():
                for value in ("x" * (10 * limit), "é" * (10 * limit)):
                    result = add(cli, table, {name: value})
                    assert_one_line_refusal(result)
                    assert "longer than" in result.stderr
        for table in TEXTS:
            assert_one_line_refusal(add(cli, table, {}, slug="x" * 800))
    assert_schema_intact(engine)


def test_a_slug_is_refused_or_looked_up_never_run_and_quoted_faithfully(
    cli: Cli, database_url: str, engine: Engine
):
    """As a new slug each payload is refused; as the slug to look up it names nothing, and the
    one-line refusal quotes it exactly (no markup, no emoji codes turned into pictures)."""
    assert add(cli, Venue, {}, slug="teatro").exit_code == 0
    with unchanged(engine):
        for payload in PAYLOADS:
            for table in TEXTS:
                assert_one_line_refusal(add(cli, table, {}, slug=payload), payload)
            if payload == UNDECODABLE:
                assert_one_line_refusal(cli("venue", "show", payload), payload)
                continue
            assert_error(cli("venue", "show", payload), f"no venue with slug {payload!r}")
            assert_error(cli("show", "publish", payload), f"no show with slug {payload!r}")
        assert_error(
            cli(
                "perf", "add", PAYLOADS[0], "teatro", "--at", "2030-12-12 20:30", "--capacity", "9"
            ),
            f"no show with slug {PAYLOADS[0]!r}",
        )
    assert_schema_intact(engine)


def test_searching_reservations_treats_wildcards_and_quotes_as_text(
    cli: Cli, make_performance, book
):
    """`res list --search` matches what was typed: `%` and `_` are characters, not LIKE
    wildcards, and quotes are part of the text."""
    performance = make_performance()
    odd = book(performance, name="100% _real_ O'Brien \\ x").reservation.reference
    book(performance, name="Plain Name")

    def found(text: str) -> list[str]:
        rows = json_output(cli("res", "list", "--search", text, "--json"))
        return [row["reference"] for row in rows]

    for text in ("%", "_", "% _", "O'Brien", "\\"):
        assert found(text) == [odd], text
    for text in ("'; DROP TABLE reservation; --", "' OR ''='", "%%%x"):
        assert found(text) == [], text
    assert len(found("a")) == 2
    assert_one_line_refusal(cli("res", "list", "--search", UNDECODABLE), UNDECODABLE)


def test_a_scanned_text_is_a_result_never_sql(
    cli: Cli, engine: Engine, make_performance, anna: str
):
    """`checkin scan` of each payload: `unknown_token`, exit 1, one ScanLog row each."""
    performance = make_performance()
    for value in STORABLE:
        result = cli("checkin", "scan", value, "--perf", str(performance.id), "--as", "anna")
        assert result.exit_code == 1, describe(result)
        assert result.stdout.startswith("unknown_token: "), describe(result)
    assert count_rows(engine, ScanLog) == len(STORABLE)
    assert_schema_intact(engine)


def test_a_staff_username_is_refused_and_a_display_name_stored_exactly(
    cli: Cli, database_url: str, engine: Engine
):
    for number, value in enumerate([*PAYLOADS, "x" * 2000]):
        before = count_rows(engine, Staff)
        assert_one_line_refusal(cli("staff", "add", value, "--role", "box_office"), value)
        result = cli(
            "staff", "add", f"s{number}", "--role", "box_office", "--name", value, "--json"
        )
        if value in STORABLE:
            assert json_output(result)["display_name"] == value.strip()
        else:
            assert_one_line_refusal(result, value)
            assert count_rows(engine, Staff) == before
    assert count_rows(engine, Staff) == len(STORABLE)
    assert_schema_intact(engine)
