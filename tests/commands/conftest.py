"""Fixtures for the CLI tests: a runner that keeps stdout and stderr apart, a console that does
not depend on the terminal pytest runs in, and small data made through the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import typer
import typer.testing
from sqlmodel import Session
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from azctl.commands import output
from azctl.main import app
from azctl.models import Performance, Staff
from azctl.services import booking, staff, times
from tests.commands.helpers import Cli


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich sizes tables to whatever terminal pytest runs in; pin the width so rows never wrap.

    The console reads COLUMNS only when it is made, at import, so the width is set on it.
    """
    monkeypatch.setattr(output.stdout, "_width", 200)


@pytest.fixture(scope="session")
def azctl_command() -> TyperGroup:
    command = typer.main.get_command(app)
    assert isinstance(command, TyperGroup)
    return command


@pytest.fixture
def cli(azctl_command: TyperGroup, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli("perf", "show", "1")` runs `azctl perf show 1` in-process, stdout and stderr apart."""
    # CliRunner rebuilds the Click tree from the Typer app on every call, most of each run's
    # time; the tree is the same every time, so build it once.
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: azctl_command)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


@pytest.fixture
def anna(make_staff: Callable[..., tuple[Staff, str]]) -> str:
    """An active box-office member; returns her API token."""
    _member, token = make_staff("anna", display_name="Anna Colombo")
    return token


@pytest.fixture
def bob(session: Session) -> None:
    """A staff member who has been disabled."""
    staff.add_staff(session, username="bob", role="box_office")
    staff.disable_staff(session, username="bob")


@pytest.fixture
def confirmed_earlier(
    session: Session, book: Callable[..., booking.SubmittedBooking]
) -> Callable[..., booking.ConfirmedBooking]:
    """A booking made and confirmed hours ago, for performances that have started since."""

    def make(performance: Performance, party_size: int = 2) -> booking.ConfirmedBooking:
        then = times.now_utc() - timedelta(hours=6)
        submitted = book(performance, party_size, now=then)
        return booking.confirm_booking(session, token=submitted.confirm_token, now=then)

    return make
