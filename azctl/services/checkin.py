"""The door: one check-in rule for the TUI, the CLI and the HTTP scan.

Every attempt, admitted or not, writes a ScanLog row. The answer carries party size, reference
and performance, never the visitor's name, email, phone or notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import (
    CheckIn,
    CheckInSource,
    Performance,
    Reservation,
    ReservationStatus,
    ReservationToken,
    ScanLog,
    Show,
    Staff,
    TokenPurpose,
)
from azctl.services import reports, times, tokens
from azctl.services.booking.locking import lock_booking
from azctl.services.checkin_outcome import UNDONE, ScanOutcome, ScanResult

# The answers are defined beside this module and named from here, where front ends look for them.
__all__ = ["UNDONE", "ScanOutcome", "ScanResult", "manual", "refusal_by_hand", "scan", "undo"]


def _log(
    session: Session,
    *,
    performance_id: int,
    result: str,
    source: str,
    staff: Staff | None,
    reservation: Reservation | None = None,
    token_hash: str | None = None,
    now: datetime,
) -> None:
    session.add(
        ScanLog(
            scanned_at=now,
            performance_id=performance_id,
            reservation_id=reservation.id if reservation else None,
            staff_id=staff.id if staff else None,
            source=source,
            result=result,
            token_fingerprint=tokens.fingerprint(token_hash) if token_hash else None,
        )
    )


def _label(session: Session, performance: Performance) -> str:
    show = session.get(Show, performance.show_id)
    title = show.title if show else "?"
    return f"{title}, {times.short_local(performance.starts_at)}"


def _first_check_in(session: Session, reservation: Reservation) -> tuple[CheckIn, str | None]:
    row = session.exec(
        select(CheckIn, Staff.username)
        .outerjoin(Staff, Staff.id == CheckIn.staff_id)  # type: ignore[arg-type]
        .where(CheckIn.reservation_id == reservation.id)
        .execution_options(populate_existing=True)
    ).one()
    return row[0], row[1]


_BOOKED_MESSAGES = {
    ScanResult.PERFORMANCE_CANCELLED: "PERFORMANCE CANCELLED: {label}",
    ScanResult.WRONG_PERFORMANCE: "WRONG PERFORMANCE: ticket is for {label}",
}


def _about_booked(
    session: Session, booked: Performance, result: ScanResult, ticket: dict[str, Any]
) -> ScanOutcome:
    """A refusal that names the performance the ticket was booked for."""
    label = _label(session, booked)
    return ScanOutcome(
        result,
        _BOOKED_MESSAGES[result].format(label=label),
        performance_id=booked.id,
        performance_label=label,
        **ticket,
    )


def _judge(
    session: Session, reservation: Reservation, door: Performance, now: datetime
) -> ScanOutcome | None:
    """Why this reservation may not come in through this door now, or None if it may."""
    booked = session.get(Performance, reservation.performance_id)
    assert booked is not None
    ticket = {"reference": reservation.reference, "party_size": reservation.party_size}
    if booked.cancelled_at is not None:
        return _about_booked(session, booked, ScanResult.PERFORMANCE_CANCELLED, ticket)
    if reservation.status != ReservationStatus.CONFIRMED:
        return ScanOutcome(
            ScanResult.NOT_CONFIRMED,
            f"NOT CONFIRMED: booking {reservation.reference} is {reservation.status}",
            **ticket,
        )
    if booked.id != door.id:
        return _about_booked(session, booked, ScanResult.WRONG_PERFORMANCE, ticket)
    existing = session.exec(
        select(CheckIn.id).where(CheckIn.reservation_id == reservation.id)
    ).first()
    if existing is not None:
        return _already(session, reservation)
    opens, closes = reports.checkin_window(door)
    window = {
        "window_opens_at": times.iso_local(opens),
        "window_closes_at": times.iso_local(closes),
        "now": times.iso_local(now),
    }
    if now < opens:
        return ScanOutcome(
            ScanResult.TOO_EARLY,
            f"TOO EARLY: the door opens at {times.short_local(opens)}"
            f" (now {times.to_local(now):%H:%M})",
            details=window,
            **ticket,
        )
    if now > closes:
        return ScanOutcome(
            ScanResult.TOO_LATE,
            f"TOO LATE: the door closed at {times.short_local(closes)}"
            f" (now {times.to_local(now):%H:%M})",
            details=window,
            **ticket,
        )
    return None


def _already(session: Session, reservation: Reservation) -> ScanOutcome:
    first, username = _first_check_in(session, reservation)
    by = f" by {username}" if username else ""
    return ScanOutcome(
        ScanResult.ALREADY_CHECKED_IN,
        f"ALREADY CHECKED IN at {times.to_local(first.checked_in_at):%H:%M}{by}",
        reference=reservation.reference,
        party_size=reservation.party_size,
        checked_in_at=first.checked_in_at,
        checked_in_by=username,
    )


def _admit(
    session: Session,
    *,
    reservation: Reservation,
    door: Performance,
    staff: Staff | None,
    source: CheckInSource,
    token_hash: str | None,
    now: datetime,
) -> ScanOutcome:
    """Judge, then check in; a door that loses the race to another door gets its answer."""
    outcome = _judge(session, reservation, door, now)
    assert door.id is not None and reservation.id is not None
    if outcome is None:
        try:
            with session.begin_nested():
                session.add(
                    CheckIn(
                        reservation_id=reservation.id,
                        performance_id=door.id,
                        staff_id=staff.id if staff else None,
                        source=source,
                        checked_in_at=now,
                    )
                )
        except IntegrityError:
            outcome = _already(session, reservation)
        else:
            outcome = ScanOutcome(
                ScanResult.OK,
                f"ADMIT {reservation.party_size}: {reservation.reference}",
                reference=reservation.reference,
                party_size=reservation.party_size,
                performance_id=door.id,
                performance_label=_label(session, door),
                checked_in_at=now,
                checked_in_by=staff.username if staff else None,
            )
    _log(
        session,
        performance_id=door.id,
        result=outcome.result,
        source=source,
        staff=staff,
        reservation=reservation,
        token_hash=token_hash,
        now=now,
    )
    return outcome


def _door(session: Session, performance_id: int) -> Performance:
    door = session.exec(
        select(Performance)
        .where(Performance.id == performance_id)
        .execution_options(populate_existing=True)
    ).first()
    if door is None:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return door


def scan(
    session: Session,
    *,
    text: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
) -> ScanOutcome:
    """Check in what a scanner typed (a bare token or a ticket URL) at the door of a performance."""
    now = now or times.now_utc()
    canonical = tokens.parse_scanned(text)
    token_hash = tokens.hash_token(canonical) if canonical else None
    with db.write(session):
        door = _door(session, performance_id)
        row = None
        if token_hash is not None:
            row = session.exec(
                select(ReservationToken, Reservation)
                .join(Reservation, Reservation.id == ReservationToken.reservation_id)  # type: ignore[arg-type]
                .where(
                    ReservationToken.token_hash == token_hash,
                    ReservationToken.purpose == TokenPurpose.CHECK_IN,
                    col(ReservationToken.revoked_at).is_(None),
                )
            ).first()
        if row is None:
            _log(
                session,
                performance_id=performance_id,
                result=ScanResult.UNKNOWN_TOKEN,
                source=CheckInSource.QR_SCAN,
                staff=staff,
                token_hash=token_hash,
                now=now,
            )
            return ScanOutcome(ScanResult.UNKNOWN_TOKEN, "UNKNOWN TICKET: no such ticket")
        reservation = _lock_for_check_in(
            session, row[1].reference, door, performance_id=row[1].performance_id
        )
        return _admit(
            session,
            reservation=reservation,
            door=door,
            staff=staff,
            source=CheckInSource.QR_SCAN,
            token_hash=token_hash,
            now=now,
        )


def _lock_for_check_in(
    session: Session, reference: str, door: Performance, *, performance_id: int | None = None
) -> Reservation:
    """The booking's locks in the agreed order (docs/architecture.md, "Lock order"): the
    ticket's performance and the door's, shared, so doors admit side by side but wait for a
    confirmation or cancellation of the same performance; then the reservation row."""
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
) -> ScanOutcome:
    """Check in by reference, for a visitor without their QR code; the same rules apply."""
    now = now or times.now_utc()
    with db.write(session):
        door = _door(session, performance_id)
        try:
            reservation = _lock_for_check_in(session, reference, door)
        except errors.NotFound:
            _log(
                session,
                performance_id=performance_id,
                result=ScanResult.UNKNOWN_TOKEN,
                source=CheckInSource.MANUAL,
                staff=staff,
                now=now,
            )
            session.commit()
            raise
        return _admit(
            session,
            reservation=reservation,
            door=door,
            staff=staff,
            source=CheckInSource.MANUAL,
            token_hash=None,
            now=now,
        )


def refusal_by_hand(
    session: Session,
    *,
    reference: str,
    performance_id: int,
    staff: Staff | None = None,
    now: datetime | None = None,
) -> ScanOutcome | None:
    """Why the booking with this reference may not be checked in by hand at this door now, or
    None if it may.

    Asked before staff are asked to confirm a manual check-in, so that they are never offered one
    that would be refused (a pending booking, one already in, one for another night). A refusal is
    an attempt, logged like a scan; a None writes nothing, and `manual` judges again.
    """
    now = now or times.now_utc()
    with db.write(session):
        door = _door(session, performance_id)
        try:
            # Locked like a check-in: the attempt's log row refers to the reservation.
            reservation = _lock_for_check_in(session, reference, door)
        except errors.NotFound:
            outcome = ScanOutcome(
                ScanResult.UNKNOWN_TOKEN, f"UNKNOWN TICKET: no booking {reference}"
            )
            reservation = None
        else:
            outcome = _judge(session, reservation, door, now)
        if outcome is not None:
            _log(
                session,
                performance_id=performance_id,
                result=outcome.result,
                source=CheckInSource.MANUAL,
                staff=staff,
                reservation=reservation,
                now=now,
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
    """Take back a mistaken check-in; logged like a scan."""
    now = now or times.now_utc()
    with db.write(session):
        door = _door(session, performance_id)
        reservation = _lock_for_check_in(session, reference, door)
        check_in = session.exec(
            select(CheckIn).where(
                CheckIn.reservation_id == reservation.id, CheckIn.performance_id == door.id
            )
        ).first()
        if check_in is None:
            raise errors.InvalidState(
                f"{reservation.reference} is not checked in to performance {performance_id}"
            )
        session.delete(check_in)
        _log(
            session,
            performance_id=performance_id,
            result=UNDONE,
            source=CheckInSource.MANUAL,
            staff=staff,
            reservation=reservation,
            now=now,
        )
        return reservation
