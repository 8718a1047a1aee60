"""Finding a visitor who came without their QR code, by name, email or reference, as staff type.

A booking that cannot be checked in (pending, cancelled, expired, already in) says so in its row
and is not offered: choosing it explains why instead of asking a question whose yes would be
refused. The door's check-in service still judges every booking that is chosen.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label

from azctl import errors
from azctl.models import ReservationStatus
from azctl.services import reservations, times
from azctl.services.reservations import ReservationRow
from azctl.tui.database import in_session
from azctl.tui.workers import ReportsWorkerErrors

# Enough rows to find anyone by a few letters, few enough to read on one screen.
MATCHES_SHOWN = 50
# What a booking's state means at the door, in the words staff read in the list.
STATES = {
    ReservationStatus.PENDING: "PENDING: not confirmed",
    ReservationStatus.CONFIRMED: "confirmed",
    ReservationStatus.CANCELLED: "CANCELLED",
    ReservationStatus.EXPIRED: "EXPIRED: never confirmed",
}


def door_state(row: ReservationRow) -> str:
    if row.checked_in_at is not None:
        return f"in at {times.to_local(row.checked_in_at):%H:%M}"
    return STATES.get(row.reservation.status, row.reservation.status)


def may_be_offered(row: ReservationRow) -> bool:
    """Only a confirmed booking not yet in is put to staff as a check-in."""
    return row.checked_in_at is None and row.reservation.status == ReservationStatus.CONFIRMED


class SearchScreen(ReportsWorkerErrors, ModalScreen[ReservationRow | None]):
    """Matches among this performance's reservations; dismissed with the one chosen, or None.

    The search field keeps focus while the arrow keys move through the matches, so staff can
    type, look, correct and choose without reaching for the mouse.
    """

    BINDINGS = [
        Binding("enter", "choose", "Check in…", priority=True),
        Binding("down", "move(1)", "Next"),
        Binding("up", "move(-1)", "Previous"),
        Binding("escape", "dismiss(None)", "Back to scanning"),
    ]

    class Found(Message):
        """A worker's matches for what was typed."""

        def __init__(self, query: str, rows: list[ReservationRow]) -> None:
            super().__init__()
            self.query = query
            self.rows = rows

    class Failed(Message):
        def __init__(self, error: errors.AzctlError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, performance_id: int) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.rows: list[ReservationRow] = []
        # What the rows shown were found for; the rows of an older query are never kept.
        self.rows_for: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Label("Find a visitor: name, email or reference", id="search-title")
            yield Input(placeholder="type a few letters", id="search-query")
            yield DataTable(id="search-results", cursor_type="row", zebra_stripes=True)
            yield Label("", id="search-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#search-results", DataTable)
        table.can_focus = False
        table.add_columns("Reference", "Name", "Email", "Seats", "Status")
        self.look_up("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.look_up(event.value)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="search",
        description="searching the bookings",
    )
    def look_up(self, query: str) -> None:
        """Each keystroke starts a search; a newer one makes an older one's answer stale."""
        try:
            rows = in_session(
                lambda session: reservations.list_reservations(
                    session,
                    performance_id=self.performance_id,
                    search=query,
                    limit=MATCHES_SHOWN,
                )
            )
        except errors.AzctlError as exc:
            self.post_message(self.Failed(exc))
            return
        self.post_message(self.Found(query, rows))

    def on_search_screen_found(self, message: Found) -> None:
        if message.query != self.query_one("#search-query", Input).value:
            return  # an answer to letters that have been typed over since
        self.rows = message.rows
        self.rows_for = message.query
        table = self.query_one("#search-results", DataTable)
        table.clear()
        for row in self.rows:
            reservation = row.reservation
            table.add_row(
                reservation.reference,
                reservation.name,
                reservation.email,
                str(reservation.party_size),
                door_state(row),
            )
        count = len(self.rows)
        status = "no match" if not count else f"{count} match{'es' if count > 1 else ''}"
        if count == MATCHES_SHOWN:
            status = f"the first {count} matches: type more to narrow them"
        self.query_one("#search-status", Label).update(status)

    def on_search_screen_failed(self, message: Failed) -> None:
        self.query_one("#search-status", Label).update(message.error.message)
        self.app.bell()

    def action_move(self, step: int) -> None:
        table = self.query_one("#search-results", DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def action_choose(self) -> None:
        table = self.query_one("#search-results", DataTable)
        if not (self.rows and 0 <= table.cursor_row < len(self.rows)):
            return
        row = self.rows[table.cursor_row]
        if may_be_offered(row):
            self.dismiss(row)
            return
        self.query_one("#search-status", Label).update(
            f"{row.reservation.reference} is {door_state(row)}: it cannot be checked in."
        )
        self.app.bell()
