"""`azctl tui`: the door app, and the checks that must pass before it takes over the terminal.

A wrong `--perf` or `--as` is refused before the screen is drawn, as one line from the CLI's error
boundary, rather than as a broken door screen.
"""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from azctl import db
from azctl.models import Staff
from azctl.services import reports, staff
from azctl.tui.door import REFRESH_SECONDS, DoorScreen
from azctl.tui.performances import PerformancesScreen


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
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.performance_id = performance_id
        self.staff = staff
        self.refresh_seconds = refresh_seconds

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
                refresh_seconds=self.refresh_seconds,
            )
        )


def run(*, performance_id: int | None, staff_username: str | None) -> None:
    """Check the database (opening it checks its schema), the performance and the staff member,
    then run the door until staff quit."""
    member = None
    with db.session_scope() as session:
        if staff_username is not None:
            member = staff.active_staff(session, username=staff_username)
        if performance_id is not None:
            reports.performance_summary(session, performance_id=performance_id)
    DoorApp(performance_id=performance_id, staff=member).run()
