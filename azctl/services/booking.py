"""A visitor's booking from request to confirmed seat, and every way it ends.

Confirmation is the anti-overbooking rule: under the performance lock it recounts confirmed seats
and confirms only if the party fits, all in one transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import (
    CheckIn,
    Performance,
    Reservation,
    ReservationStatus,
    ReservationToken,
    TokenPurpose,
)
from azctl.services import capacity, catalog, outbox, reports, tickets, times, tokens, validation
from azctl.services.reservations import REFERENCE_PREFIX, get_reservation
from azctl.settings import get_settings


@dataclass(frozen=True)
class SubmittedBooking:
    """A new pending reservation; the raw tokens are for the email only."""

    reservation: Reservation
    confirm_token: str
    cancel_token: str


@dataclass(frozen=True)
class ConfirmedBooking:
    reservation: Reservation
    summary: reports.PerformanceSummary  # as read before confirming: its seats exclude this one
    ticket_token: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reservation.reference,
            "status": self.reservation.status,
            "party_size": self.reservation.party_size,
            "performance": {
                "id": self.summary.performance.id,
                "show": self.summary.show.title,
                "venue": self.summary.venue.name,
                "starts_at": times.iso_local(self.summary.performance.starts_at),
            },
            "ticket_url": tickets.ticket_url(self.ticket_token),
        }


def new_reference() -> str:
    """A short, unguessable-enough handle for phone support: `AZ-7KQ4M2`. Not a secret."""
    return REFERENCE_PREFIX + "".join(secrets.choice(tokens.ALPHABET) for _ in range(6))


def _unused_reference(session: Session) -> str:
    while True:
        reference = new_reference()
        taken = session.exec(select(Reservation.id).where(Reservation.reference == reference))
        if taken.first() is None:
            return reference


def _issue_token(
    session: Session, reservation: Reservation, purpose: TokenPurpose, expires_at: datetime
) -> str:
    raw = tokens.new_token()
    assert reservation.id is not None
    session.add(
        ReservationToken(
            reservation_id=reservation.id,
            purpose=purpose,
            token_hash=tokens.hash_token(raw),
            expires_at=expires_at,
        )
    )
    return raw


def _revoke_tokens(
    session: Session, reservation: Reservation, purposes: tuple[TokenPurpose, ...], now: datetime
) -> None:
    for token in session.exec(
        select(ReservationToken).where(
            ReservationToken.reservation_id == reservation.id,
            col(ReservationToken.purpose).in_(purposes),
            col(ReservationToken.revoked_at).is_(None),
        )
    ):
        token.revoked_at = now


def _mail_context(reservation: Reservation, summary: reports.PerformanceSummary) -> dict[str, Any]:
    """What every mail about a booking shows; no raw token yet (callers add theirs)."""
    return {
        "reference": reservation.reference,
        "name": reservation.name,
        "party_size": reservation.party_size,
        "show_title": summary.show.title,
        "venue_name": summary.venue.name,
        "venue_address": catalog.venue_line(summary.venue),
        "starts_at": times.iso_local(summary.performance.starts_at),
        "when": times.short_local(summary.performance.starts_at),
    }


def _queue_confirmation_mail(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    now: datetime,
) -> tuple[str, str]:
    """New confirmation and cancel tokens, and the mail that carries them."""
    settings = get_settings()
    confirm_by = min(now + settings.confirm_ttl, summary.performance.starts_at)
    reservation.expires_at = confirm_by
    confirm_token = _issue_token(session, reservation, TokenPurpose.CONFIRMATION, confirm_by)
    cancel_token = _issue_token(
        session, reservation, TokenPurpose.CANCEL, summary.performance.starts_at
    )
    outbox.queue_message(
        session,
        kind="confirmation",
        to_address=reservation.email,
        subject=f"Please confirm your booking {reservation.reference}: {summary.show.title}",
        context={
            **_mail_context(reservation, summary),
            "confirm_by": times.short_local(confirm_by),
            "confirm_token": confirm_token,
            "cancel_token": cancel_token,
        },
        reservation_id=reservation.id,
    )
    return confirm_token, cancel_token


def _queue_ticket_mail(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary
) -> str:
    """A new check-in token, valid until the door closes, and the ticket mail that carries it."""
    _opens, closes = reports.checkin_window(summary.performance)
    ticket_token = _issue_token(session, reservation, TokenPurpose.CHECK_IN, closes)
    outbox.queue_message(
        session,
        kind="ticket",
        to_address=reservation.email,
        subject=f"Your ticket {reservation.reference}: {summary.show.title}",
        context={**_mail_context(reservation, summary), "ticket_token": ticket_token},
        reservation_id=reservation.id,
    )
    return ticket_token


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


def _refuse_closed(performance: Performance, now: datetime) -> None:
    state = booking_state(performance, now)
    if state != "open":
        raise errors.BookingClosed(_CLOSED_BECAUSE[state])


def submit_booking(
    session: Session,
    *,
    performance_id: int,
    name: str,
    email: str,
    party_size: int,
    phone: str | None = None,
    notes: str | None = None,
    now: datetime | None = None,
) -> SubmittedBooking:
    """A visitor asks for seats: a pending reservation, its tokens and the mail, or a refusal.

    Seats are checked here only to turn visitors away early; they are held at confirmation.
    """
    now = now or times.now_utc()
    name = validation.required_text("name", name, max_length=200)
    email = validation.email(email)
    phone = validation.optional_text("phone", phone, max_length=40)
    notes = validation.optional_text("notes", notes, max_length=1000)
    validation.count("party_size", party_size, minimum=1, maximum=get_settings().max_party_size)
    with db.write(session):
        summary = public_performance(session, performance_id=performance_id)
        _refuse_closed(summary.performance, now)
        free = summary.seats.available_seats
        if party_size > free:
            raise errors.NotEnoughSeats(
                f"only {free} seats are free" if free else "no seats are free", available=free
            )
        reservation = Reservation(
            performance_id=performance_id,
            reference=_unused_reference(session),
            name=name,
            email=email,
            phone=phone,
            party_size=party_size,
            notes=notes,
        )
        session.add(reservation)
        session.flush()
        confirm_token, cancel_token = _queue_confirmation_mail(session, reservation, summary, now)
        return SubmittedBooking(
            reservation=reservation, confirm_token=confirm_token, cancel_token=cancel_token
        )


def public_performance(session: Session, *, performance_id: int) -> reports.PerformanceSummary:
    """A performance a visitor may see: its show is published."""
    summary = reports.performance_summary(session, performance_id=performance_id)
    if not summary.show.is_published:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return summary


# Built once, with the token as a parameter: a rush runs these thousands of times, and building
# a statement costs Python more than the database takes to answer it.
_BY_TOKEN = (
    ReservationToken.token_hash == sa.bindparam("token_hash"),
    ReservationToken.purpose == sa.bindparam("purpose"),
)
_TOKEN_ROW = (
    select(ReservationToken, Reservation)
    .join(Reservation, Reservation.id == ReservationToken.reservation_id)  # type: ignore[arg-type]
    .where(*_BY_TOKEN)
    .execution_options(populate_existing=True)
)
_LOCKED_TOKEN_ROW = _TOKEN_ROW.with_for_update()
# The same, with the performance's confirmed seats recounted in the same statement.
_CONFIRMING = _LOCKED_TOKEN_ROW.add_columns(capacity.confirmed_seats_of(Reservation.performance_id))
# The booking, its performance and the seats confirmed so far, in one statement without a lock.
_SEAT_CHECK = _TOKEN_ROW.add_columns(
    Performance, capacity.confirmed_seats_of(Reservation.performance_id)
).join(Performance, Performance.id == Reservation.performance_id)  # type: ignore[arg-type]
_PERFORMANCE_OF_TOKEN = (
    select(Reservation.performance_id)
    .join(ReservationToken, ReservationToken.reservation_id == Reservation.id)  # type: ignore[arg-type]
    .where(*_BY_TOKEN)
    .scalar_subquery()
)


def _token_params(raw: str, purpose: TokenPurpose) -> dict[str, str]:
    """The parameters that find a typed or scanned token's row, or `invalid_token`."""
    canonical = tokens.parse_scanned(raw)
    if canonical is None:
        raise errors.InvalidToken("this link is not valid")
    return {"token_hash": tokens.hash_token(canonical), "purpose": purpose}


def _refuse_revoked(token: ReservationToken) -> None:
    if token.revoked_at is not None:
        raise errors.InvalidToken("this link was replaced by a newer one; use the latest email")


def _token_row(
    session: Session, params: dict[str, str], *, lock: bool = False
) -> tuple[ReservationToken, Reservation]:
    statement = _LOCKED_TOKEN_ROW if lock else _TOKEN_ROW
    row = session.exec(statement, params=params).first()  # type: ignore[call-overload]
    if row is None:
        raise errors.InvalidToken("this link is not valid")
    token, reservation = row
    _refuse_revoked(token)
    return token, reservation


def _lock_performance_of_token(session: Session, params: dict[str, str]) -> Performance:
    """Find and lock, in one statement, the performance a token's booking is for: the lock to
    hold before reading the booking itself."""
    performance = db.lock_performance_where(
        session, Performance.id == _PERFORMANCE_OF_TOKEN, params=params
    )
    if performance is None:
        raise errors.InvalidToken("this link is not valid")
    return performance


def _refuse_unconfirmable(
    confirm_token: ReservationToken, reservation: Reservation, now: datetime
) -> None:
    if confirm_token.used_at is not None or reservation.status == ReservationStatus.CONFIRMED:
        raise errors.TokenUsed("this booking is already confirmed")
    if reservation.status == ReservationStatus.CANCELLED:
        raise errors.TokenUsed("this booking was cancelled")
    if reservation.status == ReservationStatus.EXPIRED or confirm_token.expires_at <= now:
        raise errors.TokenExpired("this booking has expired: please book again")


def _refuse_to_confirm(
    confirm_token: ReservationToken,
    reservation: Reservation,
    performance: Performance,
    free: int,
    now: datetime,
) -> None:
    """Every reason a confirmation is refused, in the order a visitor is told them."""
    _refuse_revoked(confirm_token)
    _refuse_unconfirmable(confirm_token, reservation, now)
    _refuse_closed(performance, now)
    _refuse_sold_out(reservation, free)


def _refuse_sold_out(reservation: Reservation, free: int) -> None:
    if reservation.party_size > free:
        raise errors.SoldOut(
            f"sorry, only {free} seats are left for {reservation.party_size};"
            " the booking stays pending until it expires",
            available=free,
        )


@dataclass(frozen=True)
class LinkedBooking:
    """The booking a visitor's emailed link points at, read without changing anything."""

    reservation: Reservation
    summary: reports.PerformanceSummary
    link_expires_at: datetime


def _linked(
    session: Session, token: str, purpose: TokenPurpose
) -> tuple[ReservationToken, LinkedBooking]:
    row, reservation = _token_row(session, _token_params(token, purpose))
    summary = reports.performance_summary(session, performance_id=reservation.performance_id)
    return row, LinkedBooking(
        reservation=reservation, summary=summary, link_expires_at=row.expires_at
    )


def confirmation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedBooking:
    """What the confirm page shows before the visitor presses Confirm.

    The same refusals `confirm_booking` would give, read without a lock and without writing: a
    mail scanner that follows the link must not confirm, nor expire, anything.
    """
    now = now or times.now_utc()
    confirm_token, linked = _linked(session, token, TokenPurpose.CONFIRMATION)
    summary = linked.summary
    _refuse_to_confirm(
        confirm_token, linked.reservation, summary.performance, summary.seats.available_seats, now
    )
    return linked


def cancellation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedBooking:
    """What the cancel page shows before the visitor presses Cancel; changes nothing."""
    now = now or times.now_utc()
    cancel_token, linked = _linked(session, token, TokenPurpose.CANCEL)
    _refuse_uncancellable(cancel_token, linked.reservation, now)
    _refuse_checked_in(session, linked.reservation)
    return linked


def ticket(session: Session, *, token: str) -> LinkedBooking:
    """The booking behind a ticket link; viewing a ticket does not use its token."""
    _check_in_token, linked = _linked(session, token, TokenPurpose.CHECK_IN)
    if linked.reservation.status == ReservationStatus.CANCELLED:
        raise errors.InvalidState("this booking was cancelled; the ticket is no longer valid")
    if linked.summary.performance.cancelled_at is not None:
        raise errors.InvalidState("this performance was cancelled; the ticket is no longer valid")
    return linked


def confirm_booking(
    session: Session, *, token: str, now: datetime | None = None
) -> ConfirmedBooking:
    """Confirm a pending reservation by its emailed token, if the party still fits.

    In one transaction: lock the performance row, recount the confirmed seats, and confirm only
    if the party fits, with the token spent, the check-in token issued and the ticket mail queued.
    Not enough seats: nothing changes and the reservation stays pending (`sold_out`).

    In a rush every confirmation of a performance queues on that lock, so as little as possible
    happens while holding it. The booking is judged first without the lock: a refusal writes
    nothing, so one that is certain already (a spent link, a full house) ends there without
    queueing. The ticket and its mail are then written, still before the lock: new rows that
    no one else sees until commit, and that a rollback takes away. Under the lock remain the
    recount, the checks again (things may have changed meanwhile) and two updates.
    """
    now = now or times.now_utc()
    params = _token_params(token, TokenPurpose.CONFIRMATION)
    with db.write(session):
        row = session.exec(_SEAT_CHECK, params=params).first()  # type: ignore[call-overload]
        if row is None:
            raise errors.InvalidToken("this link is not valid")
        confirm_token, reservation, performance, confirmed_seats = row
        free = capacity.available_seats(performance, confirmed_seats=int(confirmed_seats))
        try:
            _refuse_to_confirm(confirm_token, reservation, performance, free, now)
        except errors.TokenExpired:
            _record_expiry(session, params, now)
            raise
        summary = reports.performance_summary(session, performance_id=reservation.performance_id)
        ticket_token = _queue_ticket_mail(session, reservation, summary)
        session.flush()

        performance = _lock_performance_of_token(session, params)
        row = session.exec(_CONFIRMING, params=params).one()  # type: ignore[call-overload]
        confirm_token, reservation, confirmed_seats = row
        free = capacity.available_seats(performance, confirmed_seats=int(confirmed_seats))
        _refuse_to_confirm(confirm_token, reservation, performance, free, now)
        confirm_token.used_at = now
        reservation.status = ReservationStatus.CONFIRMED
        reservation.confirmed_at = now
        reservation.qr_code_generated_at = now
        reservation.updated_at = now
        session.flush()
        return ConfirmedBooking(reservation=reservation, summary=summary, ticket_token=ticket_token)


def _record_expiry(session: Session, params: dict[str, str], now: datetime) -> None:
    """Mark a pending booking whose link has run out as expired, under the performance lock (as
    every change of a booking's state is), and commit that before the refusal is raised."""
    _lock_performance_of_token(session, params)
    _token, reservation = _token_row(session, params, lock=True)
    _expire(reservation, now)
    session.commit()


def _expire(reservation: Reservation, now: datetime) -> None:
    if reservation.status == ReservationStatus.PENDING:
        reservation.status = ReservationStatus.EXPIRED
        reservation.updated_at = now


def _cancel(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary, now: datetime
) -> None:
    if reservation.status not in (ReservationStatus.PENDING, ReservationStatus.CONFIRMED):
        raise errors.InvalidState(f"{reservation.reference} is already {reservation.status}")
    _refuse_checked_in(session, reservation)
    _mark_cancelled(
        session,
        reservation,
        summary,
        now,
        kind="cancelled",
        subject=f"Booking {reservation.reference} cancelled: {summary.show.title}",
    )


def _refuse_checked_in(session: Session, reservation: Reservation) -> None:
    checked_in = session.exec(select(CheckIn.id).where(CheckIn.reservation_id == reservation.id))
    if checked_in.first() is not None:
        raise errors.InvalidState(f"{reservation.reference} has already checked in")


def _mark_cancelled(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    now: datetime,
    *,
    kind: str,
    subject: str,
) -> None:
    """Cancel and tell the visitor.

    The tokens are left as they are, so a link or ticket used later is answered for what it is
    (`token_used`, `not_confirmed`), not as if it had never existed.
    """
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.updated_at = now
    outbox.queue_message(
        session,
        kind=kind,
        to_address=reservation.email,
        subject=subject,
        context=_mail_context(reservation, summary),
        reservation_id=reservation.id,
    )


def _refuse_uncancellable(
    cancel_token: ReservationToken, reservation: Reservation, now: datetime
) -> None:
    if cancel_token.used_at is not None or reservation.status == ReservationStatus.CANCELLED:
        raise errors.TokenUsed("this booking is already cancelled")
    if cancel_token.expires_at <= now:
        raise errors.TokenExpired("the performance has started; it can no longer be cancelled")
    if reservation.status == ReservationStatus.EXPIRED:
        raise errors.TokenExpired("this booking had already expired")


def cancel_by_token(session: Session, *, token: str, now: datetime | None = None) -> Reservation:
    """A visitor cancels with the link from their email; confirmed seats are freed."""
    now = now or times.now_utc()
    params = _token_params(token, TokenPurpose.CANCEL)
    with db.write(session):
        performance = _lock_performance_of_token(session, params)
        cancel_token, reservation = _token_row(session, params, lock=True)
        _refuse_uncancellable(cancel_token, reservation, now)
        summary = reports.performance_summary(session, performance_id=performance.id or 0)
        _cancel(session, reservation, summary, now)
        cancel_token.used_at = now
        return reservation


def cancel_reservation(
    session: Session, *, reference: str, now: datetime | None = None
) -> Reservation:
    """Staff cancel a booking (the visitor is told by mail); confirmed seats are freed."""
    now = now or times.now_utc()
    with db.write(session):
        performance_id = get_reservation(session, reference=reference).performance_id
        db.lock_performance(session, performance_id)
        reservation = get_reservation(session, reference=reference, lock=True)
        summary = reports.performance_summary(session, performance_id=performance_id)
        _cancel(session, reservation, summary, now)
        return reservation


def resend(session: Session, *, reference: str, now: datetime | None = None) -> Reservation:
    """Mail the visitor fresh links, revoking the old ones (raw tokens are never stored).

    Pending: a new confirmation link (and a new deadline); confirmed: a new ticket.
    """
    now = now or times.now_utc()
    with db.write(session):
        performance_id = get_reservation(session, reference=reference).performance_id
        db.lock_performance(session, performance_id)
        reservation = get_reservation(session, reference=reference, lock=True)
        summary = reports.performance_summary(session, performance_id=performance_id)
        if summary.performance.starts_at <= now or summary.performance.cancelled_at is not None:
            raise errors.InvalidState(
                f"{reservation.reference}: the performance has started or is cancelled"
            )
        if reservation.status == ReservationStatus.PENDING:
            _revoke_tokens(
                session, reservation, (TokenPurpose.CONFIRMATION, TokenPurpose.CANCEL), now
            )
            _queue_confirmation_mail(session, reservation, summary, now)
        elif reservation.status == ReservationStatus.CONFIRMED:
            _revoke_tokens(session, reservation, (TokenPurpose.CHECK_IN,), now)
            _queue_ticket_mail(session, reservation, summary)
        else:
            raise errors.InvalidState(
                f"{reservation.reference} is {reservation.status}: nothing to resend"
            )
        reservation.updated_at = now
        return reservation


def expire_pending(session: Session, *, now: datetime | None = None) -> int:
    """Mark pending reservations whose confirmation link has lapsed as expired; returns how many."""
    now = now or times.now_utc()
    # One UPDATE whose WHERE is checked row by row under the row lock, so a confirmation
    # committing at the same moment is never overwritten.
    statement = (
        sa.update(Reservation)
        .where(
            col(Reservation.status) == ReservationStatus.PENDING,
            col(Reservation.expires_at) <= now,
        )
        .values(status=ReservationStatus.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    with db.write(session):
        return session.exec(statement).rowcount


def cancel_performance(
    session: Session, *, performance_id: int, now: datetime | None = None
) -> int:
    """Cancel a performance and every open booking of it, telling each visitor; returns how many."""
    now = now or times.now_utc()
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        if performance.cancelled_at is not None:
            raise errors.InvalidState(f"performance {performance_id} is already cancelled")
        summary = reports.performance_summary(session, performance_id=performance_id)
        open_bookings = list(
            session.exec(
                select(Reservation).where(
                    Reservation.performance_id == performance_id,
                    col(Reservation.status).in_(
                        (ReservationStatus.PENDING, ReservationStatus.CONFIRMED)
                    ),
                )
            )
        )
        for reservation in open_bookings:
            _mark_cancelled(
                session,
                reservation,
                summary,
                now,
                kind="performance_cancelled",
                subject=f"Cancelled: {summary.label}",
            )
        performance.cancelled_at = now
        performance.is_booking_enabled = False
        performance.updated_at = now
        return len(open_bookings)
