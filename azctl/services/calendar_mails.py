"""The mails that hand a confirmed visitor their ticket again, with the performance's calendar
event: the reminder before the performance, and the notice that it has moved.

Each runs with the booking's locks held (performance, then reservation), since it writes tokens
and an outbox row that reference the reservation.

**The ticket link is a new check-in token beside the old one, never instead of it.** Raw tokens
are never stored, so a mail that shows the ticket needs a fresh token; but the visitor may have
printed the first ticket or kept the first mail, and a reminder is not a security event (as a
`res resend` for a lost or leaked mail is): revoking the old token would turn away at the door a
ticket that worked yesterday. So both stay valid, until the same moment (the door's close). The
same holds for the cancel link.

**The calendar event** keeps the UID of the ticket's (`{reference}@azctl`), so a calendar
updates the entry it has; its SEQUENCE is the time the file was made
(`tickets.calendar_sequence`), so a calendar takes a newer time over an older one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from azctl.models import Reservation, TokenPurpose
from azctl.services import outbox, reports, tickets, times
from azctl.services.booking import mails
from azctl.services.i18n import N_

REMINDER_SUBJECT = N_("See you soon: %(show)s, %(day)s")
MOVED_SUBJECT = N_("New date and time: %(show)s, %(day)s")


def _ticket_links(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary
) -> dict[str, Any]:
    """A new check-in token (until the door closes) and cancel token (until the start), beside
    the ones the visitor already holds."""
    performance = summary.performance
    _opens, closes = reports.checkin_window(performance)
    return {
        "ticket_token": mails.issue_token(session, reservation, TokenPurpose.CHECK_IN, closes),
        "cancel_token": mails.issue_token(
            session, reservation, TokenPurpose.CANCEL, performance.starts_at
        ),
        "calendar_sequence": tickets.calendar_sequence(times.now_utc()),
    }


def queue_reminder_mail(
    session: Session, reservation: Reservation, summary: reports.PerformanceSummary
) -> None:
    """The reminder: when and where, the ticket, a cancel link, the calendar event."""
    outbox.queue_message(
        session,
        kind="reminder",
        to_address=reservation.email,
        subject=mails.subject(reservation, summary, REMINDER_SUBJECT),
        context={
            **mails.mail_context(reservation, summary),
            **_ticket_links(session, reservation, summary),
        },
        reservation_id=reservation.id,
    )


def queue_moved_mail(
    session: Session,
    reservation: Reservation,
    summary: reports.PerformanceSummary,
    *,
    previous_start: datetime,
    confirmed: bool,
) -> None:
    """The performance has moved: the new time, and, to a confirmed visitor, their ticket, a
    cancel link and the updated calendar event. A pending booking is told that its confirm
    link (in the earlier mail, which we cannot repeat) still works."""
    context: dict[str, Any] = {
        **mails.mail_context(reservation, summary),
        "previous_starts_at": times.iso_local(previous_start),
        "confirmed": confirmed,
    }
    if confirmed:
        context.update(_ticket_links(session, reservation, summary))
    outbox.queue_message(
        session,
        kind="performance_moved",
        to_address=reservation.email,
        subject=mails.subject(reservation, summary, MOVED_SUBJECT),
        context=context,
        reservation_id=reservation.id,
    )
