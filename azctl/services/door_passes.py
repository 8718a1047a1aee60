"""Writing a party's passes through a door: the first entry is its check-in, every entry and
exit a DoorPass, and an offline pass the database refuses now a forced one (DESIGN §10).

The check-in service (`checkin`) judges and locks; this writes, under the locks it took.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from azctl.models import (
    MAIN_DOOR,
    CheckIn,
    CheckInSource,
    Direction,
    DoorPass,
    Performance,
    Reservation,
    Staff,
)
from azctl.services import times
from azctl.services.checkin_facts import door_facts, ticket_facts
from azctl.services.checkin_outcome import ScanOutcome, ScanResult
from azctl.services.door_rule import TicketFacts, judge


def recorded_pass(session: Session, nonce: str | None) -> DoorPass | None:
    if nonce is None:
        return None
    return session.exec(select(DoorPass).where(DoorPass.nonce == nonce)).first()


def as_recorded(outcome: ScanOutcome, earlier: DoorPass) -> ScanOutcome:
    """The answer to a scan whose nonce was recorded already: what was recorded then."""
    if earlier.forced:
        return replace(outcome, result=ScanResult(earlier.conflict or ScanResult.UNKNOWN_TOKEN))
    word = "ADMIT" if earlier.direction == Direction.IN else "EXIT"
    return replace(
        outcome,
        result=ScanResult.OK,
        message=f"{word} {outcome.party_size}: {outcome.reference} (recorded already)",
        direction=earlier.direction,
        checked_in_at=earlier.passed_at,
    )


def let_pass(
    session: Session,
    *,
    facts: TicketFacts,
    outcome: ScanOutcome,
    reservation: Reservation,
    door: Performance,
    staff: Staff | None,
    source: CheckInSource,
    now: datetime,
    nonce: str | None,
) -> ScanOutcome:
    assert door.id is not None and reservation.id is not None
    first_entry = outcome.direction == Direction.IN and facts.checked_in_at is None
    if first_entry:
        try:
            with session.begin_nested():
                session.add(
                    CheckIn(
                        reservation_id=reservation.id,
                        performance_id=door.id,
                        staff_id=staff.id if staff else None,
                        source=source,
                        checked_in_at=now,
                        door=outcome.door or MAIN_DOOR,
                    )
                )
        except IntegrityError:
            # Another door won: its check-in is the answer (the reservation lock makes this rare).
            return judge(
                ticket_facts(session, reservation),
                door_facts(session, door, outcome.door or MAIN_DOOR),
                now,
            )
        outcome = replace(outcome, checked_in_by=staff.username if staff else None)
    session.add(
        DoorPass(
            performance_id=door.id,
            reservation_id=reservation.id,
            door=outcome.door or MAIN_DOOR,
            direction=outcome.direction,
            passed_at=now,
            recorded_at=times.now_utc(),
            staff_id=staff.id if staff else None,
            nonce=nonce,
            offline=source == CheckInSource.OFFLINE,
        )
    )
    return outcome


def record_forced(
    session: Session,
    *,
    outcome: ScanOutcome,
    performance_id: int,
    reservation: Reservation | None,
    staff: Staff | None,
    passed_at: datetime,
    nonce: str | None,
) -> None:
    """Keep an offline pass the database refuses now, with its answer, for staff to look into."""
    session.add(
        DoorPass(
            performance_id=performance_id,
            reservation_id=reservation.id if reservation else None,
            door=outcome.door or MAIN_DOOR,
            direction=outcome.direction,
            passed_at=passed_at,
            recorded_at=times.now_utc(),
            staff_id=staff.id if staff else None,
            nonce=nonce,
            offline=True,
            forced=True,
            conflict=outcome.result,
        )
    )
