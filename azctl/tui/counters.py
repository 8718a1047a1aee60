"""The performance's seats in numbers big enough to read while tearing tickets."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Label

from azctl.services.capacity import SeatCounts

# Each counter: its DOM id, its label, and which number of SeatCounts it shows.
COUNTERS = (
    ("expected", "Expected", "confirmed_seats"),
    ("admitted", "Admitted", "checked_in_seats"),
    ("to-come", "Still to come", "still_to_come_seats"),
    ("free", "Free now", "available_seats"),
    ("walk-ins", "Walk-ins", "manually_occupied_seats"),
)


class SeatCounters(Horizontal):
    """Seats expected (confirmed), admitted, still to come, free for walk-ins, and the seats
    occupied by hand (walk-ins sold at the door), as of the latest refresh."""

    def compose(self) -> ComposeResult:
        for counter_id, label, _field in COUNTERS:
            with Vertical(classes="counter"):
                yield Label(label)
                yield Digits("-", id=counter_id)

    def show(self, seats: SeatCounts) -> None:
        for counter_id, _label, field in COUNTERS:
            self.query_one(f"#{counter_id}", Digits).update(str(getattr(seats, field)))
