"""The door: one check-in rule for the TUI, the CLI and the HTTP scan.

Every attempt, admitted or not, writes a ScanLog row. The answer carries party size, reference
and performance, never the visitor's name, email, phone or notes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import (
    MAIN_DOOR,
    CheckIn,
    CheckInSource,
    Direction,
    DoorPass,
    Performance,
    Reservation,
    ReservationToken,
    ScanLog,
    Staff,
    TokenPurpose,
)
from azctl.services import times, tokens
from azctl.services.booking.locking import lock_booking
from azctl.services.checkin_facts import door_direction, door_facts, door_name, ticket_facts
from azctl.services.checkin_outcome import FORCED, UNDONE, ScanOutcome, ScanResult
from azctl.services.door_passes import as_recorded, let_pass, record_forced, recorded_pass
from azctl.services.door_rule import judge

# The answers are defined beside this module and named from here, where front ends look for them.
__all__ = [
    "FORCED",
    "UNDONE",
    "ScanOutcome",
    "ScanResult",
    "door_name",
    "manual",
    "refusal_by_hand",
    "scan",
    "undo",
]


def log_attempt(
    session: Session,
    *,
    performance_id: int,
    result: str,
    source: str,
    staff: Staff | None,
    reservation: Reservation | None = None,
    token_hash: str | None = None,
    now: datetime,
    door: str = MAIN_DOOR,
    direction: str = Direction.IN,
) -> None:
    session.add(
        ScanLog(
            door=door,
            direction=direction,
            scanned_at=now,
            performance_id=performance_id,
            reservation_id=reservation.id if reservation else None,
            staff_id=staff.id if staff else None,
            source=source,
            result=result,
            token_fingerprint=tokens.fingerprint(token_hash) if token_hash else None,
        )
    )


def pass_door(
    session: Session,
    *,
    reservation: Reservation,
    door: Performance,
    name: str,
    direction: str,
    staff: Staff | None,
    source: CheckInSource,
    token_hash: str | None,
    now: datetime,
    nonce: str | None,
) -> ScanOutcome:
    """Judge, then let the party pass (the first entry is its check-in); a door that loses the
    race to another door gets that door's answer. A nonce already recorded is answered as it was
    then and records nothing: the same scan, sent again.

    A pass the door made offline (`source` offline) happened whatever the answer now: refused,
    it is recorded all the same as forced, with the answer as its conflict (DESIGN §10).
    """
    assert door.id is not None and reservation.id is not None
    offline = source == CheckInSource.OFFLINE
    facts = ticket_facts(session, reservation)
    outcome = judge(facts, door_facts(session, door, name), now, direction)
    earlier = recorded_pass(session, nonce)
    if earlier is not None:
        return replace(as_recorded(outcome, earlier), offline=offline)
    if outcome.admitted:
        outcome = let_pass(
            session,
            facts=facts,
            outcome=outcome,
            reservation=reservation,
            door=door,
            staff=staff,
            source=source,
            now=now,
            nonce=nonce,
        )
    forced = offline and not outcome.admitted
    if forced:
        record_forced(
            session,
            outcome=outcome,
            performance_id=door.id,
            reservation=reservation,
            staff=staff,
            passed_at=now,
            nonce=nonce,
        )
    log_attempt(
        session,
        performance_id=door.id,
        result=FORCED if forced else outcome.result,
        source=source,
        staff=staff,
        reservation=reservation,
        token_hash=token_hash,
        now=now,
        door=name,
        direction=direction,
    )
    return replace(outcome, offline=offline)


def door_performance(session: Session, performance_id: int) -> Performance:
    door = session.exec(
        select(Performance)
        .where(Performance.id == performance_id)
        .execution_options(populate_existing=True)
    ).first()
    if door is None:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return door


def token_booking(
    session: Session, token_hash: str | None, *, revoked_too: bool = False
) -> Reservation | None:
    """The booking of a check-in token; a revoked token (a ticket resent or moved) only when an
    offline pass made with it is uploaded, to name the booking it clashed for."""
    if token_hash is None:
        return None
    statement = (
        select(Reservation)
        .join(ReservationToken, Reservation.id == ReservationToken.reservation_id)  # type: ignore[arg-type]
        .where(
            ReservationToken.token_hash == token_hash,
            ReservationToken.purpose == TokenPurpose.CHECK_IN,
        )
    )
    if not revoked_too:
        statement = statement.where(col(ReservationToken.revoked_at).is_(None))
    return session.exec(statement).first()


def scan(
    session: Session,
    *,
    text: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
    door: str | None = None,
    direction: str = Direction.IN,
    nonce: str | None = None,
) -> ScanOutcome:
    """Check in what a scanner typed (a bare token or a ticket URL) at the door of a performance,
    or, with `direction="out"`, let the party out for the interval. `nonce`, the door's own id
    for this scan, makes a scan sent twice (once online, once from the offline journal) one."""
    now = now or times.now_utc()
    name = door_name(door)
    direction = door_direction(direction)
    canonical = tokens.parse_scanned(text)
    token_hash = tokens.hash_token(canonical) if canonical else None
    with db.write(session):
        door_row = door_performance(session, performance_id)
        found = token_booking(session, token_hash)
        if found is None:
            log_attempt(
                session,
                performance_id=performance_id,
                result=ScanResult.UNKNOWN_TOKEN,
                source=CheckInSource.QR_SCAN,
                staff=staff,
                token_hash=token_hash,
                now=now,
                door=name,
                direction=direction,
            )
            return ScanOutcome(
                ScanResult.UNKNOWN_TOKEN,
                "UNKNOWN TICKET: no such ticket",
                direction=str(direction),
                door=name,
            )
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
            source=CheckInSource.QR_SCAN,
            token_hash=token_hash,
            now=now,
            nonce=nonce,
        )


def lock_for_check_in(
    session: Session, reference: str, door: Performance, *, performance_id: int | None = None
) -> Reservation:
    """The booking's locks in the agreed order (docs/architecture.md, "Lock order"): the
    ticket's performance and the door's, shared, so doors admit side by side but wait for a
    confirmation or cancellation of the same performance; then the reservation row, which
    also puts two doors passing one party in a line."""
    assert door.id is not None
    reservation, _locked = lock_booking(
        session, reference=reference, shared=True, also=(door.id,), performance_id=performance_id
    )
    return reservation


def manual(
    session: Session,
    *,
    reference: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
    door: str | None = None,
    direction: str = Direction.IN,
    nonce: str | None = None,
) -> ScanOutcome:
    """Check in by reference, for a visitor without their QR code; the same rules apply."""
    now = now or times.now_utc()
    name = door_name(door)
    direction = door_direction(direction)
    with db.write(session):
        door_row = door_performance(session, performance_id)
        try:
            reservation = lock_for_check_in(session, reference, door_row)
        except errors.NotFound:
            log_attempt(
                session,
                performance_id=performance_id,
                result=ScanResult.UNKNOWN_TOKEN,
                source=CheckInSource.MANUAL,
                staff=staff,
                now=now,
                door=name,
                direction=direction,
            )
            session.commit()
            raise
        return pass_door(
            session,
            reservation=reservation,
            door=door_row,
            name=name,
            direction=direction,
            staff=staff,
            source=CheckInSource.MANUAL,
            token_hash=None,
            now=now,
            nonce=nonce,
        )


def refusal_by_hand(
    session: Session,
    *,
    reference: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
    door: str | None = None,
    direction: str = Direction.IN,
) -> ScanOutcome | None:
    """Why the booking with this reference may not pass this door by hand now, or None if it may.

    Asked before staff are asked to confirm a manual check-in, so that they are never offered one
    that would be refused (a pending booking, one already in, one for another night). A refusal is
    an attempt, logged like a scan; a None writes nothing, and `manual` judges again.
    """
    now = now or times.now_utc()
    name = door_name(door)
    direction = door_direction(direction)
    with db.write(session):
        door_row = door_performance(session, performance_id)
        try:
            # Locked like a check-in: the attempt's log row refers to the reservation.
            reservation = lock_for_check_in(session, reference, door_row)
        except errors.NotFound:
            outcome = ScanOutcome(
                ScanResult.UNKNOWN_TOKEN, f"UNKNOWN TICKET: no booking {reference}", door=name
            )
            reservation = None
        else:
            outcome = judge(
                ticket_facts(session, reservation),
                door_facts(session, door_row, name),
                now,
                direction,
            )
            if outcome.admitted:
                return None
        log_attempt(
            session,
            performance_id=performance_id,
            result=outcome.result,
            source=CheckInSource.MANUAL,
            staff=staff,
            reservation=reservation,
            now=now,
            door=name,
            direction=direction,
        )
        return outcome


def undo(
    session: Session,
    *,
    reference: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Take back a mistaken check-in, with the party's passes in and out; logged like a scan.
    A forced offline admission stays listed as the conflict it was."""
    now = now or times.now_utc()
    with db.write(session):
        door = door_performance(session, performance_id)
        reservation = lock_for_check_in(session, reference, door)
        check_in = session.exec(
            select(CheckIn).where(
                CheckIn.reservation_id == reservation.id, CheckIn.performance_id == door.id
            )
        ).first()
        if check_in is None:
            raise errors.InvalidState(
                f"{reservation.reference} is not checked in to performance {performance_id}"
            )
        for door_pass in session.exec(
            select(DoorPass).where(
                DoorPass.reservation_id == reservation.id, col(DoorPass.forced).is_(False)
            )
        ):
            session.delete(door_pass)
        session.delete(check_in)
        log_attempt(
            session,
            performance_id=performance_id,
            result=UNDONE,
            source=CheckInSource.MANUAL,
            staff=staff,
            reservation=reservation,
            now=now,
            door=check_in.door,
        )
        return reservation
