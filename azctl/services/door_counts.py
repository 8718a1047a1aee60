"""What the doors of a performance add up to: seats in and out at each entrance, the seats inside
now, and the offline admissions that clashed (DESIGN §10).

Counted from the passes (`DoorPass`), never by adding the doors' own tallies: a party that came in
at the main door, went out for the interval at the side door and came back through it is one
party admitted, one party inside, and a pass at each of two doors. Forced passes count nowhere;
they are listed as conflicts for staff to look into.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl.models import CheckIn, Direction, DoorPass, Reservation, Staff
from azctl.services import catalog, times


@dataclass(frozen=True)
class DoorTally:
    """One entrance: the seats that passed it in and out."""

    door: str
    in_seats: int = 0
    out_seats: int = 0


@dataclass(frozen=True)
class DoorCounts:
    """A performance's doors, each and in total."""

    doors: tuple[DoorTally, ...]
    # Seats of the parties that came in at all, each party once whatever doors it used.
    admitted_seats: int
    # Seats of the parties in now: every pass in, less every pass out.
    inside_seats: int
    conflicts: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "admitted_seats": self.admitted_seats,
            "inside_seats": self.inside_seats,
            "conflicts": self.conflicts,
            "doors": [
                {"door": tally.door, "in_seats": tally.in_seats, "out_seats": tally.out_seats}
                for tally in self.doors
            ],
        }


def door_counts(session: Session, *, performance_id: int) -> DoorCounts:
    """The doors of one performance as the database has them now, from every door."""
    rows = session.exec(
        select(DoorPass.door, DoorPass.direction, sa.func.sum(Reservation.party_size))
        .join(Reservation, Reservation.id == DoorPass.reservation_id)  # type: ignore[arg-type]
        .where(DoorPass.performance_id == performance_id, col(DoorPass.forced).is_(False))
        .group_by(DoorPass.door, DoorPass.direction)
    ).all()
    seats: dict[str, dict[str, int]] = {}
    for door, direction, total in rows:
        seats.setdefault(door, {})[direction] = int(total or 0)
    doors = tuple(
        DoorTally(door, ways.get(Direction.IN, 0), ways.get(Direction.OUT, 0))
        for door, ways in sorted(seats.items())
    )
    admitted = session.exec(
        select(sa.func.coalesce(sa.func.sum(Reservation.party_size), 0))
        .select_from(CheckIn)
        .join(Reservation, Reservation.id == CheckIn.reservation_id)  # type: ignore[arg-type]
        .where(CheckIn.performance_id == performance_id)
    ).one()
    forced = session.exec(
        select(sa.func.count())
        .select_from(DoorPass)
        .where(DoorPass.performance_id == performance_id, col(DoorPass.forced).is_(True))
    ).one()
    return DoorCounts(
        doors=doors,
        admitted_seats=int(admitted),
        inside_seats=sum(tally.in_seats - tally.out_seats for tally in doors),
        conflicts=int(forced),
    )


@dataclass(frozen=True)
class Conflict:
    """An offline pass the database would have refused: which ticket, where, and why."""

    reference: str | None
    party_size: int | None
    door: str
    direction: str
    passed_at: datetime
    recorded_at: datetime
    conflict: str
    by: str | None
    # The check-in it clashed with, if the party was in already: where and when.
    first_door: str | None
    first_at: datetime | None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "reference",
        "party_size",
        "door",
        "direction",
        "passed_at",
        "recorded_at",
        "conflict",
        "by",
        "first_door",
        "first_at",
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "party_size": self.party_size,
            "door": self.door,
            "direction": self.direction,
            "passed_at": times.iso_local(self.passed_at),
            "recorded_at": times.iso_local(self.recorded_at),
            "conflict": self.conflict,
            "by": self.by,
            "first_door": self.first_door,
            "first_at": times.iso_local(self.first_at),
        }


def conflicts(session: Session, *, performance_id: int) -> list[Conflict]:
    """The forced passes of a performance, in the order the doors made them. References and
    party sizes only: staff look the booking up by its reference if they need more."""
    catalog.get_performance(session, performance_id=performance_id)
    rows = session.exec(
        select(DoorPass, Reservation, Staff.username, CheckIn)
        .outerjoin(Reservation, Reservation.id == DoorPass.reservation_id)  # type: ignore[arg-type]
        .outerjoin(Staff, Staff.id == DoorPass.staff_id)  # type: ignore[arg-type]
        .outerjoin(CheckIn, CheckIn.reservation_id == DoorPass.reservation_id)  # type: ignore[arg-type]
        .where(DoorPass.performance_id == performance_id, col(DoorPass.forced).is_(True))
        .order_by(col(DoorPass.passed_at), col(DoorPass.id))
    ).all()
    return [
        Conflict(
            reference=reservation.reference if reservation else None,
            party_size=reservation.party_size if reservation else None,
            door=door_pass.door,
            direction=door_pass.direction,
            passed_at=door_pass.passed_at,
            recorded_at=door_pass.recorded_at,
            conflict=door_pass.conflict or "",
            by=username,
            first_door=check_in.door if check_in else None,
            first_at=check_in.checked_in_at if check_in else None,
        )
        for door_pass, reservation, username, check_in in rows
    ]
