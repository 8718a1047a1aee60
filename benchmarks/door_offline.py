"""The door screen online, offline and back, for `door.py`: Enter-to-banner times through a real
door app, and how long its journal takes to reach the database once the database answers again.

A real `DoorApp` (Textual's headless pilot, 80x24) at the performance's main door reaches
PostgreSQL through a `TcpProxy`, with its own defaults (offline after 2 s, a probe every second).
It first admits tickets online, for comparison; then the proxy is cut, F5's refresh finds no
database and the door goes OFFLINE; it admits more tickets from its local copy, each one
journalled and written to disk before its banner shows; then the proxy is restored and the clock
runs until the journal is uploaded and the door is online again. A scan is timed from its Enter
key event to the first screen refresh that shows its banner, as in door_scan.py.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import harness
import sqlalchemy as sa
from tcp_proxy import TcpProxy
from textual import events
from textual.pilot import Pilot

from azctl import db
from azctl.models import Staff
from azctl.services.checkin import ScanOutcome
from azctl.settings import reload_settings
from azctl.tui.app import DoorApp
from azctl.tui.banner import ResultBanner, headline
from azctl.tui.door import PROBE_SECONDS, DoorScreen

ANSWER_SECONDS = 30.0
# The door's first load and its upload of a long journal, on a busy machine.
DEADLINE_SECONDS = 120.0


@dataclass
class ScreenRun:
    online_seconds: list[float]
    offline_seconds: list[float]
    # Each scan's banner headline, in order: online ones, then offline ones.
    headlines: list[str]
    # Passes in the journal when the database came back.
    journalled: int
    upload_seconds: float
    probe_seconds: float = PROBE_SECONDS


def online_then_offline(
    database_url: str, performance_id: int, member: Staff, online: list[str], offline: list[str]
) -> ScreenRun:
    """The door screen admits `online` through the proxy, then `offline` with the proxy cut,
    then uploads its journal once the proxy is restored."""
    url = sa.make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port)
        with _database_at(through.render_as_string(hide_password=False)):
            return asyncio.run(_at_the_door(proxy, performance_id, member, online, offline))


@contextmanager
def _database_at(url: str) -> Iterator[None]:
    """The app's database is the configured one (settings, engine): this one for a while."""
    before = os.environ["AZCTL_DATABASE_URL"]
    os.environ["AZCTL_DATABASE_URL"] = url
    reload_settings()
    db.dispose_engines()
    try:
        yield
    finally:
        os.environ["AZCTL_DATABASE_URL"] = before
        reload_settings()
        db.dispose_engines()


async def _at_the_door(
    proxy: TcpProxy, performance_id: int, member: Staff, online: list[str], offline: list[str]
) -> ScreenRun:
    app = DoorApp(performance_id=performance_id, staff=member)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: isinstance(app.screen, DoorScreen), "the door screen")
        screen = app.screen
        assert isinstance(screen, DoorScreen)
        await _until(lambda: screen.local.copy is not None, "the door's first copy")
        banner = _TimedBanner(screen.query_one(ResultBanner))
        online_seconds = [await banner.scan(pilot, token) for token in online]

        proxy.cut()
        screen.action_refresh()
        await _until(lambda: screen.offline, "the door to go offline")
        offline_seconds = [await banner.scan(pilot, token) for token in offline]
        journalled = len(screen.local.pending)

        restored = time.perf_counter()
        proxy.restore()
        await _until(lambda: not screen.offline and not screen.local.pending, "the upload")
        upload_seconds = time.perf_counter() - restored
    return ScreenRun(online_seconds, offline_seconds, banner.headlines, journalled, upload_seconds)


class _TimedBanner:
    """The banner's answers as they are painted: each one's headline, and when it was on
    screen."""

    def __init__(self, banner: ResultBanner) -> None:
        self.headlines: list[str] = []
        self.painted = asyncio.Event()
        self.painted_at = 0.0
        show_outcome = banner.show_outcome

        def timed(outcome: ScanOutcome, at: datetime) -> None:
            show_outcome(outcome, at)
            self.headlines.append(headline(outcome))
            banner.call_after_refresh(self._on_screen)

        banner.show_outcome = timed  # type: ignore[method-assign]

    def _on_screen(self) -> None:
        self.painted_at = time.perf_counter()
        self.painted.set()

    async def scan(self, pilot: Pilot[None], token: str) -> float:
        """Type `token` key by key as a scanner does, then Enter: the seconds from the Enter to
        its answer on screen. As with a scanner, the characters have reached the app (its burst
        detector holds them) when the Enter comes, a few milliseconds after the last of them."""
        app = pilot.app
        assert isinstance(app, DoorApp)
        keys = [events.Key(character, character) for character in token]
        for key in keys:
            app.post_message(key)
        await _until(lambda: app.bursts.held[-1:] == keys[-1:], "the keys read", every=0)
        self.painted.clear()
        pressed = time.perf_counter()
        app.post_message(events.Key("enter", "\r"))
        await asyncio.wait_for(self.painted.wait(), ANSWER_SECONDS)
        return self.painted_at - pressed


async def _until(condition: Callable[[], object], what: str, every: float = 0.001) -> None:
    """Let the app run until `condition()` holds, looking `every` so many seconds."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise harness.CheckFailed(f"gave up waiting for {what}")
        await asyncio.sleep(every)
