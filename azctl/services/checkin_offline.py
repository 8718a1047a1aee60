"""Uploading what a door let through while the database was away (DESIGN §10).

The door's journal (`door_copy`) holds each offline pass with a nonce and the door's own time;
this records it as the check-in service would have, or, when the database's own answer now
differs, as a forced pass: the party is in the building, and staff see the clash listed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from azctl import db
from azctl.models import CheckInSource, Direction, Reservation, Staff
from azctl.services.checkin import (
    FORCED,
    door_performance,
    lock_for_check_in,
    log_attempt,
    pass_door,
    token_booking,
)
from azctl.services.checkin_facts import door_direction, door_name
from azctl.services.checkin_outcome import ScanOutcome, ScanResult
from azctl.services.door_passes import as_recorded, record_forced, recorded_pass


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
        if found is not None:
            reservation = lock_for_check_in(
                session, found.reference, door_row, performance_id=found.performance_id
            )
            return pass_door(
                session,
                reservation=reservation,
                door=door_row,
                name=name,
                direction=direction,
                staff=staff,
                source=CheckInSource.OFFLINE,
                token_hash=token_hash,
                now=passed_at,
                nonce=nonce,
            )
        # No such ticket any more: the door let someone in on it all the same.
        outcome = ScanOutcome(
            ScanResult.UNKNOWN_TOKEN,
            "UNKNOWN TICKET: no such ticket",
            direction=str(direction),
            door=name,
            offline=True,
        )
        earlier = recorded_pass(session, nonce)
        if earlier is not None:
            return as_recorded(outcome, earlier)
        record_forced(
            session,
            outcome=outcome,
            performance_id=door_row.id,
            reservation=None,
            staff=staff,
            passed_at=passed_at,
            nonce=nonce,
        )
        log_attempt(
            session,
            performance_id=door_row.id,
            result=FORCED,
            source=CheckInSource.OFFLINE,
            staff=staff,
            token_hash=token_hash,
            now=passed_at,
            door=name,
            direction=direction,
        )
        return outcome
