"""Exchange: staff move a confirmed booking to another performance of the same show (DESIGN §8).

Two performances change seats at once, so both are locked, in ascending id, before the booking
(`locking.lock_booking` with `also`): two exchanges A→B and B→A, and the confirmations on A and
B, all queue on the same rows in the same order and never wait in a circle. Taking the source
first and the target second instead deadlocks two opposite exchanges
(tests/services/test_exchange_races.py says how that was seen).

The reference is kept, so phone support finds the booking as before. The old ticket and cancel
links are revoked (a printed ticket for the old date must not admit) and a new ticket is mailed
in the booking's language, saying that the booking was moved. The seats left behind are simply
free again; the waiting list's round offers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from azctl import db, errors
from azctl.models import Performance, Reservation, ReservationStatus, TokenPurpose
from azctl.services import capacity, reports, times
from azctl.services.booking import mails, rules
from azctl.services.booking.links import is_checked_in
from azctl.services.booking.locking import lock_booking
from azctl.services.words import plural


@dataclass(frozen=True)
class MovedBooking:
    reservation: Reservation
    from_performance_id: int
    ticket_token: str


def refuse_move(
    reservation: Reservation,
    source: Performance,
    target: Performance,
    free: int,
    now: datetime,
    *,
    checked_in: bool,
) -> None:
    """Every reason an exchange is refused, on the rows as locked; each with a stable code."""
    reference = reservation.reference
    if reservation.status != ReservationStatus.CONFIRMED:
        raise errors.InvalidState(
            f"{reference} is {reservation.status}: only a confirmed booking can be moved"
        )
    rules.refuse_checked_in(reservation, checked_in=checked_in)
    if target.id == source.id:
        raise errors.InvalidInput(
            "to", f"{reference} is already for performance {target.id}", reason="same_performance"
        )
    if target.show_id != source.show_id:
        raise errors.InvalidInput(
            "to",
            f"performance {target.id} is of another show: a booking moves only to another date"
            " of its own show",
            reason="other_show",
        )
    if target.cancelled_at is not None:
        raise errors.BookingClosed(f"performance {target.id} is cancelled")
    if target.starts_at <= now:
        raise errors.BookingClosed(f"performance {target.id} has already started")
    if reservation.party_size > free:
        raise errors.NotEnoughSeats(
            f"{reference} is for {plural(reservation.party_size, 'seat')}; performance"
            f" {target.id} has {'only ' if free else ''}{plural(free, 'seat')} free",
            available=free,
        )


def move_reservation(
    session: Session, *, reference: str, to_performance_id: int, now: datetime | None = None
) -> MovedBooking:
    """Move a confirmed booking to performance `to_performance_id`, keeping its reference.

    Under both performance locks (ascending id), then the booking's row: judged on the rows as
    they are once every lock is held, since a confirmation may have taken the target's last
    seats, or the visitor cancelled, while we waited. A refusal writes nothing.
    """
    now = now or times.now_utc()
    with db.write(session):
        reservation, locked = lock_booking(session, reference=reference, also=[to_performance_id])
        target = locked.get(to_performance_id)
        if target is None:
            raise errors.NotFound(f"no performance with id {to_performance_id}")
        source = locked[reservation.performance_id]
        free = capacity.seat_counts(session, performance=target).available_seats
        refuse_move(
            reservation,
            source,
            target,
            free,
            now,
            checked_in=is_checked_in(session, reservation),
        )
        mails.revoke_tokens(session, reservation, (TokenPurpose.CHECK_IN, TokenPurpose.CANCEL), now)
        reservation.performance_id = to_performance_id
        reservation.updated_at = now
        # A reminder sent for the old date says nothing of the new one: the new date gets its own.
        reservation.reminder_queued_at = None
        session.flush()
        summary = reports.performance_summary(session, performance_id=to_performance_id)
        ticket_token = mails.queue_ticket_mail(session, reservation, summary, moved=True)
        session.flush()
        return MovedBooking(
            reservation=reservation, from_performance_id=source.id or 0, ticket_token=ticket_token
        )
