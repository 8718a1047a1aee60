"""What a visitor's emailed link points at, read without changing anything.

The confirm and cancel pages show the booking before the visitor presses the button: a mail
scanner that follows the link must not confirm, cancel nor expire anything. The refusals are the
ones the POST would give (`rules`), judged here without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from azctl import errors
from azctl.models import CheckIn, Reservation, ReservationStatus, ReservationToken, TokenPurpose
from azctl.services import reports, times
from azctl.services.booking import rules
from azctl.services.booking.locking import token_params, token_row
from azctl.services.reservations import get_reservation


@dataclass(frozen=True)
class LinkedBooking:
    """The booking a visitor's emailed link points at."""

    reservation: Reservation
    summary: reports.PerformanceSummary
    link_expires_at: datetime


def is_checked_in(session: Session, reservation: Reservation) -> bool:
    checked_in = session.exec(select(CheckIn.id).where(CheckIn.reservation_id == reservation.id))
    return checked_in.first() is not None


def _linked(
    session: Session, token: str, purpose: TokenPurpose
) -> tuple[ReservationToken, LinkedBooking]:
    row, reservation = token_row(session, token_params(token, purpose))
    rules.refuse_revoked(row)
    summary = reports.performance_summary(session, performance_id=reservation.performance_id)
    return row, LinkedBooking(
        reservation=reservation, summary=summary, link_expires_at=row.expires_at
    )


def confirmation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedBooking:
    """What the confirm page shows before the visitor presses Confirm."""
    now = now or times.now_utc()
    confirm_token, linked = _linked(session, token, TokenPurpose.CONFIRMATION)
    summary = linked.summary
    rules.refuse_to_confirm(
        confirm_token, linked.reservation, summary.performance, summary.seats.available_seats, now
    )
    return linked


def confirmed_by_link(session: Session, *, token: str) -> LinkedBooking | None:
    """The booking a spent confirm link was made for, if it is confirmed now; else None (no such
    link, one a newer mail replaced, or a booking that ended otherwise). For a page that tells a
    visitor what became of their link, never to act on it."""
    try:
        _confirm_token, linked = _linked(session, token, TokenPurpose.CONFIRMATION)
    except errors.InvalidToken:
        return None
    return linked if linked.reservation.status == ReservationStatus.CONFIRMED else None


def cancellation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedBooking:
    """What the cancel page shows before the visitor presses Cancel."""
    now = now or times.now_utc()
    cancel_token, linked = _linked(session, token, TokenPurpose.CANCEL)
    rules.refuse_uncancellable(cancel_token, linked.reservation, now)
    rules.refuse_checked_in(
        linked.reservation, checked_in=is_checked_in(session, linked.reservation)
    )
    return linked


def ticket(session: Session, *, token: str) -> LinkedBooking:
    """The booking behind a ticket link; viewing a ticket does not use its token."""
    _check_in_token, linked = _linked(session, token, TokenPurpose.CHECK_IN)
    rules.refuse_void_ticket(linked.reservation, linked.summary.performance)
    return linked


def ticket_cancellation_preview(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedBooking:
    """What the ticket's cancel page shows before the visitor presses Cancel."""
    now = now or times.now_utc()
    _check_in_token, linked = _linked(session, token, TokenPurpose.CHECK_IN)
    reservation = linked.reservation
    rules.refuse_ticket_cancel(
        reservation,
        linked.summary.performance,
        now,
        checked_in=is_checked_in(session, reservation),
    )
    return linked


def requested(session: Session, *, reference: str) -> LinkedBooking:
    """A booking just asked for, for the page that tells its visitor to look for the mail:
    `link_expires_at` is when its confirmation link runs out."""
    reservation = get_reservation(session, reference=reference)
    summary = reports.performance_summary(session, performance_id=reservation.performance_id)
    expires_at = reservation.expires_at or summary.performance.starts_at
    return LinkedBooking(reservation=reservation, summary=summary, link_expires_at=expires_at)
