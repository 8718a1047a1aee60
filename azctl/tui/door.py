"""The door screen: scan, see the answer at once, keep count, find visitors, sell walk-in seats.

Every database call runs in a thread worker and posts its answer back as a message, so a slow or
lost database never freezes the scan field: the next scan can be typed while the last is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from azctl import errors
from azctl.models import Staff
from azctl.services import capacity, checkin, reports, times
from azctl.services.capacity import SeatCounts
from azctl.services.checkin import ScanOutcome, ScanRow
from azctl.services.reports import PerformanceSummary
from azctl.services.reservations import ReservationRow
from azctl.tui.banner import ResultBanner
from azctl.tui.confirm import ConfirmScreen
from azctl.tui.counters import SeatCounters
from azctl.tui.database import in_session
from azctl.tui.recent import RecentScans
from azctl.tui.scanfield import ScanField
from azctl.tui.search import SearchScreen

# Often enough that two doors on one database agree within a breath, rarely enough to cost nothing.
REFRESH_SECONDS = 3.0
RECENT_SCANS_SHOWN = 30


class DoorScreen(Screen[None]):
    """One performance's door. The scan field is the only widget that can take focus, so every
    key a scanner types lands in it, also after a dialog closes."""

    AUTO_FOCUS = "#scan"
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

    def __init__(
        self,
        *,
        performance_id: int,
        staff: Staff | None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.staff = staff
        self.refresh_seconds = refresh_seconds
        self.check_ins_started = 0
        # The newest check-in whose answer the banner shows; an older answer that arrives after
        # it goes to the recent-scans list only.
        self.check_in_shown = 0
        self.offline = False

    def compose(self) -> ComposeResult:
        yield Static(id="door-title")
        yield Static(id="offline")
        yield ScanField(placeholder="Scan a ticket, or type its code, then Enter", id="scan")
        yield ResultBanner(id="banner")
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
        self.check_in(
            lambda session: checkin.scan(
                session, text=message.text, performance_id=self.performance_id, staff=self.staff
            )
        )

    def check_in(self, job: Callable[[Session], ScanOutcome]) -> None:
        self.check_ins_started += 1
        self.query_one(ResultBanner).show_checking()
        self.run_check_in(self.check_ins_started, job)

    @work(thread=True, group="check-in")
    def run_check_in(self, number: int, job: Callable[[Session], ScanOutcome]) -> None:
        """Not exclusive: a check-in in flight is never cancelled, as its answer must be seen."""
        try:
            outcome = in_session(job)
        except errors.AzctlError as exc:
            self.post_message(self.Answered(number, times.now_utc(), error=exc))
        else:
            self.post_message(self.Answered(number, times.now_utc(), outcome=outcome))

    def on_door_screen_answered(self, message: Answered) -> None:
        outcome, error = message.outcome, message.error
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
            self.show_offline(error)
        # Counting comes after the banner is on screen: the answer must not wait for the tally.
        self.call_after_refresh(self.load)

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Counters and recent scans, as every door has changed them; a newer load replaces an
        older one still running, whose answer would be stale."""
        try:
            summary, scans = in_session(
                lambda session: (
                    reports.performance_summary(session, performance_id=self.performance_id),
                    checkin.recent_scans(
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
        if self.offline:
            self.offline = False
            self.query_one("#offline").display = False
            self.notify("The database is back.", title="Connected")

    def show_offline(self, error: errors.AzctlError) -> None:
        self.offline = True
        notice = self.query_one("#offline", Static)
        notice.update(
            f"OFFLINE: {error.message}. Scans get no answer until it is back;"
            f" retrying every {self.refresh_seconds:g} s."
        )
        notice.display = True

    def on_door_screen_failed(self, message: Failed) -> None:
        if isinstance(message.error, errors.Unavailable):
            self.show_offline(message.error)
        if message.doing == "refresh" and self.offline:
            return  # the offline notice says it already, every few seconds would be noise
        self.notify(message.error.message, title=message.doing, severity="error")
        self.app.bell()

    def action_refresh(self) -> None:
        self.load()

    def action_leave(self) -> None:
        self.dismiss()

    def action_walk_in(self, change: int) -> None:
        self.change_walk_ins(change)

    @work(thread=True, group="walk-ins")
    def change_walk_ins(self, change: int) -> None:
        """Not exclusive: every key press is a seat sold or given back, none may be dropped."""
        try:
            seats = in_session(
                lambda session: capacity.change_capacity(
                    session, performance_id=self.performance_id, occupy=change
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

    def action_search(self) -> None:
        self.app.push_screen(SearchScreen(self.performance_id), self.confirm_manual)

    def confirm_manual(self, row: ReservationRow | None) -> None:
        if row is None:
            return
        reservation = row.reservation
        seats = "seat" if reservation.party_size == 1 else "seats"
        question = (
            f"Check in {reservation.reference}: {reservation.name},"
            f" {reservation.party_size} {seats}?"
        )
        self.app.push_screen(
            ConfirmScreen(question),
            lambda yes: self.check_in_by_hand(reservation.reference) if yes else None,
        )

    def check_in_by_hand(self, reference: str) -> None:
        self.check_in(
            lambda session: checkin.manual(
                session, reference=reference, performance_id=self.performance_id, staff=self.staff
            )
        )
