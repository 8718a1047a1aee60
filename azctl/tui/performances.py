"""Today's performances, to pick the one whose door this is.

On a day without any, the next few are listed instead, so staff can still open a door and check
that scanning works before the season starts.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label

from azctl import errors
from azctl.services import reports, times
from azctl.services.reports import PerformanceSummary
from azctl.tui.database import in_session
from azctl.tui.workers import ReportsWorkerErrors

UPCOMING_SHOWN = 10


class PerformancesScreen(ReportsWorkerErrors):
    """Lists today's performances and tells the app which was chosen (the only one, by itself)."""

    AUTO_FOCUS = "#performances"
    BINDINGS = [
        Binding("enter", "open_door", "Open its door", priority=True),
        Binding("f5", "refresh", "Refresh"),
    ]

    class Chosen(Message):
        """Staff picked the performance whose door to open."""

        def __init__(self, performance_id: int) -> None:
            super().__init__()
            self.performance_id = performance_id

    class Loaded(Message):
        def __init__(self, summaries: list[PerformanceSummary], today: bool) -> None:
            super().__init__()
            self.summaries = summaries
            self.today = today

    class Failed(Message):
        def __init__(self, error: errors.AzctlError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, *, open_the_only_one: bool) -> None:
        super().__init__()
        # Only the first list opens a lone performance by itself; coming back to the list with
        # Escape must leave staff on the list.
        self.open_the_only_one = open_the_only_one
        self.summaries: list[PerformanceSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Looking for today's performances…", id="performances-caption")
        yield DataTable(id="performances", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Id", "Starts", "Show", "Venue", "Booked", "In")

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="load",
        description="loading the performances",
    )
    def load(self) -> None:
        now = times.now_utc()
        try:
            summaries = in_session(
                lambda session: reports.list_performances(
                    session, on_day=times.to_local(now).date()
                )
            )
            today = bool(summaries)
            if not today:
                summaries = in_session(
                    lambda session: reports.list_performances(session, upcoming_from=now)
                )[:UPCOMING_SHOWN]
        except errors.AzctlError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Loaded(summaries, today))

    def on_performances_screen_loaded(self, message: Loaded) -> None:
        self.summaries = message.summaries
        table = self.query_one(DataTable)
        table.clear()
        for summary in self.summaries:
            table.add_row(
                str(summary.performance.id),
                times.short_local(summary.performance.starts_at),
                summary.show.title,
                summary.venue.name,
                str(summary.seats.confirmed_seats),
                str(summary.seats.checked_in_seats),
            )
        if message.today:
            caption = "Today's performances: pick the one at your door."
        elif self.summaries:
            caption = "No performance today. The next ones:"
        else:
            caption = "No performance today or later: add one with `azctl perf add`."
        self.query_one("#performances-caption", Label).update(caption)
        if self.open_the_only_one and message.today and len(self.summaries) == 1:
            self.open_door(0)
        self.open_the_only_one = False

    def on_performances_screen_failed(self, message: Failed) -> None:
        self.query_one("#performances-caption", Label).update(message.error.message)
        self.notify(message.error.message, title="performances", severity="error")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_door(event.cursor_row)

    def action_open_door(self) -> None:
        self.open_door(self.query_one(DataTable).cursor_row)

    def open_door(self, row: int) -> None:
        if 0 <= row < len(self.summaries):
            performance_id = self.summaries[row].performance.id
            assert performance_id is not None
            self.post_message(self.Chosen(performance_id))

    def on_screen_resume(self) -> None:
        """Loads the list when first shown and again on coming back from a door, as it changed."""
        self.load()

    def action_refresh(self) -> None:
        self.load()
