"""The performance's seats in numbers big enough to read while tearing tickets, and a line for
its doors: each entrance's passes, and the offline admissions that clashed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Label, Static

from azctl.models import ReservationStatus
from azctl.services.capacity import SeatCounts
from azctl.services.door_copy import DoorCopy
from azctl.services.door_counts import DoorCounts

# Each counter: its DOM id, its label, and which number of SeatCounts it shows.
COUNTERS = (
    ("expected", "Expected", "confirmed_seats"),
    ("admitted", "Admitted", "checked_in_seats"),
    ("to-come", "To come", "still_to_come_seats"),
    ("free", "Free", "available_seats"),
    ("walk-ins", "Walk-ins", "manually_occupied_seats"),
)


class SeatCounters(Horizontal):
    """Seats expected (confirmed), admitted, still to come, inside now (entries less exits), free
    for walk-ins, and the seats occupied by hand (walk-ins sold at the door), as of the latest
    refresh, or, offline, as the door's own copy has them."""

    def compose(self) -> ComposeResult:
        for counter_id, label, _field in COUNTERS[:3]:
            yield _counter(counter_id, label)
        yield _counter("inside", "Inside")
        for counter_id, label, _field in COUNTERS[3:]:
            yield _counter(counter_id, label)

    def show(self, seats: SeatCounts, *, inside: int | None = None) -> None:
        for counter_id, _label, field in COUNTERS:
            self.query_one(f"#{counter_id}", Digits).update(str(getattr(seats, field)))
        if inside is not None:
            self.query_one("#inside", Digits).update(str(inside))

    def show_copy(self, copy: DoorCopy) -> None:
        """Offline: the counts the copy can give; free seats and walk-ins stay as last known."""
        expected = sum(
            ticket.party_size
            for ticket in copy.tickets.values()
            if ticket.status == ReservationStatus.CONFIRMED
        )
        numbers = {
            "expected": expected,
            "admitted": copy.admitted_seats,
            "to-come": max(0, expected - copy.admitted_seats),
            "inside": copy.inside_seats,
        }
        for counter_id, number in numbers.items():
            self.query_one(f"#{counter_id}", Digits).update(str(number))


def _counter(counter_id: str, label: str) -> Vertical:
    return Vertical(Label(label), Digits("-", id=counter_id), classes="counter")


class DoorsLine(Static):
    """Each door's seats in and out, and the conflicts to look into, on one line."""

    def show(self, counts: DoorCounts, performance_id: int) -> None:
        doors = " · ".join(
            f"{tally.door} {tally.in_seats} in"
            + (f", {tally.out_seats} out" if tally.out_seats else "")
            for tally in counts.doors
        )
        line = f"Doors: {doors or 'no one yet'}"
        if counts.conflicts:
            line += (
                f" · CONFLICTS {counts.conflicts}: azctl checkin conflicts --perf {performance_id}"
            )
        self.set_class(bool(counts.conflicts), "-conflicts")
        self.update(line)
