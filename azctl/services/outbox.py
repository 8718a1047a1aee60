"""The transactional outbox: mail is queued with the change it tells of, and sent afterwards.

A sender claims due messages in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several senders share the queue without sending a message twice), delivers them outside any
transaction, then records the outcome. A failed delivery is retried with backoff; a sender that
dies mid-delivery leaves a lease that runs out, and the message goes out again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import OutboxMessage, OutboxStatus
from azctl.services import times, validation

MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=5)
# Context keys that hold raw tokens; they are blanked once the message is delivered.
SECRET_KEYS = ("confirm_token", "cancel_token", "ticket_token")


class Transport(Protocol):
    def deliver(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SendReport:
    """What one round of sending did; `error` says why a round could not run at all."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    error: str | None = None

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            error=other.error or self.error,
        )


def queue_message(
    session: Session,
    *,
    kind: str,
    to_address: str,
    subject: str,
    context: dict[str, Any],
    reservation_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the caller's open transaction; it commits or rolls back with it."""
    message = OutboxMessage(
        kind=kind,
        to_address=to_address,
        subject=subject,
        context=context,
        reservation_id=reservation_id,
    )
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … doubling up to an hour between tries."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def claim_due(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender, leased for `LEASE`."""
    due = sa.or_(
        sa.and_(
            OutboxMessage.status == OutboxStatus.QUEUED,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        sa.and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_until) < now,
        ),
    )
    with db.write(session):
        messages = list(
            session.exec(
                select(OutboxMessage)
                .where(due)
                .order_by(col(OutboxMessage.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )
        for message in messages:
            message.status = OutboxStatus.SENDING
            message.claimed_until = now + LEASE
        return messages


def _record(session: Session, message_id: int, change: Callable[[OutboxMessage], None]) -> None:
    with db.write(session):
        message = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        change(message)


def mark_sent(session: Session, *, message_id: int, now: datetime) -> None:
    """Record delivery and blank the raw tokens, which from now on live only in the mailbox."""

    def sent(message: OutboxMessage) -> None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.claimed_until = None
        message.attempts += 1
        message.context = {
            key: (None if key in SECRET_KEYS else value) for key, value in message.context.items()
        }

    _record(session, message_id, sent)


def mark_failed(session: Session, *, message_id: int, error: str, now: datetime) -> bool:
    """Record a failed try; returns True while the message will be tried again."""
    retrying = True

    def failed(message: OutboxMessage) -> None:
        nonlocal retrying
        message.attempts += 1
        message.last_error = error[:2000]
        message.claimed_until = None
        retrying = message.attempts < MAX_ATTEMPTS
        message.status = OutboxStatus.QUEUED if retrying else OutboxStatus.FAILED
        message.next_attempt_at = now + backoff(message.attempts)

    _record(session, message_id, failed)
    return retrying


def send_due(
    session: Session,
    *,
    transport: Transport,
    render: Callable[[OutboxMessage], EmailMessage],
    now: datetime | None = None,
    limit: int = 50,
) -> SendReport:
    """Deliver what is due now; each message's outcome is committed on its own."""
    now = now or times.now_utc()
    sent = retrying = failed = 0
    for message in claim_due(session, now=now, limit=limit):
        assert message.id is not None
        try:
            transport.deliver(render(message))
        except Exception as exc:  # any transport failure is retried, never lost
            if mark_failed(
                session, message_id=message.id, error=f"{type(exc).__name__}: {exc}", now=now
            ):
                retrying += 1
            else:
                failed += 1
        else:
            mark_sent(session, message_id=message.id, now=now)
            sent += 1
    return SendReport(sent=sent, retrying=retrying, failed=failed)


def get_message(session: Session, *, message_id: int) -> OutboxMessage:
    message = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .execution_options(populate_existing=True)
    ).first()
    if message is None:
        raise errors.NotFound(f"no outbox message with id {message_id}")
    return message


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.status, sa.func.count()).group_by(col(OutboxMessage.status))
    ).all()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({status: int(number) for status, number in rows})
    return counts


def queue_test_message(session: Session, *, to_address: str) -> OutboxMessage:
    """A message that proves the mail path end to end (`azctl mail test`)."""
    address = validation.email(to_address, field="address")
    with db.write(session):
        return queue_message(
            session, kind="test", to_address=address, subject="azctl test message", context={}
        )
