"""The mails a booking sends, and the tokens they carry.

Each function writes rows that reference the reservation (tokens, outbox), so it runs only with
the booking's locks held (`locking`). Raw tokens live only in the queued mail's context until it
is delivered; the database keeps their HMAC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from azctl.models import Reservation, ReservationToken, TokenPurpose
from azctl.services import catalog, outbox, reports, times, tokens
from azctl.settings import get_settings


def issue_token(
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


def revoke_tokens(
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


def mail_context(reservation: Reservation, summary: reports.PerformanceSummary) -> dict[str, Any]:
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


def queue_confirmation_mail(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    now: datetime,
) -> tuple[str, str]:
    """New confirmation and cancel tokens, and the mail that carries them."""
    settings = get_settings()
    confirm_by = min(now + settings.confirm_ttl, summary.performance.starts_at)
    reservation.expires_at = confirm_by
    confirm_token = issue_token(session, reservation, TokenPurpose.CONFIRMATION, confirm_by)
    cancel_token = issue_token(
        session, reservation, TokenPurpose.CANCEL, summary.performance.starts_at
    )
    outbox.queue_message(
        session,
        kind="confirmation",
        to_address=reservation.email,
        subject=f"Please confirm your booking {reservation.reference}: {summary.show.title}",
        context={
            **mail_context(reservation, summary),
            "confirm_by": times.short_local(confirm_by),
            "confirm_token": confirm_token,
            "cancel_token": cancel_token,
        },
        reservation_id=reservation.id,
    )
    return confirm_token, cancel_token


def queue_ticket_mail(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary
) -> str:
    """A new check-in token, valid until the door closes, and the ticket mail that carries it.

    The mail carries a cancel link too ("can't come?"): a new cancel token, since raw tokens are
    never stored; the one in the confirmation mail stays valid beside it.
    """
    performance = summary.performance
    _opens, closes = reports.checkin_window(performance)
    ticket_token = issue_token(session, reservation, TokenPurpose.CHECK_IN, closes)
    cancel_token = issue_token(session, reservation, TokenPurpose.CANCEL, performance.starts_at)
    outbox.queue_message(
        session,
        kind="ticket",
        to_address=reservation.email,
        subject=f"Your ticket {reservation.reference}: {summary.show.title}",
        context={
            **mail_context(reservation, summary),
            "ticket_token": ticket_token,
            "cancel_token": cancel_token,
        },
        reservation_id=reservation.id,
    )
    return ticket_token


def queue_notice(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    *,
    kind: str,
    subject: str,
) -> None:
    """A mail that tells of a change (a cancellation) and carries no link."""
    outbox.queue_message(
        session,
        kind=kind,
        to_address=reservation.email,
        subject=subject,
        context=mail_context(reservation, summary),
        reservation_id=reservation.id,
    )
