"""Driving the door as staff and a scanner do, and reading what the screen shows."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Digits, Input

from azctl.tui.banner import ResultBanner
from azctl.tui.door import DoorScreen
from azctl.tui.recent import RecentScans

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
    for text in texts:
        for character in text:
            pilot.app.post_message(events.Key(character, character))
        pilot.app.post_message(events.Key("enter", "\r"))
    await pilot.pause()


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
