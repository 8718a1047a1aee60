"""Uploading what a door let through while the database was away (DESIGN §10).

The door's journal (`door_copy`) holds each offline pass with a nonce and the door's own time;
this records it as the check-in service would have, or, when the database's own answer now
differs, as a forced pass: the party is in the building, and staff see the clash listed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, select

from azctl import db
from azctl.models import CheckInSource, Direction, DoorPass, Performance, Reservation, Staff
from azctl.services import times
from azctl.services.checkin import (
    FORCED,
    as_recorded,
    door_performance,
    let_pass,
    lock_for_check_in,
    log_attempt,
    recorded_pass,
    token_booking,
)
from azctl.services.checkin_facts import door_direction, door_facts, door_name, ticket_facts
from azctl.services.checkin_outcome import ScanOutcome, ScanResult
from azctl.services.door_rule import judge


def record_offline(
    session: Session,
    *,
    performance_id: int,
    nonce: str,
    passed_at: datetime,
    token_hash: str | None = None,
    reference: str | None = None,
    door: str | None = None,
    direction: str = Direction.IN,
    staff: Staff | None = None,
) -> ScanOutcome:
    """Record a pass a door let through from its local copy while the database was away.

    Judged again by the same rule, at the time the door let it through. A pass the rule refuses
    now (the party came in at another door meanwhile, the booking was cancelled) happened all the
    same: it is recorded, marked forced with the answer the database would have given, and listed
    by `door_counts.conflicts`. The nonce makes an upload sent twice record once.
    """
    name = door_name(door)
    direction = door_direction(direction)
    with db.write(session):
        door_row = door_performance(session, performance_id)
        assert door_row.id is not None
        found = token_booking(session, token_hash, revoked_too=True) if token_hash else None
        if found is None and reference is not None:
            found = session.exec(
                select(Reservation).where(Reservation.reference == reference)
            ).first()
        reservation = (
            lock_for_check_in(
                session, found.reference, door_row, performance_id=found.performance_id
            )
            if found is not None
            else None
        )
        earlier = recorded_pass(session, nonce)
        if earlier is not None:
            return _offline_answer(
                session,
                reservation=reservation,
                door_row=door_row,
                name=name,
                earlier=earlier,
                passed_at=passed_at,
            )
        if reservation is None:
            outcome = ScanOutcome(
                ScanResult.UNKNOWN_TOKEN, "UNKNOWN TICKET: no such ticket", door=name
            )
        else:
            facts = ticket_facts(session, reservation)
            outcome = judge(facts, door_facts(session, door_row, name), passed_at, direction)
            if outcome.admitted:
                outcome = let_pass(
                    session,
                    facts=facts,
                    outcome=outcome,
                    reservation=reservation,
                    door=door_row,
                    staff=staff,
                    source=CheckInSource.OFFLINE,
                    now=passed_at,
                    nonce=nonce,
                )
        if not outcome.admitted:
            session.add(
                DoorPass(
                    performance_id=door_row.id,
                    reservation_id=reservation.id if reservation else None,
                    door=name,
                    direction=direction,
                    passed_at=passed_at,
                    recorded_at=times.now_utc(),
                    staff_id=staff.id if staff else None,
                    nonce=nonce,
                    offline=True,
                    forced=True,
                    conflict=outcome.result,
                )
            )
        log_attempt(
            session,
            performance_id=door_row.id,
            result=ScanResult.OK if outcome.admitted else FORCED,
            source=CheckInSource.OFFLINE,
            staff=staff,
            reservation=reservation,
            token_hash=token_hash,
            now=passed_at,
            door=name,
            direction=direction,
        )
        return replace(outcome, offline=True)


def _offline_answer(
    session: Session,
    *,
    reservation: Reservation | None,
    door_row: Performance,
    name: str,
    earlier: DoorPass,
    passed_at: datetime,
) -> ScanOutcome:
    """What an upload sent again is told: what was recorded the first time."""
    if reservation is None:
        outcome = ScanOutcome(ScanResult.UNKNOWN_TOKEN, "UNKNOWN TICKET: no such ticket", door=name)
    else:
        outcome = judge(
            ticket_facts(session, reservation),
            door_facts(session, door_row, name),
            passed_at,
            earlier.direction,
        )
    return replace(as_recorded(outcome, earlier), offline=True)
