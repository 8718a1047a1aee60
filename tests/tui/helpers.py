"""Driving the door as staff and a scanner do, and reading what the screen shows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import col, select
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Digits, Input

from azctl import db
from azctl.models import CheckIn, Performance
from azctl.settings import reload_settings
from azctl.tui.app import DoorApp
from azctl.tui.banner import ResultBanner
from azctl.tui.door import DoorScreen
from azctl.tui.recent import RecentScans
from tests.tcp_proxy import TcpProxy

DEADLINE_SECONDS = 10.0


async def until(pilot: Pilot, condition: Callable[[], object], what: str) -> None:
    """Let the app run until `condition()` holds; fail saying `what` was awaited."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.01)


async def scan(pilot: Pilot, *texts: str) -> None:
    """Type each text key by key, then Enter, as a USB scanner (a keyboard wedge) does: one key
    event a character, in a burst with no pause between them, nor between one text and the next.

    `pilot.press` waits for the app to idle after every key: a typist's pace, forty times slower.
    """
    burst(pilot.app, *texts)
    await pilot.pause()


def burst(app: App, *texts: str) -> None:
    """`scan`'s keys, without waiting for the app to take them (the pilot's wait for an idle app
    can last a second on a busy machine): for a test that acts while the door is still at work on
    them, such as cutting its database off in the middle of a burst."""
    for text in texts:
        for character in text:
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("enter", "\r"))


@contextmanager
def database_through_proxy(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TcpProxy]:
    """A proxy to the test's database, which the doors (and an `azctl` started with the test's
    environment) reach through it, as AZCTL_DATABASE_URL; the test's own `engine` and `session`
    still reach the database directly, also while the proxy is cut."""
    with TcpProxy.to(database_url) as proxy:
        monkeypatch.setenv("AZCTL_DATABASE_URL", proxy.url_for(database_url))
        reload_settings()
        yield proxy


def door(app: App) -> Screen:
    """The door screen, also while a search or a question covers it (or the screen on top, when
    no door is open, for a clear failure)."""
    doors = [screen for screen in app.screen_stack if isinstance(screen, DoorScreen)]
    return doors[-1] if doors else app.screen


def banner(app: App) -> ResultBanner:
    return door(app).query_one(ResultBanner)


def banner_text(app: App) -> str:
    return str(banner(app).content)


def counter(app: App, counter_id: str) -> str:
    return door(app).query_one(f"#{counter_id}", Digits).value


def recent_rows(app: App) -> list[list[str]]:
    table = door(app).query_one(RecentScans)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def scan_field_has_focus(app: App) -> bool:
    focused = app.focused
    return isinstance(focused, Input) and focused.id == "scan"


def check_ins(engine) -> list[CheckIn]:
    with db.new_session(engine) as session:
        return list(session.exec(select(CheckIn).order_by(col(CheckIn.id))))


def door_app(performance: Performance, staff=None, **options) -> tuple[DoorApp, list[int]]:
    """The app at one performance's door, and a list that grows by one at every bell.

    A door goes offline when its database is slower than 2 s; on a test machine under load that
    is a busy CPU, not a lost network, so a test that is not about going offline by slowness
    waits longer (an error from the database still takes the door offline at once)."""
    options.setdefault("offline_after", 30.0)
    app = DoorApp(performance_id=performance.id, staff=staff, **options)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return app, bells


async def at_the_door(pilot) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door screen")
    await until(pilot, lambda: counter(pilot.app, "expected") != "-", "the first counts")


async def answered(pilot, words: str) -> None:
    await until(pilot, lambda: words in banner_text(pilot.app), f"a banner saying {words!r}")
