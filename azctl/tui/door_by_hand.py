"""The door's work by hand: walk-in seats sold at the door, and a visitor found by search or by
a typed reference, judged first and then put to staff as a question.

A base of the door screen: every check-in still goes through the screen's `check_in`, so a pass
by hand is answered from the database or, offline, from the door's copy, like a scan.
"""

from __future__ import annotations

from sqlmodel import Session
from textual import work
from textual.message import Message

from azctl import errors
from azctl.services import checkin, reservations, times, walkins
from azctl.services.capacity import SeatCounts
from azctl.services.checkin import ScanOutcome
from azctl.services.door_copy import DoorCopy
from azctl.services.reservations import ReservationRow
from azctl.tui.confirm import ConfirmScreen
from azctl.tui.counters import SeatCounters
from azctl.tui.database import in_session
from azctl.tui.door_offline import OfflineDoor
from azctl.tui.search import SearchScreen


class DoorByHand(OfflineDoor):
    """Walk-ins, search and manual check-in. The screen gives it `check_in`, `door`, `leaving`,
    `_direction`, `_username` and `Failed`."""

    class Ask(Message):
        """A booking that would be admitted by hand: put it to staff before checking it in."""

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

    def on_door_by_hand_walk_ins_changed(self, message: WalkInsChanged) -> None:
        self.query_one(SeatCounters).show(message.seats)
        done = "Sold 1 walk-in seat" if message.change > 0 else "Gave back 1 walk-in seat"
        self.notify(f"{done}: {message.seats.available_seats} free now.", title="walk-in")
        self.load()

    # --- by hand -------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.app.push_screen(SearchScreen(self.performance_id), self.chosen_in_search)

    def chosen_in_search(self, row: ReservationRow | None) -> None:
        if row is not None:
            self.ask_by_hand(row.reservation.reference)

    def ask_by_hand(self, reference: str) -> None:
        """Judge a manual pass first: a refusal is shown at once, an admission is asked."""
        direction = self._direction

        def judge(session: Session) -> ScanOutcome | DoorByHand.Ask:
            refusal = checkin.refusal_by_hand(
                session,
                reference=reference,
                performance_id=self.performance_id,
                staff=self.staff,
                door=self.door,
                direction=direction,
            )
            if refusal is not None:
                return refusal
            found = reservations.get_reservation(session, reference=reference)
            return self.Ask(found.reference, found.name, found.party_size)

        def judge_from_copy(number: int, copy: DoorCopy) -> ScanOutcome | DoorByHand.Ask:
            now = times.now_utc()
            refusal = copy.would_admit(reference=reference, now=now, direction=direction)
            if refusal is not None:
                return refusal
            ticket = copy.ticket(reference)
            return self.Ask(ticket.reference, "(offline: names are not kept)", ticket.party_size)

        self.check_in(judge, judge_from_copy)

    def put_question(self, message: Ask) -> None:
        seats = "seat" if message.party_size == 1 else "seats"
        way = "Let out" if self.leaving else "Check in"
        question = f"{way} {message.reference}: {message.name}, {message.party_size} {seats}?"
        self.app.push_screen(
            ConfirmScreen(question),
            lambda yes: self.check_in_by_hand(message.reference) if yes else None,
        )

    def check_in_by_hand(self, reference: str) -> None:
        direction = self._direction
        self.check_in(
            lambda session: checkin.manual(
                session,
                reference=reference,
                performance_id=self.performance_id,
                staff=self.staff,
                door=self.door,
                direction=direction,
            ),
            lambda number, copy: copy.decide_by_reference(
                reference=reference, now=times.now_utc(), direction=direction, staff=self._username
            ),
        )
