"""The door screen: scan, see the answer at once, keep count, find visitors, sell walk-in seats.

Every database call runs in a thread worker and posts its answer back as a message, so a slow or
lost database never freezes the scan field: the next scan can be typed while the last is checked.
A manual check-in, by a reference typed into the scan field or a visitor found by search, is first
judged by the check-in service and only then, if it would be admitted, put to staff as a question.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from azctl import errors
from azctl.models import Staff
from azctl.services import checkin, checkin_lists, reports, reservations, times, walkins
from azctl.services.capacity import SeatCounts
from azctl.services.checkin import ScanOutcome
from azctl.services.checkin_lists import ScanRow
from azctl.services.reports import PerformanceSummary
from azctl.services.reservations import ReservationRow
from azctl.tui.banner import BANNER_SECONDS, ResultBanner, detail, headline
from azctl.tui.confirm import ConfirmScreen
from azctl.tui.counters import SeatCounters
from azctl.tui.database import in_session
from azctl.tui.recent import RecentScans
from azctl.tui.scanfield import ScanField
from azctl.tui.search import SearchScreen
from azctl.tui.workers import ReportsWorkerErrors

# Often enough that two doors on one database agree within a breath, rarely enough to cost nothing.
REFRESH_SECONDS = 3.0
RECENT_SCANS_SHOWN = 30


class DoorScreen(ReportsWorkerErrors):
    """One performance's door. The scan field is the only widget that can take focus, so every
    key a person types lands in it, also after a dialog closes (a scanner's burst is taken by the
    app before any widget sees it, and handed to `scan`)."""

    AUTO_FOCUS = "#scan"
    # A taller terminal (a big screen by the door) gets roomier counters; see door.tcss.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("f2", "search", "Search"),
        Binding("f3", "walk_in(1)", "+1 walk-in"),
        Binding("f4", "walk_in(-1)", "-1 walk-in"),
        Binding("f5", "refresh", "Refresh"),
        Binding("escape", "leave", "Performances"),
    ]

    class Answered(Message):
        """A check-in worker's answer: an outcome, or the error that kept it from one."""

        def __init__(
            self,
            number: int,
            at: datetime,
            outcome: ScanOutcome | None = None,
            error: errors.AzctlError | None = None,
        ) -> None:
            super().__init__()
            self.number = number
            self.at = at
            self.outcome = outcome
            self.error = error

    class Loaded(Message):
        """The performance as the database has it now, from every door."""

        def __init__(self, summary: PerformanceSummary, scans: list[ScanRow]) -> None:
            super().__init__()
            self.summary = summary
            self.scans = scans

    class Ask(Message):
        """A booking the service would admit by hand: put it to staff before checking it in."""

        def __init__(self, reference: str, name: str, party_size: int) -> None:
            super().__init__()
            self.reference = reference
            self.name = name
            self.party_size = party_size

    class WalkInsChanged(Message):
        def __init__(self, change: int, seats: SeatCounts) -> None:
            super().__init__()
            self.change = change
            self.seats = seats

    class Failed(Message):
        """A refresh or a walk-in change that did not happen, and why."""

        def __init__(self, doing: str, error: errors.AzctlError) -> None:
            super().__init__()
            self.doing = doing
            self.error = error

    # The database did not answer the last call: the notice shows, scans get no answer.
    database_lost: reactive[bool] = reactive(False)

    def __init__(
        self,
        *,
        performance_id: int,
        staff: Staff | None,
        refresh_seconds: float = REFRESH_SECONDS,
        banner_seconds: float = BANNER_SECONDS,
    ) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.staff = staff
        self.refresh_seconds = refresh_seconds
        self.banner_seconds = banner_seconds
        self.check_ins_started = 0
        # The newest check-in whose answer the banner shows; an older answer that arrives after
        # it goes to the recent-scans list only.
        self.check_in_shown = 0

    def compose(self) -> ComposeResult:
        yield Static(id="door-title")
        yield Static(id="database-lost")
        yield ScanField(
            placeholder="Scan a ticket, or type its code or booking reference, then Enter",
            id="scan",
        )
        yield ResultBanner(seconds=self.banner_seconds, id="banner")
        yield SeatCounters(id="counters")
        yield RecentScans(id="recent")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#door-title", Static).update(
            f"Performance {self.performance_id} · {self._door_keeper()}"
        )
        self.set_interval(self.refresh_seconds, self.load)
        self.load()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    def _door_keeper(self) -> str:
        return f"door: {self.staff.username}" if self.staff else "door: no staff name (--as)"

    def on_scan_field_scanned(self, message: ScanField.Scanned) -> None:
        self.scan(message.text)

    def scan(self, text: str) -> None:
        """What was scanned or typed into the scan field: a ticket, or a booking's reference."""
        reference = reservations.parse_reference(text)
        if reference is not None:
            self.ask_by_hand(reference)
            return
        self.check_in(
            lambda session: checkin.scan(
                session, text=text, performance_id=self.performance_id, staff=self.staff
            )
        )

    def check_in(self, job: Callable[[Session], ScanOutcome]) -> None:
        self.check_ins_started += 1
        self.query_one(ResultBanner).show_checking()
        self.run_check_in(self.check_ins_started, job)

    @work(thread=True, exit_on_error=False, group="check-in", description="check-in")
    def run_check_in(self, number: int, job: Callable[[Session], ScanOutcome | None]) -> None:
        """Not exclusive: a check-in in flight is never cancelled, as its answer must be seen.

        A job that answers None had nothing to say on the banner (a question is put instead)."""
        try:
            outcome = in_session(job)
        except errors.AzctlError as exc:
            self.post_message(self.Answered(number, times.now_utc(), error=exc))
        else:
            self.post_message(self.Answered(number, times.now_utc(), outcome=outcome))

    def on_door_screen_answered(self, message: Answered) -> None:
        outcome, error = message.outcome, message.error
        if outcome is None and error is None:
            self.query_one(ResultBanner).show_waiting()
            return
        if self.app.screen is not self:
            self.tell_over_a_dialog(outcome, error)
        if message.number >= self.check_in_shown:
            self.check_in_shown = message.number
            banner = self.query_one(ResultBanner)
            if outcome is not None:
                banner.show_outcome(outcome, message.at)
            elif isinstance(error, errors.Unavailable):
                banner.show_failure(
                    "NO ANSWER FROM THE DATABASE", "scan again once it is back", message.at
                )
            elif error is not None:
                banner.show_failure("NOT CHECKED IN", error.message, message.at)
        if outcome is None or not outcome.admitted:
            self.app.bell()
        if isinstance(error, errors.Unavailable):
            self.show_database_lost(error)
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

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="load",
        description="loading the counts and recent scans",
    )
    def load(self) -> None:
        """Counters and recent scans, as every door has changed them; a newer load replaces an
        older one still running, whose answer would be stale."""
        try:
            summary, scans = in_session(
                lambda session: (
                    reports.performance_summary(session, performance_id=self.performance_id),
                    checkin_lists.recent_scans(
                        session, performance_id=self.performance_id, limit=RECENT_SCANS_SHOWN
                    ),
                )
            )
        except errors.AzctlError as exc:
            self.post_message(self.Failed("refresh", exc))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(summary, scans))

    def on_door_screen_loaded(self, message: Loaded) -> None:
        summary = message.summary
        state = " · CANCELLED" if summary.booking_state == "cancelled" else ""
        self.query_one("#door-title", Static).update(
            f"{summary.label} · {summary.venue.name}{state} · {self._door_keeper()}"
        )
        self.query_one(SeatCounters).show(summary.seats)
        self.query_one(RecentScans).show(message.scans)
        if self.database_lost:
            self.database_lost = False
            self.notify("The database is back.", title="Connected")

    def watch_database_lost(self, lost: bool) -> None:
        self.set_class(lost, "-database-lost")

    def show_database_lost(self, error: errors.AzctlError) -> None:
        self.query_one("#database-lost", Static).update(
            f"DATABASE LOST: {error.message}. Scans get no answer until it is back;"
            f" retrying every {self.refresh_seconds:g} s."
        )
        self.database_lost = True

    def show_bug(self, doing: str, error: BaseException) -> None:
        """A worker failed on a bug: said in red, so no one waits on an answer that won't come."""
        self.query_one(ResultBanner).show_failure(
            "SOMETHING WENT WRONG",
            f"{doing}: {type(error).__name__}; scan again, the door goes on",
            times.now_utc(),
        )

    def on_door_screen_failed(self, message: Failed) -> None:
        if isinstance(message.error, errors.Unavailable):
            self.show_database_lost(message.error)
            if message.doing == "refresh":
                return  # the notice says it already, every few seconds would be noise
        if message.doing == "walk-in" and isinstance(message.error, errors.InvalidState):
            self.ask_walk_in_anyway(message.error.message)
            return
        self.notify(message.error.message, title=message.doing, severity="error")
        self.app.bell()

    def action_refresh(self) -> None:
        self.load()

    def action_leave(self) -> None:
        self.dismiss()

    def action_walk_in(self, change: int) -> None:
        self.change_walk_ins(change)

    def ask_walk_in_anyway(self, why: str) -> None:
        """Outside the check-in window a walk-in seat is sold only if staff say so."""
        self.app.bell()
        self.app.push_screen(
            ConfirmScreen(f"No walk-ins now: {why}. Sell a walk-in seat anyway?"),
            lambda yes: self.change_walk_ins(1, anyway=True) if yes else None,
        )

    @work(thread=True, exit_on_error=False, group="walk-ins", description="a walk-in seat")
    def change_walk_ins(self, change: int, anyway: bool = False) -> None:
        """Not exclusive: every key press is a seat sold or given back, none may be dropped."""
        try:
            seats = in_session(
                lambda session: walkins.change_walk_ins(
                    session,
                    performance_id=self.performance_id,
                    change=change,
                    staff=self.staff,
                    anyway=anyway,
                )
            )
        except errors.AzctlError as exc:
            self.post_message(self.Failed("walk-in", exc))
        else:
            self.post_message(self.WalkInsChanged(change, seats))

    def on_door_screen_walk_ins_changed(self, message: WalkInsChanged) -> None:
        self.query_one(SeatCounters).show(message.seats)
        done = "Sold 1 walk-in seat" if message.change > 0 else "Gave back 1 walk-in seat"
        self.notify(f"{done}: {message.seats.available_seats} free now.", title="walk-in")
        self.load()

    def action_search(self) -> None:
        self.app.push_screen(SearchScreen(self.performance_id), self.chosen_in_search)

    def chosen_in_search(self, row: ReservationRow | None) -> None:
        if row is not None:
            self.ask_by_hand(row.reservation.reference)

    def ask_by_hand(self, reference: str) -> None:
        """Judge a manual check-in first: a refusal is shown at once, an admission is asked."""

        def judge(session: Session) -> ScanOutcome | None:
            refusal = checkin.refusal_by_hand(
                session, reference=reference, performance_id=self.performance_id, staff=self.staff
            )
            if refusal is None:
                found = reservations.get_reservation(session, reference=reference)
                self.post_message(self.Ask(found.reference, found.name, found.party_size))
            return refusal

        self.check_in(judge)

    def on_door_screen_ask(self, message: Ask) -> None:
        seats = "seat" if message.party_size == 1 else "seats"
        question = f"Check in {message.reference}: {message.name}, {message.party_size} {seats}?"
        self.app.push_screen(
            ConfirmScreen(question),
            lambda yes: self.check_in_by_hand(message.reference) if yes else None,
        )

    def check_in_by_hand(self, reference: str) -> None:
        self.check_in(
            lambda session: checkin.manual(
                session, reference=reference, performance_id=self.performance_id, staff=self.staff
            )
        )
