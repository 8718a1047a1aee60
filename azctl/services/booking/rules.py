"""Why a booking would be refused, as pure functions of the rows and `now`.

No session and no writes: the unlocked pre-check of a confirmation, its judgement again under the
performance lock, and the pages that preview a link all ask the same questions in the same order,
so a visitor is told one reason whichever path reached it.
"""

from __future__ import annotations

from datetime import datetime

from azctl import errors
from azctl.models import Performance, Reservation, ReservationStatus, ReservationToken
from azctl.services.words import plural

_CLOSED_BECAUSE = {
    "cancelled": "this performance has been cancelled",
    "started": "this performance has already started",
    "closed": "booking is closed for this performance",
}


def booking_state(performance: Performance, now: datetime) -> str:
    """`open`, or why a booking would be refused now: `cancelled`, `started` or `closed`."""
    if performance.cancelled_at is not None:
        return "cancelled"
    if performance.starts_at <= now:
        return "started"
    return "open" if performance.is_booking_enabled else "closed"


def refuse_closed(performance: Performance, now: datetime) -> None:
    state = booking_state(performance, now)
    if state != "open":
        raise errors.BookingClosed(_CLOSED_BECAUSE[state])


def refuse_not_enough_seats(party_size: int, free: int) -> None:
    """At booking time: turn a visitor away early (seats are held only at confirmation)."""
    if party_size > free:
        raise errors.NotEnoughSeats(
            f"only {plural(free, 'seat is', 'seats are')} free" if free else "no seats are free",
            available=free,
        )


def refuse_revoked(token: ReservationToken) -> None:
    if token.revoked_at is not None:
        raise errors.InvalidToken("this link was replaced by a newer one; use the latest email")


def refuse_unconfirmable(
    confirm_token: ReservationToken, reservation: Reservation, now: datetime
) -> None:
    if confirm_token.used_at is not None or reservation.status == ReservationStatus.CONFIRMED:
        raise errors.TokenUsed("this booking is already confirmed")
    if reservation.status == ReservationStatus.CANCELLED:
        raise errors.TokenUsed("this booking was cancelled")
    if reservation.status == ReservationStatus.EXPIRED or confirm_token.expires_at <= now:
        raise errors.TokenExpired("this booking has expired: please book again")


def refuse_sold_out(reservation: Reservation, free: int) -> None:
    if reservation.party_size > free:
        raise errors.SoldOut(
            f"sorry, only {plural(free, 'seat is', 'seats are')} left"
            f" for {reservation.party_size};"
            " the booking stays pending until it expires",
            available=free,
        )


def refuse_to_confirm(
    confirm_token: ReservationToken,
    reservation: Reservation,
    performance: Performance,
    free: int,
    now: datetime,
) -> None:
    """Every reason a confirmation is refused, in the order a visitor is told them."""
    refuse_revoked(confirm_token)
    refuse_unconfirmable(confirm_token, reservation, now)
    refuse_closed(performance, now)
    refuse_sold_out(reservation, free)


def refuse_uncancellable(
    cancel_token: ReservationToken, reservation: Reservation, now: datetime
) -> None:
    if cancel_token.used_at is not None or reservation.status == ReservationStatus.CANCELLED:
        raise errors.TokenUsed("this booking is already cancelled")
    if cancel_token.expires_at <= now:
        raise errors.TokenExpired("the performance has started; it can no longer be cancelled")
    if reservation.status == ReservationStatus.EXPIRED:
        raise errors.TokenExpired("this booking had already expired")


def refuse_cancel(reservation: Reservation, *, checked_in: bool) -> None:
    """Staff or visitor: only an open booking that has not come in can be cancelled."""
    if reservation.status not in (ReservationStatus.PENDING, ReservationStatus.CONFIRMED):
        raise errors.InvalidState(f"{reservation.reference} is already {reservation.status}")
    refuse_checked_in(reservation, checked_in=checked_in)


def refuse_checked_in(reservation: Reservation, *, checked_in: bool) -> None:
    if checked_in:
        raise errors.InvalidState(f"{reservation.reference} has already checked in")


def refuse_void_ticket(reservation: Reservation, performance: Performance) -> None:
    """A ticket stands for a booking that is still on, for a performance that is still on."""
    if reservation.status == ReservationStatus.CANCELLED:
        raise errors.InvalidState("this booking was cancelled; the ticket is no longer valid")
    if performance.cancelled_at is not None:
        raise errors.InvalidState("this performance was cancelled; the ticket is no longer valid")


def refuse_ticket_cancel(
    reservation: Reservation, performance: Performance, now: datetime, *, checked_in: bool
) -> None:
    """Why a visitor cannot cancel from their ticket: the ticket is void, the performance has
    started (as a cancel link, whose token expires at the start), or the booking is not open or
    has come in."""
    refuse_void_ticket(reservation, performance)
    if performance.starts_at <= now:
        raise errors.TokenExpired("the performance has started; it can no longer be cancelled")
    refuse_cancel(reservation, checked_in=checked_in)


def refuse_resend(reservation: Reservation, performance: Performance, now: datetime) -> None:
    if performance.starts_at <= now or performance.cancelled_at is not None:
        raise errors.InvalidState(
            f"{reservation.reference}: the performance has started or is cancelled"
        )
    if reservation.status not in (ReservationStatus.PENDING, ReservationStatus.CONFIRMED):
        raise errors.InvalidState(
            f"{reservation.reference} is {reservation.status}: nothing to resend"
        )
