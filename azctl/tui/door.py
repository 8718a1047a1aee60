"""The door screen: scan, see the answer at once, keep count, find visitors, sell walk-in seats.

Every database call runs in a thread worker and posts its answer back as a message, so a slow or
lost database never freezes the scan field: the next scan can be typed while the last is checked.
A manual check-in, by a reference typed into the scan field or a visitor found by search, is first
judged by the check-in service and only then, if it would be admitted, put to staff as a question.

When the database gives no answer within two seconds the door goes OFFLINE on its own and answers
from its local copy, by the same rule (DESIGN §10); every pass it lets through is journalled before
its banner shows. It asks every second whether the database is back, uploads the journal, and only
then answers from the database again, so no scan is judged on a database that has not heard of the
passes before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from azctl import errors
from azctl.models import Direction, Staff
from azctl.services import (
    checkin,
    checkin_lists,
    door_copy,
    door_counts,
    reports,
    reservations,
    staff,
    times,
)
from azctl.services.checkin import ScanOutcome
from azctl.services.checkin_lists import ScanRow
from azctl.services.door_copy import DoorCopy
from azctl.services.door_counts import DoorCounts
from azctl.services.reports import PerformanceSummary
from azctl.tui.banner import BANNER_SECONDS, ResultBanner, detail, headline
from azctl.tui.counters import DoorsLine, SeatCounters
from azctl.tui.database import in_session
from azctl.tui.door_by_hand import DoorByHand
from azctl.tui.local_door import LocalDoor
from azctl.tui.recent import RecentScans
from azctl.tui.scanfield import ScanField

# Often enough that two doors on one database agree within a breath, rarely enough to cost nothing.
REFRESH_SECONDS = 3.0
RECENT_SCANS_SHOWN = 30
# DESIGN §10: a database that has not answered a scan in this long is taken to be gone.
OFFLINE_AFTER_SECONDS = 2.0
# How often an offline door asks whether the database is back.
PROBE_SECONDS = 1.0
PLACEHOLDERS = {
    False: "Scan a ticket, or type its code or booking reference, then Enter",
    True: "EXIT MODE (F6 to end): scan the ticket of a party going out",
}


class DoorScreen(DoorByHand):
    """One performance's door. The scan field is the only widget that can take focus, so every
    key a person types lands in it, also after a dialog closes (a scanner's burst is taken by the
    app before any widget sees it, and handed to `scan`)."""

    AUTO_FOCUS = "#scan"
    # A taller terminal (a big screen by the door) gets roomier counters; see door.tcss.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("f2", "search", "Search"),
        Binding("f3", "walk_in(1)", "+walk-in", tooltip="Sell one walk-in seat"),
        Binding("f4", "walk_in(-1)", "-walk-in", tooltip="Give one walk-in seat back"),
        Binding("f5", "refresh", "Refresh"),
        # Exit mode: scans let parties out for the interval, until F6 again (DESIGN §10).
        Binding("f6", "toggle_exit", "Exits"),
        Binding("escape", "leave", "Back", tooltip="Back to today's performances"),
    ]

    class Answered(Message):
        """A check-in worker's answer: an outcome, a question to put, or the error that kept it
        from one."""

        def __init__(
            self,
            number: int,
            at: datetime,
            outcome: Any = None,
            error: errors.AzctlError | None = None,
        ) -> None:
            super().__init__()
            self.number = number
            self.at = at
            self.outcome = outcome
            self.error = error

    class Loaded(Message):
        """The performance as the database has it now, from every door, and a fresh copy."""

        def __init__(
            self,
            summary: PerformanceSummary,
            scans: list[ScanRow],
            counts: DoorCounts,
            copy: DoorCopy,
            member: Staff | None,
        ) -> None:
            super().__init__()
            self.summary = summary
            self.scans = scans
            self.counts = counts
            self.copy = copy
            self.member = member

    class Failed(Message):
        """A refresh or a walk-in change that did not happen, and why."""

        def __init__(self, doing: str, error: errors.AzctlError) -> None:
            super().__init__()
            self.doing = doing
            self.error = error

    # F6: scans let parties out for the interval instead of in.
    leaving: reactive[bool] = reactive(False)

    def __init__(
        self,
        *,
        performance_id: int,
        staff: Staff | None,
        door: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        banner_seconds: float = BANNER_SECONDS,
        offline_after: float = OFFLINE_AFTER_SECONDS,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.staff = staff
        self.door = checkin.door_name(door)
        self.refresh_seconds = refresh_seconds
        self.banner_seconds = banner_seconds
        self.offline_after = offline_after
        self.probe_seconds = probe_seconds
        self.check_ins_started = 0
        # The newest check-in whose answer the banner shows; an older answer that arrives after
        # it goes to the recent-scans list only.
        self.check_in_shown = 0
        # Check-ins asked of the database and not answered yet: what to do from the copy if the
        # answer does not come in time, and the timer that will do it.
        self.waiting: dict[int, tuple[Callable[[int], None], Timer]] = {}
        self.local = LocalDoor(performance_id=performance_id, door=self.door)
        self.offline_reason = ""
        self.offline_scans: list[ScanRow] = []
        # When the oldest unanswered question to the database was asked, and the newest
        # (time.monotonic()).
        self.asked_since: float | None = None
        self.last_asked = 0.0
        self.database_scans: list[ScanRow] = []

    def compose(self) -> ComposeResult:
        yield Static(id="door-title")
        yield Static(id="offline-notice")
        yield ScanField(placeholder=PLACEHOLDERS[False], id="scan")
        yield ResultBanner(seconds=self.banner_seconds, id="banner")
        yield SeatCounters(id="counters")
        yield DoorsLine(id="doors")
        yield RecentScans(id="recent")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#door-title", Static).update(
            f"Performance {self.performance_id} · {self._door_keeper()}"
        )
        self.set_interval(self.refresh_seconds, self.load)
        self.set_interval(self.probe_seconds, self.probe)
        if self.local.pending:
            # Closed while offline last time: answer from the copy until its journal is uploaded.
            self.go_offline("passes from the last session still to upload")
        self.load()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    def _door_keeper(self) -> str:
        who = self.staff.username if self.staff else "no staff name (--as)"
        return f"{self.door} door · {who}"

    @property
    def _username(self) -> str | None:
        return self.staff.username if self.staff else None

    @property
    def _direction(self) -> Direction:
        return Direction.OUT if self.leaving else Direction.IN

    # --- scanning ------------------------------------------------------------------------------

    def on_scan_field_scanned(self, message: ScanField.Scanned) -> None:
        self.scan(message.text)

    def scan(self, text: str) -> None:
        """What was scanned or typed into the scan field: a ticket, or a booking's reference."""
        reference = reservations.parse_reference(text)
        if reference is not None:
            self.ask_by_hand(reference)
            return
        nonce, direction = door_copy.new_nonce(), self._direction
        self.check_in(
            lambda session: checkin.scan(
                session,
                text=text,
                performance_id=self.performance_id,
                staff=self.staff,
                door=self.door,
                direction=direction,
                nonce=nonce,
            ),
            lambda number, copy: copy.decide(
                text=text,
                now=times.now_utc(),
                direction=direction,
                staff=self._username,
                nonce=nonce,
            ),
        )

    def check_in(
        self,
        job: Callable[[Session], Any],
        from_copy: Callable[[int, DoorCopy], Any],
    ) -> None:
        """Ask the database, or, offline or without an answer in time, the local copy."""
        self.check_ins_started += 1
        number = self.check_ins_started

        def answer_from_copy(number: int) -> None:
            self.answer_from_copy(number, from_copy)

        if self.offline:
            answer_from_copy(number)
            return
        self.query_one(ResultBanner).show_checking()
        timer = self.set_timer(self.offline_after, lambda: self.no_answer_in_time(number))
        self.waiting[number] = (answer_from_copy, timer)
        self.run_check_in(number, job)

    @work(thread=True, exit_on_error=False, group="check-in", description="check-in")
    def run_check_in(self, number: int, job: Callable[[Session], Any]) -> None:
        """Not exclusive: a check-in in flight is never cancelled, as its answer must be seen.

        A job that answers None had nothing to say on the banner (a question is put instead)."""
        try:
            outcome = in_session(job)
        except errors.AzctlError as exc:
            self.post_message(self.Answered(number, times.now_utc(), error=exc))
        else:
            self.post_message(self.Answered(number, times.now_utc(), outcome=outcome))

    def no_answer_in_time(self, number: int) -> None:
        waiting = self.waiting.pop(number, None)
        if waiting is not None:
            self.go_offline(f"no answer within {self.offline_after:g} s")
            waiting[0](number)

    def on_door_screen_answered(self, message: Answered) -> None:
        waiting = self.waiting.pop(message.number, None)
        if waiting is None:
            # Answered from the copy already. The database may have recorded the scan all the
            # same; its nonce makes the journal's upload of it a no-op.
            return
        waiting[1].stop()
        if isinstance(message.error, errors.Unavailable) and self.local.copy is not None:
            self.go_offline(message.error.message)
            waiting[0](message.number)
            return
        if isinstance(message.outcome, ScanOutcome):
            self.local.note_online(message.outcome, message.at)
        self.show_answer(message.number, message.at, message.outcome, message.error)

    def show_answer(
        self,
        number: int,
        at: datetime,
        outcome: Any = None,
        error: errors.AzctlError | None = None,
    ) -> None:
        if isinstance(outcome, DoorByHand.Ask):
            self.query_one(ResultBanner).show_waiting()
            self.put_question(outcome)
            return
        if outcome is None and error is None:
            self.query_one(ResultBanner).show_waiting()
            return
        if self.app.screen is not self:
            self.tell_over_a_dialog(outcome, error)
        if number >= self.check_in_shown:
            self.check_in_shown = number
            banner = self.query_one(ResultBanner)
            if outcome is not None:
                banner.show_outcome(outcome, at)
            elif isinstance(error, errors.Unavailable):
                banner.show_failure("NO ANSWER FROM THE DATABASE", "scan again once it is back", at)
            elif error is not None:
                banner.show_failure("NOT CHECKED IN", error.message, at)
        if outcome is None or not outcome.admitted:
            self.app.bell()
        if self.offline:
            self.show_offline()
        else:
            # Counting comes after the banner is on screen: the answer must not wait for the tally.
            self.call_after_refresh(self.load)

    def tell_over_a_dialog(
        self, outcome: ScanOutcome | None, error: errors.AzctlError | None
    ) -> None:
        """A scan answered while a dialog covers the banner is told in a note above it too."""
        if outcome is not None:
            title, line = headline(outcome), detail(outcome)
            severity = "information" if outcome.admitted else "error"
        else:
            title, line, severity = "NOT CHECKED IN", error.message if error else "", "error"
        self.notify(line, title=title, severity=severity)  # type: ignore[arg-type]

    # --- the database, the copy, and going offline and back -------------------------------------

    def load(self) -> None:
        """Ask the database for the counts, the recent scans and a fresh copy. A question left
        unanswered for `offline_after` seconds takes the door offline (`probe` watches)."""
        self.last_asked = time.monotonic()
        if self.asked_since is None:
            self.asked_since = self.last_asked
        self.read_database()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="load",
        description="loading the counts and recent scans",
    )
    def read_database(self) -> None:
        """Counters, recent scans and a fresh copy of the tickets, as every door has changed them;
        a newer load replaces an older one still running, whose answer would be stale."""

        def read(session: Session) -> DoorScreen.Loaded:
            member = self.staff
            if member is not None and member.id is None:
                # Started offline: the staff member is looked up once the database answers.
                member = staff.active_staff(session, username=member.username)
            return self.Loaded(
                reports.performance_summary(session, performance_id=self.performance_id),
                checkin_lists.recent_scans(
                    session, performance_id=self.performance_id, limit=RECENT_SCANS_SHOWN
                ),
                door_counts.door_counts(session, performance_id=self.performance_id),
                door_copy.take_copy(session, performance_id=self.performance_id, door=self.door),
                member,
            )

        try:
            loaded = in_session(read)
        except errors.AzctlError as exc:
            self.post_message(self.Failed("refresh", exc))
            return
        if get_current_worker().is_cancelled:
            # Overtaken by a newer load, so not shown; but the database did answer, and only
            # the newer question is still waiting (else a door scanning fast, which loads
            # after every answer, would never hear back and would go offline on a live database).
            self.post_message(self.Heard())
        else:
            self.post_message(loaded)

    class Heard(Message):
        """The database answered a load that a newer one overtook."""

    def on_door_screen_heard(self, _message: Heard) -> None:
        if self.asked_since is not None:
            self.asked_since = self.last_asked

    def on_door_screen_loaded(self, message: Loaded) -> None:
        self.asked_since = None
        summary = message.summary
        self.staff = message.member
        state = " · CANCELLED" if summary.booking_state == "cancelled" else ""
        self.query_one("#door-title", Static).update(
            f"{summary.label} · {summary.venue.name}{state} · {self._door_keeper()}"
        )
        self.local.take(message.copy)
        self.database_scans = message.scans
        self.query_one(DoorsLine).show(message.counts, self.performance_id)
        if self.local.pending:
            self.start_upload()
            return
        self.query_one(SeatCounters).show(summary.seats, inside=message.counts.inside_seats)
        self.query_one(RecentScans).show(message.scans)
        if self.offline:
            self.back_online("The database is back.")

    def show_bug(self, doing: str, error: BaseException) -> None:
        """A worker failed on a bug: said in red, so no one waits on an answer that won't come."""
        self.query_one(ResultBanner).show_failure(
            "SOMETHING WENT WRONG",
            f"{doing}: {type(error).__name__}; scan again, the door goes on",
            times.now_utc(),
        )

    def on_door_screen_failed(self, message: Failed) -> None:
        if message.doing == "refresh":
            self.asked_since = None
        if isinstance(message.error, errors.Unavailable) and message.doing == "refresh":
            if self.local.copy is not None:
                self.go_offline(message.error.message)
            return  # the notice says it already, every second would be noise
        if message.doing == "walk-in" and isinstance(message.error, errors.InvalidState):
            self.ask_walk_in_anyway(message.error.message)
            return
        self.notify(message.error.message, title=message.doing, severity="error")
        self.app.bell()

    # --- keys ----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load()

    def action_leave(self) -> None:
        self.dismiss()

    def action_toggle_exit(self) -> None:
        self.leaving = not self.leaving

    def watch_leaving(self, leaving: bool) -> None:
        self.set_class(leaving, "-leaving")
        self.query_one(ScanField).placeholder = PLACEHOLDERS[leaving]
        banner = self.query_one(ResultBanner)
        banner.leaving = leaving
        # Said at once, over an older answer: the next scan's meaning has changed.
        if not banner.has_class("-checking"):
            banner.show_waiting()
