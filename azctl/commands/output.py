"""The one way every command prints: a Rich table by default, `--json` or `--csv` on request.

Data goes to stdout, diagnostics to stderr. JSON is one document with stable snake_case keys;
timestamps in it are ISO 8601 with the theatre's offset.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from azctl.ids import MAX_ID

if TYPE_CHECKING:
    from rich.console import Console

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row.")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="The staff member acting (recorded with the check-in).")
]
# Ids and seat counts are bounded here so that a number no database column holds is a usage
# error, not a failure deep inside the driver.
PerfOption = Annotated[int, typer.Option("--perf", help="The performance id.", min=1, max=MAX_ID)]
DoorOption = Annotated[
    str | None,
    typer.Option("--door", help="The entrance, as scans record it (default: main)."),
]


class _LazyConsole:
    """A Rich console made on first use, and otherwise the console itself (attributes read and
    set go through to it). Loading Rich is much of the CLI's start-up, and `--help`, `--json`
    and `--csv` never print through a console."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._options))
        return self._console  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._made(), name, value)


# What people typed is printed as typed: no `:name:` emoji codes turned into pictures (cells are
# `Text`, not markup, for the same reason).
stdout = cast("Console", _LazyConsole(highlight=False, soft_wrap=False, emoji=False))
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False))


def when(value: Any) -> str:
    """An ISO timestamp as staff read it: `Sat 12 Dec 20:30` (with the year if not this one)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value))
    if moment.year != datetime.now(moment.tzinfo).year:
        return moment.strftime("%a %d %b %Y %H:%M")
    return moment.strftime("%a %d %b %H:%M")


def yes_no(value: Any) -> str:
    return "yes" if value else "no"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    render: Callable[[Any], str] = lambda value: "" if value is None else str(value)
    justify: str = "left"
    no_wrap: bool = False


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and CR, may
# shift it into one); DESIGN §3.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One CSV cell, safe to open in a spreadsheet.

    Text that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+39 02…`, `-3`, `@SUM`)
    gets a `'` in front, which spreadsheets read as "this is text" and do not show. Only text is
    changed: a real number is written as it is (`-3` stays `-3`), because its digits are all there
    is and a number cannot call anything; the same characters typed by a visitor arrive as text
    and get the prefix. Booleans are `true`/`false`, None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_text(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    """Every CSV export: a header of `fields`, then one line per row, each cell by `csv_cell`."""
    lines = [_csv_line(fields)]
    lines.extend(_csv_line([csv_cell(row.get(field)) for field in fields]) for row in rows)
    return "".join(lines)


def _csv_line(cells: Sequence[str]) -> str:
    """One line, ended by LF. The writer quotes a cell only for the characters of its own line
    terminator, so it is given CR LF: a cell holding a bare CR or LF is quoted, never split."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().removesuffix("\r\n") + "\n"


def emit_list(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    as_json: bool = False,
    as_csv: bool = False,
    title: str | None = None,
    fields: Sequence[str] = (),
) -> None:
    """A list of records; `fields` is the CSV header, the same whether or not there are rows."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    if as_json:
        print_json(list(rows))
        return
    if as_csv:
        typer.echo(csv_text(rows, fields), nl=False)
        return
    if not rows:
        stderr.print(f"No {title.lower() if title else 'rows'}.")
        return
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(title=escape(title) if title else None, title_justify="left")
    for column in columns:
        table.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=column.no_wrap,
        )
    for row in rows:
        table.add_row(*(Text(column.render(row.get(column.key))) for column in columns))
    stdout.print(table)


def emit_record(
    record: dict[str, Any], *, key: str, as_json: bool = False, title: str | None = None
) -> None:
    """One record: its `key` value alone on the first line (for scripts), then its fields."""
    if as_json:
        print_json(record)
        return
    typer.echo(str(record[key]))
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table(
        show_header=False, title=escape(title) if title else None, title_justify="left", box=None
    )
    table.add_column(style="bold")
    table.add_column()
    for name, value in record.items():
        if name != key:
            table.add_row(name.replace("_", " "), Text(_cell(name, value)))
    stdout.print(table)


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dict):
        return ", ".join(f"{part} {number}" for part, number in value.items())
    if name.endswith("_at"):
        return when(value)
    return str(value)


def say(message: str) -> None:
    """A line of plain result text on stdout."""
    typer.echo(message)
