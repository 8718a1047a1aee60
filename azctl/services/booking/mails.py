"""The mails a booking sends, and the tokens they carry.

Each function writes rows that reference the reservation (tokens, outbox), so it runs only with
the booking's locks held (`locking`). Raw tokens live only in the queued mail's context until it
is delivered; the database keeps their HMAC.

Every mail is written in the booking's language (`Reservation.language`, else the theatre's
default): the subject is translated here, since the outbox row stores it; the body is rendered
at send time (services/mail.py) from the context, which names the language and holds times as
ISO values, so the dates are written by Babel the way that language writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from azctl.models import Reservation, ReservationToken, TokenPurpose
from azctl.services import catalog, i18n, outbox, reports, tickets, times, tokens
from azctl.services.i18n import N_
from azctl.settings import get_settings

# The subjects of the mails that tell of a change, by kind; translated in the booking's language.
NOTICE_SUBJECTS = {
    "cancelled": N_("Booking %(reference)s cancelled: %(show)s"),
    "performance_cancelled": N_("Cancelled: %(show)s, %(day)s"),
}


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


class Party(Protocol):
    """Who a mail is about: a booking, or a party on a waiting list; both have these."""

    reference: str
    name: str
    party_size: int
    language: str | None


def mail_language(party: Party) -> str:
    """The language of every mail of this booking (or waiting party): its own, if the theatre
    still offers it."""
    return i18n.for_reservation(party.language)


def subject(party: Party, summary: reports.PerformanceSummary, message: str) -> str:
    """A subject in the party's language; `message` may name the reference, show and day."""
    language = mail_language(party)
    return i18n.gettext(language)(message) % {
        "reference": party.reference,
        "show": summary.show.title,
        "day": i18n.format_day(summary.performance.starts_at, language),
    }


def mail_context(party: Party, summary: reports.PerformanceSummary) -> dict[str, Any]:
    """What every mail about a booking (or a waiting party) shows; no raw token yet (callers
    add theirs).

    `starts_at` is ISO local time, written out at send time in `language`. `when` (and a
    confirmation's `confirm_by`) keep the short form an older sender shows as it is, so a row
    queued during an upgrade renders on either version.
    """
    return {
        "language": mail_language(party),
        "reference": party.reference,
        "name": party.name,
        "party_size": party.party_size,
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
        subject=subject(
            reservation, summary, N_("Please confirm your booking %(reference)s: %(show)s")
        ),
        context={
            **mail_context(reservation, summary),
            "confirm_by": times.short_local(confirm_by),
            "confirm_by_at": times.iso_local(confirm_by),
            "confirm_token": confirm_token,
            "cancel_token": cancel_token,
        },
        reservation_id=reservation.id,
    )
    return confirm_token, cancel_token


def queue_ticket_mail(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    *,
    moved: bool = False,
) -> str:
    """A new check-in token, valid until the door closes, and the ticket mail that carries it.

    The mail carries a cancel link too ("can't come?"): a new cancel token, since raw tokens are
    never stored; the one in the confirmation mail stays valid beside it. `moved`: the booking
    was moved to this performance (an exchange), and the mail says so.
    """
    performance = summary.performance
    _opens, closes = reports.checkin_window(performance)
    ticket_token = issue_token(session, reservation, TokenPurpose.CHECK_IN, closes)
    cancel_token = issue_token(session, reservation, TokenPurpose.CANCEL, performance.starts_at)
    outbox.queue_message(
        session,
        kind="ticket",
        to_address=reservation.email,
        subject=subject(
            reservation,
            summary,
            N_("Your booking %(reference)s was moved: %(show)s, %(day)s")
            if moved
            else N_("Your ticket %(reference)s: %(show)s"),
        ),
        context={
            **mail_context(reservation, summary),
            "ticket_token": ticket_token,
            "cancel_token": cancel_token,
            "calendar_sequence": tickets.calendar_sequence(times.now_utc()),
            **({"moved": True} if moved else {}),
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
) -> None:
    """A mail that tells of a change (a cancellation, `NOTICE_SUBJECTS`) and carries no link."""
    outbox.queue_message(
        session,
        kind=kind,
        to_address=reservation.email,
        subject=subject(reservation, summary, NOTICE_SUBJECTS[kind]),
        context=mail_context(reservation, summary),
        reservation_id=reservation.id,
    )
