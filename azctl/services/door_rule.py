"""The door's rule: may this ticket pass this door, this way, now? One pure function.

The facts come in as plain values, loaded by whoever asks: the check-in service from the database
(online), the door's local copy from its file (offline, DESIGN §10). Both ask `judge`, so a door
that has lost its network admits by exactly the rules the database would apply, with the same
result codes and the same words. No session, no clock, no I/O: table tests need no database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from azctl.models import MAIN_DOOR, Direction, ReservationStatus
from azctl.services import times
from azctl.services.checkin_outcome import ScanOutcome, ScanResult


@dataclass(frozen=True)
class TicketFacts:
    """What the door may know of a ticket: never a name, email, phone or the visitor's notes."""

    reference: str
    party_size: int
    status: str
    performance_id: int
    performance_label: str
    performance_cancelled: bool = False
    # The party's first admission, if any: when, by whom, at which door.
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    checked_in_door: str | None = None
    # In now: admitted, and not out since.
    inside: bool = False
    door_note: str | None = None


@dataclass(frozen=True)
class DoorFacts:
    """The door asking: its performance, that performance's check-in window, the entrance."""

    performance_id: int
    label: str
    window_opens: datetime
    window_closes: datetime
    door: str


def judge(
    ticket: TicketFacts, door: DoorFacts, now: datetime, direction: str = Direction.IN
) -> ScanOutcome:
    """The answer to one ticket at one door at `now`: `ok` lets the party pass, any other code
    says why not. Refusals are tried in the order staff need to hear them (a cancelled night
    before a wrong one)."""
    common = {
        "reference": ticket.reference,
        "party_size": ticket.party_size,
        "direction": str(direction),
        "door": door.door,
    }
    if direction == Direction.OUT:
        return _judge_exit(ticket, door, common)
    if ticket.performance_cancelled:
        return ScanOutcome(
            ScanResult.PERFORMANCE_CANCELLED,
            f"PERFORMANCE CANCELLED: {ticket.performance_label}",
            performance_id=ticket.performance_id,
            performance_label=ticket.performance_label,
            **common,
        )
    if ticket.status != ReservationStatus.CONFIRMED:
        return ScanOutcome(
            ScanResult.NOT_CONFIRMED,
            f"NOT CONFIRMED: booking {ticket.reference} is {ticket.status}",
            **common,
        )
    if ticket.performance_id != door.performance_id:
        return _wrong_performance(ticket, common)
    if ticket.inside:
        return already_inside(ticket, common)
    window = {
        "window_opens_at": times.iso_local(door.window_opens),
        "window_closes_at": times.iso_local(door.window_closes),
        "now": times.iso_local(now),
    }
    if now < door.window_opens:
        return ScanOutcome(
            ScanResult.TOO_EARLY,
            f"TOO EARLY: the door opens at {times.short_local(door.window_opens)}"
            f" (now {times.to_local(now):%H:%M})",
            details=window,
            **common,
        )
    if now > door.window_closes:
        return ScanOutcome(
            ScanResult.TOO_LATE,
            f"TOO LATE: the door closed at {times.short_local(door.window_closes)}"
            f" (now {times.to_local(now):%H:%M})",
            details=window,
            **common,
        )
    again = ticket.checked_in_at is not None
    return ScanOutcome(
        ScanResult.OK,
        f"ADMIT {ticket.party_size}{' (back in)' if again else ''}: {ticket.reference}",
        performance_id=door.performance_id,
        performance_label=door.label,
        checked_in_at=ticket.checked_in_at if again else now,
        checked_in_by=ticket.checked_in_by if again else None,
        door_note=ticket.door_note,
        again=again,
        **common,
    )


def _judge_exit(ticket: TicketFacts, door: DoorFacts, common: dict) -> ScanOutcome:
    """Anyone inside may leave, whatever the hour; only a party that is inside can."""
    if ticket.performance_id != door.performance_id:
        return _wrong_performance(ticket, common)
    if not ticket.inside:
        why = "has left already" if ticket.checked_in_at is not None else "never came in"
        return ScanOutcome(
            ScanResult.NOT_INSIDE,
            f"NOT INSIDE: {ticket.reference} {why}",
            **common,
        )
    return ScanOutcome(
        ScanResult.OK,
        f"EXIT {ticket.party_size}: {ticket.reference} may come back in once",
        performance_id=door.performance_id,
        performance_label=door.label,
        checked_in_at=ticket.checked_in_at,
        checked_in_by=ticket.checked_in_by,
        **common,
    )


def _wrong_performance(ticket: TicketFacts, common: dict) -> ScanOutcome:
    return ScanOutcome(
        ScanResult.WRONG_PERFORMANCE,
        f"WRONG PERFORMANCE: ticket is for {ticket.performance_label}",
        performance_id=ticket.performance_id,
        performance_label=ticket.performance_label,
        **common,
    )


def already_inside(ticket: TicketFacts, common: dict) -> ScanOutcome:
    """A party that is in already: when it came in, by whom, and through which door."""
    at = ticket.checked_in_at
    when = f" at {times.to_local(at):%H:%M}" if at is not None else ""
    by = f" by {ticket.checked_in_by}" if ticket.checked_in_by else ""
    door = ticket.checked_in_door
    through = f" ({door} door)" if door and door != MAIN_DOOR else ""
    return ScanOutcome(
        ScanResult.ALREADY_CHECKED_IN,
        f"ALREADY CHECKED IN{when}{by}{through}",
        checked_in_at=at,
        checked_in_by=ticket.checked_in_by,
        **common,
    )


def passed(ticket: TicketFacts, outcome: ScanOutcome, now: datetime) -> TicketFacts:
    """The ticket's facts after the pass `outcome` admitted: how a door that decides by itself
    keeps its copy true until the database says otherwise."""
    if not outcome.admitted:
        return ticket
    if outcome.direction == Direction.OUT:
        return replace(ticket, inside=False)
    if ticket.checked_in_at is None:
        return replace(
            ticket,
            inside=True,
            checked_in_at=now,
            checked_in_by=outcome.checked_in_by,
            checked_in_door=outcome.door,
        )
    return replace(ticket, inside=True)
