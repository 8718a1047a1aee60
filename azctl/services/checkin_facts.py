"""The facts the door's rule (`door_rule.judge`) is given, loaded from the database.

The check-in service loads them for each scan; the door's local copy (`door_copy`) loads the same
facts for every ticket of a performance at once, so a door offline judges by the same values.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import (
    MAIN_DOOR,
    CheckIn,
    Direction,
    DoorPass,
    Performance,
    Reservation,
    Show,
    Staff,
)
from azctl.services import reports, times
from azctl.services.door_rule import DoorFacts, TicketFacts


def performance_label(session: Session, performance: Performance) -> str:
    show = session.get(Show, performance.show_id)
    title = show.title if show else "?"
    return f"{title}, {times.short_local(performance.starts_at)}"


def door_name(door: str | None) -> str:
    """An entrance's name as scans record it: trimmed, `main` when none is given."""
    name = " ".join((door or "").split())
    if not name:
        return MAIN_DOOR
    if len(name) > 40 or not name.isprintable():
        reason = "too_long" if len(name) > 40 else "control_characters"
        raise errors.InvalidInput(
            "door", "door: a door's name is at most 40 printable characters", reason=reason
        )
    return name


def door_direction(direction: str) -> Direction:
    """Which way a scan goes, `in` or `out`; anything else is refused before it is judged."""
    try:
        return Direction(direction)
    except ValueError:
        raise errors.InvalidInput(
            "direction", "direction: a party goes in or out", reason="unknown"
        ) from None


def door_facts(session: Session, door: Performance, name: str) -> DoorFacts:
    """The facts of a door for the rule: its performance and that performance's window."""
    assert door.id is not None
    opens, closes = reports.checkin_window(door)
    return DoorFacts(
        performance_id=door.id,
        label=performance_label(session, door),
        window_opens=opens,
        window_closes=closes,
        door=name,
    )


def ticket_facts(session: Session, reservation: Reservation) -> TicketFacts:
    """The facts of one booking for the rule, fresh from the database."""
    booked = session.get(Performance, reservation.performance_id)
    assert booked is not None
    first = session.exec(
        select(CheckIn, Staff.username)
        .outerjoin(Staff, Staff.id == CheckIn.staff_id)  # type: ignore[arg-type]
        .where(CheckIn.reservation_id == reservation.id)
        .execution_options(populate_existing=True)
    ).first()
    last_way = session.exec(
        select(DoorPass.direction)
        .where(DoorPass.reservation_id == reservation.id, col(DoorPass.forced).is_(False))
        .order_by(col(DoorPass.id).desc())
        .limit(1)
    ).first()
    check_in, username = first if first is not None else (None, None)
    return TicketFacts(
        reference=reservation.reference,
        party_size=reservation.party_size,
        status=reservation.status,
        performance_id=booked.id,  # type: ignore[arg-type]
        performance_label=performance_label(session, booked),
        performance_cancelled=booked.cancelled_at is not None,
        checked_in_at=check_in.checked_in_at if check_in else None,
        checked_in_by=username,
        checked_in_door=check_in.door if check_in else None,
        # A check-in from before passes were kept has no pass: it is a party inside.
        inside=last_way == Direction.IN if last_way is not None else check_in is not None,
        door_note=reservation.door_note,
    )
