"""Plain helpers for the CLI tests: read a command's output, and prove a refusal changed nothing."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from typer.testing import Result

Cli = Callable[..., Result]

# The zone the autouse `isolated_settings` fixture sets.
ZONE = ZoneInfo("Europe/Rome")


def describe(result: Result) -> str:
    """Everything a failed assertion about a run should show, traceback included."""
    text = f"exit code {result.exit_code}\n--- stdout:\n{result.stdout}--- stderr:\n{result.stderr}"
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    if escaped and result.exc_info is not None:
        text += "--- escaped:\n" + "".join(traceback.format_exception(*result.exc_info))
    return text


def succeeded(result: Result) -> Result:
    assert result.exit_code == 0 and result.exception is None, describe(result)
    return result


def json_output(result: Result) -> Any:
    """The one JSON document a successful `--json` run printed."""
    try:
        return json.loads(succeeded(result).stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"stdout is not one JSON document: {exc}\n{describe(result)}"
        ) from None


def assert_error(result: Result, message: str) -> None:
    """Refused at the error boundary: `Error: message` alone on stderr, nothing on stdout."""
    assert result.stderr == f"Error: {message}\n", describe(result)
    assert result.stdout == "", describe(result)
    assert result.exit_code == 1, describe(result)
    # SystemExit is how the boundary ends a run; anything else escaped it with a traceback.
    assert isinstance(result.exception, SystemExit), describe(result)


def assert_usage_error(result: Result, needle: str) -> None:
    """Click refused the command line: exit 2, one `Error:` line on stderr, nothing on stdout."""
    assert result.exit_code == 2, describe(result)
    assert result.stdout == "", describe(result)
    assert result.stderr.startswith("Error: "), describe(result)
    assert len(result.stderr.splitlines()) == 1, describe(result)
    assert needle in result.stderr, describe(result)
    assert "Traceback" not in result.stderr


def record(result: Result, *, title: str | None = None) -> tuple[str, dict[str, str]]:
    """A record's key line, and its fields as the table shows them (`name` -> `value`)."""
    lines = succeeded(result).stdout.splitlines()
    key, rest = lines[0], lines[1:]
    if title is not None:
        assert rest[0].strip() == title, describe(result)
        rest = rest[1:]
    fields = {}
    for line in rest:
        name, _, value = line.strip().partition("  ")
        fields[name] = value.strip()
    return key, fields


def table(result: Result, *, title: str) -> tuple[list[str], list[list[str]]]:
    """A Rich table's header cells and row cells (the console is pinned wide, so no wrapping)."""
    lines = succeeded(result).stdout.splitlines()
    assert lines[0].strip() == title, describe(result)

    def cells(line: str, bar: str) -> list[str]:
        return [cell.strip() for cell in line.strip()[1:-1].split(bar)]

    header = next(cells(line, "┃") for line in lines if line.startswith("┃"))
    rows = [cells(line, "│") for line in lines if line.startswith("│")]
    return header, rows


def count(engine: Engine, table: type[SQLModel], **where: Any) -> int:
    with engine.connect() as connection:
        statement = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            statement = statement.where(getattr(table, column) == value)
        return int(connection.execute(statement).scalar_one())


def shown(moment: datetime) -> str:
    """How a table cell shows a timestamp: local time, with the year when it is not this one."""
    local = moment.astimezone(ZONE)
    if local.year == datetime.now(ZONE).year:
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%a %d %b %Y %H:%M")


def short(moment: datetime) -> str:
    """How a label or message names a moment: `Sat 12 Dec 20:30`, never with the year."""
    return moment.astimezone(ZONE).strftime("%a %d %b %H:%M")


def iso(moment: datetime) -> str:
    """The ISO 8601 form with the theatre's offset that JSON carries."""
    return moment.astimezone(ZONE).isoformat()


def assert_iso_with_offset(text: str) -> datetime:
    """A JSON timestamp: ISO 8601 with the offset Europe/Rome has at that instant."""
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, text
    assert parsed.utcoffset() == parsed.astimezone(ZONE).utcoffset(), text
    return parsed
