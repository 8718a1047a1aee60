"""The waiting list's mails and the tokens they carry: joined (with the leave link) and offer.

Written in the entry's language, as a booking's mails are in the booking's. Raw tokens appear
only in the queued mail (blanked once it is delivered) and in the visitor's URL.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from azctl.models import WaitlistEntry, WaitlistToken, WaitlistTokenPurpose
from azctl.services import outbox, reports, times, tokens
from azctl.services.booking import mails
from azctl.services.i18n import N_

SUBJECTS = {
    "waitlist_joined": N_("On the waiting list %(reference)s: %(show)s"),
    "waitlist_offer": N_("Seats for you: %(show)s, %(day)s"),
}


def issue_token(
    session: Session, entry: WaitlistEntry, purpose: WaitlistTokenPurpose, expires_at: datetime
) -> str:
    raw = tokens.new_token()
    assert entry.id is not None
    session.add(
        WaitlistToken(
            entry_id=entry.id,
            purpose=purpose,
            token_hash=tokens.hash_token(raw),
            expires_at=expires_at,
        )
    )
    return raw


def queue_joined_mail(
    session: Session, entry: WaitlistEntry, summary: reports.PerformanceSummary, position: int
) -> str:
    """A leave token (valid until the start) and the mail that carries it; returns the token."""
    leave_token = issue_token(
        session, entry, WaitlistTokenPurpose.LEAVE, summary.performance.starts_at
    )
    outbox.queue_message(
        session,
        kind="waitlist_joined",
        to_address=entry.email,
        subject=mails.subject(entry, summary, SUBJECTS["waitlist_joined"]),
        context={
            **mails.mail_context(entry, summary),
            "position": position,
            "leave_token": leave_token,
        },
        waitlist_entry_id=entry.id,
    )
    return leave_token


def queue_offer_mail(
    session: Session, entry: WaitlistEntry, summary: reports.PerformanceSummary, until: datetime
) -> str:
    """An offer token (valid until `until`) and the offer mail; returns the token. A fresh
    leave link goes with it, since raw tokens are never stored."""
    offer_token = issue_token(session, entry, WaitlistTokenPurpose.OFFER, until)
    leave_token = issue_token(
        session, entry, WaitlistTokenPurpose.LEAVE, summary.performance.starts_at
    )
    outbox.queue_message(
        session,
        kind="waitlist_offer",
        to_address=entry.email,
        subject=mails.subject(entry, summary, SUBJECTS["waitlist_offer"]),
        context={
            **mails.mail_context(entry, summary),
            "offer_until_at": times.iso_local(until),
            "offer_until": times.short_local(until),
            "offer_token": offer_token,
            "leave_token": leave_token,
        },
        waitlist_entry_id=entry.id,
    )
    return offer_token
