"""`azctl tui`: the door app, and the checks that must pass before it takes over the terminal.

A wrong `--perf` or `--as` is refused before the screen is drawn, as one line from the CLI's error
boundary, rather than as a broken door screen. Every key passes the app's burst detector first, so
a scanner's burst is a scan at the open door whatever screen or dialog is in front of it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from azctl import db, errors
from azctl.models import Staff
from azctl.services import checkin, door_copy, reports, staff
from azctl.tui.banner import BANNER_SECONDS
from azctl.tui.burst import HOLD_SECONDS, BurstDetector
from azctl.tui.door import OFFLINE_AFTER_SECONDS, PROBE_SECONDS, REFRESH_SECONDS, DoorScreen
from azctl.tui.performances import PerformancesScreen
from azctl.tui.workers import WorkerFailed

log = logging.getLogger(__name__)


class DoorApp(App[None]):
    """Opens on today's performances, or on the door of the one given or the only one today."""

    CSS_PATH = "door.tcss"
    TITLE = "azctl door"
    # The palette would take a key and a corner of the footer from the door's own keys.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        *,
        performance_id: int | None = None,
        staff: Staff | None = None,
        door: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        banner_seconds: float = BANNER_SECONDS,
        offline_after: float = OFFLINE_AFTER_SECONDS,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.staff = staff
        self.door = door
        self.refresh_seconds = refresh_seconds
        self.banner_seconds = banner_seconds
        self.offline_after = offline_after
        self.probe_seconds = probe_seconds
        self.bursts = BurstDetector()
        self.hold_timer: Timer | None = None
        # Counts the keys held back, so that a wait that has been overtaken by a newer key ends
        # with nothing handed on.
        self.keys_held = 0

    class HoldOver(Message):
        """The keys held back waited long enough: no burst follows them. Posted behind any key
        already queued, so a burst read late is never cut in two by it."""

        def __init__(self, keys_held: int) -> None:
            super().__init__()
            self.keys_held = keys_held

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        sorted_keys = self.bursts.press(event)
        await self.hand_on(sorted_keys.keys)
        if sorted_keys.scan is not None:
            self.scan_at_the_door(sorted_keys.scan)
        if self.bursts.held:
            self.keys_held += 1
            held_now = self.keys_held
            if self.hold_timer is not None:
                self.hold_timer.stop()
            self.hold_timer = self.set_timer(
                HOLD_SECONDS, lambda: self.post_message(self.HoldOver(held_now))
            )

    async def on_door_app_hold_over(self, message: HoldOver) -> None:
        if message.keys_held == self.keys_held:
            await self.hand_on(self.bursts.release())

    async def hand_on(self, keys: list[events.Key]) -> None:
        """Keys that are a person's, to the focused widget and the bindings, as if never held."""
        for key in keys:
            await super().on_event(key)

    def scan_at_the_door(self, text: str) -> None:
        """A burst goes to the door under any dialog; with no door open, it is dropped aloud."""
        door = self.open_door_screen()
        if door is not None:
            door.scan(text)
        else:
            self.bell()
            self.notify(
                "Open a performance's door before scanning.",
                title="not scanned",
                severity="warning",
            )

    def open_door_screen(self) -> DoorScreen | None:
        """The door screen under whatever dialog or search is in front, if one is open."""
        doors = [screen for screen in self.screen_stack if isinstance(screen, DoorScreen)]
        return doors[-1] if doors else None

    def on_worker_failed(self, message: WorkerFailed) -> None:
        log.error("%s failed", message.description, exc_info=message.error)
        door = self.open_door_screen()
        if door is not None:
            door.show_bug(message.description, message.error)
        self.notify(
            f"{message.description}: {type(message.error).__name__}: {message.error}",
            title="something went wrong",
            severity="error",
        )
        self.bell()

    def on_mount(self) -> None:
        self.push_screen(PerformancesScreen(open_the_only_one=self.performance_id is None))
        if self.performance_id is not None:
            self.open_door(self.performance_id)

    def on_performances_screen_chosen(self, message: PerformancesScreen.Chosen) -> None:
        self.open_door(message.performance_id)

    def open_door(self, performance_id: int) -> None:
        self.push_screen(
            DoorScreen(
                performance_id=performance_id,
                staff=self.staff,
                door=self.door,
                refresh_seconds=self.refresh_seconds,
                banner_seconds=self.banner_seconds,
                offline_after=self.offline_after,
                probe_seconds=self.probe_seconds,
            )
        )


def run(*, performance_id: int | None, staff_username: str | None, door: str | None = None) -> None:
    """Check the database (opening it checks its schema), the performance and the staff member,
    then run the door until staff quit.

    A door whose database cannot be reached opens all the same if it kept a copy of this
    performance's tickets (DESIGN §10): offline, answering from the copy, its staff member
    looked up once the database answers.
    """
    name = checkin.door_name(door)
    member = None
    try:
        with db.session_scope() as session:
            if staff_username is not None:
                member = staff.active_staff(session, username=staff_username)
            if performance_id is not None:
                reports.performance_summary(session, performance_id=performance_id)
    except (SQLAlchemyError, errors.Unavailable) as exc:
        if performance_id is None or not door_copy.has_copy(
            performance_id=performance_id, door=name
        ):
            raise
        log.warning("starting the door offline: %s", exc)
        if staff_username is not None:
            member = Staff(username=staff_username, display_name=staff_username, role="box_office")
    DoorApp(performance_id=performance_id, staff=member, door=name).run()
