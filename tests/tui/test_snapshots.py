"""The door screen as staff see it on an 80x24 terminal, one snapshot per banner tone: ready,
admit (green), refuse (red), warn (yellow), offline (amber, admitting from the door's copy), and
a party let out in exit mode.

Fixed data and a fixed clock: the time, the references and the performance are the same on every
run, so a snapshot changes only when the screen does. On SQLite only: the picture is the
backend's to draw, not the database's. Update with `pytest --snapshot-update` and look at them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from azctl.services import times, tokens
from azctl.services.booking import requests as booking_requests
from azctl.tui.scanfield import ScanField
from tests.tui.helpers import at_the_door, banner_text, door_app, recent_rows, scan, until

NOW = datetime(2026, 12, 12, 19, 0, tzinfo=UTC)  # 20:00 in Rome, half an hour before curtain
SIZE = (80, 24)
# Long enough that neither the banner nor a refresh changes the screen before it is taken.
STILL = {"refresh_seconds": 3600.0, "banner_seconds": 3600.0, "probe_seconds": 3600.0}

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock stopped at NOW, and references handed out in order."""
    monkeypatch.setattr(times, "now_utc", lambda: NOW)
    numbers = count(1)
    monkeypatch.setattr(
        booking_requests, "new_reference", lambda: f"AZ-{next(numbers):06d}".replace("0", "K")
    )


@pytest.fixture
def evening(fixed, session, make_performance, confirmed, anna):
    """Tonight at 20:30 with three bookings; returns the performance and one ticket."""
    door = make_performance(capacity=40, starts_in=timedelta(minutes=30))
    ticket = confirmed(door, 3, name="Giulia Bianchi")
    confirmed(door, 2, name="Marco Rossi")
    confirmed(door, 4, name="Anna Verdi")
    return door, ticket


def take(snap_compare, app, steps=None) -> bool:
    """The screenshot once the door has loaded and `steps(pilot)` has run."""

    async def run_before(pilot) -> None:
        await at_the_door(pilot)
        pilot.app.screen.query_one(ScanField).cursor_blink = False
        if steps is not None:
            await steps(pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


def scanning(*texts: str, answer: str):
    """Steps: scan each text, wait for it to be listed, then for the banner's `answer`."""

    async def steps(pilot) -> None:
        for number, text in enumerate(texts, start=1):
            await scan(pilot, text)
            await until(
                pilot, lambda number=number: len(recent_rows(pilot.app)) == number, f"scan {number}"
            )
        await until(pilot, lambda: banner_text(pilot.app).startswith(answer), answer)

    return steps


def test_ready(snap_compare, evening, anna):
    door, _ticket = evening
    app, _bells = door_app(door, anna, **STILL)
    assert take(snap_compare, app)


def test_admit_in_green(snap_compare, evening, anna):
    door, ticket = evening
    app, _bells = door_app(door, anna, **STILL)
    assert take(snap_compare, app, scanning(ticket.ticket_token, answer="ADMIT 3"))


def test_already_checked_in_in_red(snap_compare, evening, anna):
    door, ticket = evening
    app, _bells = door_app(door, anna, **STILL)
    twice = scanning(ticket.ticket_token, ticket.ticket_token, answer="ALREADY CHECKED IN")
    assert take(snap_compare, app, twice)


def test_unknown_ticket_in_yellow(snap_compare, evening, anna):
    door, _ticket = evening
    app, _bells = door_app(door, anna, **STILL)
    unknown = "7" * tokens.TOKEN_LENGTH
    assert take(snap_compare, app, scanning(unknown, answer="UNKNOWN TICKET"))


def test_offline(snap_compare, evening, anna, engine):
    door, ticket = evening

    def refuse(*_args) -> None:
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    async def lose_it_and_scan(pilot) -> None:
        event.listen(engine, "before_cursor_execute", refuse)
        await scan(pilot, ticket.ticket_token)
        await until(pilot, lambda: banner_text(pilot.app).startswith("ADMIT 3 · OFFLINE"), "ok")
        await until(pilot, lambda: pilot.app.screen.offline, "offline")

    app, _bells = door_app(door, anna, **STILL)
    try:
        assert take(snap_compare, app, lose_it_and_scan)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def test_exit_mode(snap_compare, evening, anna):
    door, ticket = evening

    async def in_then_out(pilot) -> None:
        await scanning(ticket.ticket_token, answer="ADMIT 3")(pilot)
        await pilot.press("f6")
        await scan(pilot, ticket.ticket_token)
        await until(pilot, lambda: len(recent_rows(pilot.app)) == 2, "the exit listed")
        await until(pilot, lambda: banner_text(pilot.app).startswith("EXIT 3"), "EXIT 3")

    app, _bells = door_app(door, anna, **STILL)
    assert take(snap_compare, app, in_then_out)
