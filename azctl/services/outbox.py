"""The transactional outbox: mail is queued with the change it tells of, and sent afterwards.

A sender claims one due message at a time, just before delivering it, in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so several senders share
the queue without sending a message twice. Each claim carries a random claim id and a lease
(`AZCTL_MAIL_LEASE`); the delivery runs outside any transaction and must end well inside the
lease, then the outcome is recorded only if the row still carries that claim. A failed delivery
is retried with backoff; a sender that dies mid-delivery leaves a lease that runs out, and the
message goes out again from another sender, whose claim the late one can no longer overwrite.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import OutboxMessage, OutboxStatus
from azctl.services import i18n, times, validation
from azctl.services.i18n import N_
from azctl.settings import get_settings

MAX_ATTEMPTS = 12
# Context keys that hold raw tokens; they are blanked once the message is delivered.
SECRET_KEYS = ("confirm_token", "cancel_token", "ticket_token", "offer_token", "leave_token")


class Transport(Protocol):
    def deliver(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SendReport:
    """What one round of sending did; `error` says why a round could not run at all."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    error: str | None = None
    # Outcomes not recorded because the claim had passed to another sender (its lease ran out).
    lost: int = 0

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            error=other.error or self.error,
            lost=self.lost + other.lost,
        )


class Outcome(StrEnum):
    """What recording a delivery did; `LOST`: nothing, the claim was no longer the caller's.

    Each value names the `SendReport` counter the outcome adds to.
    """

    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    LOST = "lost"


def queue_message(
    session: Session,
    *,
    kind: str,
    to_address: str,
    subject: str,
    context: dict[str, Any],
    reservation_id: int | None = None,
    waitlist_entry_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the caller's open transaction; it commits or rolls back with it.

    The booking or waiting-list entry it is about is named, so that retention finds the mail
    with the personal data it erases."""
    message = OutboxMessage(
        kind=kind,
        to_address=to_address,
        subject=subject,
        context=context,
        reservation_id=reservation_id,
        waitlist_entry_id=waitlist_entry_id,
    )
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … doubling up to an hour between tries."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def claim_lease() -> timedelta:
    """How long a claim lasts (`AZCTL_MAIL_LEASE`)."""
    return get_settings().mail_lease


def delivery_budget(lease: timedelta) -> timedelta:
    """The longest one delivery may take: half its claim's lease, so that it is over (or given
    up) while the claim is still the sender's, with room for rendering and recording it."""
    return lease / 2


class HeldClaims:
    """The claims one sender holds right now, so that a sender told to stop at once hands back
    what it has not delivered (`release`) rather than leave it leased until the lease runs out.

    Claims are taken under this object's lock and `close()` takes the same lock: once closed,
    no claim is being taken and none will be.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._undelivered: set[str] = set()
        self._delivered: dict[str, int] = {}  # claim id -> message id, until it is recorded

    def take(self, claim: Callable[[], list[OutboxMessage]]) -> list[OutboxMessage]:
        """Run `claim` (a claim transaction) and hold what it claimed; nothing once closed."""
        with self._lock:
            if self._closed:
                return []
            messages = claim()
            self._undelivered.update(str(message.claim_id) for message in messages)
            return messages

    def delivered(self, message: OutboxMessage) -> None:
        with self._lock:
            self._undelivered.discard(str(message.claim_id))
            self._delivered[str(message.claim_id)] = message.id or 0

    def done(self, message: OutboxMessage) -> None:
        with self._lock:
            self._undelivered.discard(str(message.claim_id))
            self._delivered.pop(str(message.claim_id), None)

    def close(self) -> tuple[set[str], dict[str, int]]:
        """Take no more claims; returns the undelivered ones and the delivered-unrecorded ones."""
        with self._lock:
            self._closed = True
            return set(self._undelivered), dict(self._delivered)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(
            OutboxMessage.status == OutboxStatus.QUEUED,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        sa.and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_until) < now,
        ),
    )


def claim_due(
    session: Session, *, now: datetime, limit: int = 1, lease: timedelta | None = None
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages, each under a random claim id of its own, until
    `now + lease` (default `AZCTL_MAIL_LEASE`).

    A row another sender is claiming right now is skipped, not waited for (SKIP LOCKED); a row
    whose lease ran out is due again, and claiming it makes the old claim worthless.
    """
    until = now + (lease or claim_lease())
    with db.write(session):
        messages = list(
            session.exec(
                select(OutboxMessage)
                .where(_due(now))
                .order_by(col(OutboxMessage.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )
        for message in messages:
            message.status = OutboxStatus.SENDING
            message.claimed_until = until
            message.claim_id = secrets.token_hex(16)
        return messages


def _held(message_id: int, claim_id: str) -> sa.ColumnElement[bool]:
    """The row, only while it carries this claim and is still being sent."""
    return sa.and_(
        OutboxMessage.id == message_id,
        OutboxMessage.claim_id == claim_id,
        OutboxMessage.status == OutboxStatus.SENDING,
    )


def _finish(
    session: Session,
    *,
    message_id: int,
    claim_id: str,
    change: Callable[[OutboxMessage], dict[str, Any]],
) -> bool:
    """Apply `change`'s values to a claimed row if the claim is still the caller's.

    The row is read locked (its values feed the change), then written with the same condition,
    so a claim that passed to another sender, or a message recorded already, is left as it is.
    """
    with db.write(session):
        message = session.exec(
            select(OutboxMessage)
            .where(_held(message_id, claim_id))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if message is None:
            return False
        values = {"claim_id": None, "claimed_until": None, **change(message)}
        updated = session.execute(
            sa.update(OutboxMessage)
            .where(_held(message_id, claim_id))
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return bool(updated.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, *, message_id: int, claim_id: str, now: datetime) -> Outcome:
    """Record delivery and blank the raw tokens, which from now on live only in the mailbox.

    `LOST` when the claim is no longer the caller's: nothing changes.
    """

    def sent(message: OutboxMessage) -> dict[str, Any]:
        return {
            "status": OutboxStatus.SENT,
            "sent_at": now,
            "attempts": message.attempts + 1,
            "context": {
                key: (None if key in SECRET_KEYS else value)
                for key, value in message.context.items()
            },
        }

    recorded = _finish(session, message_id=message_id, claim_id=claim_id, change=sent)
    return Outcome.SENT if recorded else Outcome.LOST


def mark_failed(
    session: Session, *, message_id: int, claim_id: str, error: str, now: datetime
) -> Outcome:
    """Record a failed try: `RETRYING` after a backoff, `FAILED` after the last attempt, or
    `LOST` (nothing changes) when the claim is no longer the caller's."""
    outcome = Outcome.LOST

    def failed(message: OutboxMessage) -> dict[str, Any]:
        nonlocal outcome
        attempts = message.attempts + 1
        outcome = Outcome.RETRYING if attempts < MAX_ATTEMPTS else Outcome.FAILED
        return {
            "attempts": attempts,
            "last_error": error[:2000],
            "status": OutboxStatus.QUEUED if outcome is Outcome.RETRYING else OutboxStatus.FAILED,
            "next_attempt_at": now + backoff(attempts),
        }

    recorded = _finish(session, message_id=message_id, claim_id=claim_id, change=failed)
    return outcome if recorded else Outcome.LOST


def release(session: Session, *, held: HeldClaims, now: datetime | None = None) -> int:
    """Hand back what a sender stopping at once holds; returns how many messages were requeued.

    What it delivered but had not recorded is recorded as sent; what it claimed but had not
    delivered goes back to `queued`, due at once, its claim cleared, but only where the row
    still carries that claim. Attempts do not count a try that never happened.
    """
    undelivered, delivered = held.close()
    for claim_id, message_id in delivered.items():
        mark_sent(session, message_id=message_id, claim_id=claim_id, now=now or times.now_utc())
    if not undelivered:
        return 0
    with db.write(session):
        released = session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.claim_id).in_(sorted(undelivered)),
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(status=OutboxStatus.QUEUED, claim_id=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(released.rowcount)  # type: ignore[attr-defined]


def send_due(
    session: Session,
    *,
    transport: Transport,
    render: Callable[[OutboxMessage], EmailMessage],
    now: datetime | None = None,
    limit: int = 50,
    stop: threading.Event | None = None,
    held: HeldClaims | None = None,
) -> SendReport:
    """Deliver up to `limit` messages due now, claiming each one just before delivering it.

    `now` fixes the clock (tests); otherwise each claim and each outcome reads the time afresh,
    so a long round never works under a lease taken minutes ago. `stop` ends the round after
    the message in hand; `held` lets another thread hand back this sender's claims (`release`).
    """
    held = held or HeldClaims()
    report = SendReport()
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        claimed = held.take(lambda: claim_due(session, now=now or times.now_utc()))
        if not claimed:
            break
        [message] = claimed
        assert message.id is not None and message.claim_id is not None
        try:
            transport.deliver(render(message))
        except Exception as exc:  # any transport failure is retried, never lost
            outcome = mark_failed(
                session,
                message_id=message.id,
                claim_id=message.claim_id,
                error=f"{type(exc).__name__}: {exc}",
                now=now or times.now_utc(),
            )
        else:
            held.delivered(message)
            outcome = mark_sent(
                session,
                message_id=message.id,
                claim_id=message.claim_id,
                now=now or times.now_utc(),
            )
        finally:
            held.done(message)
        report += SendReport(**{outcome.value: 1})
    return report


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
    """A message that proves the mail path end to end (`azctl mail test`).

    Written in the theatre's default language, with the footer every visitor's mail carries, so
    staff see the mail as visitors will.
    """
    address = validation.email(to_address, field="address")
    language = i18n.default_language()
    with db.write(session):
        return queue_message(
            session,
            kind="test",
            to_address=address,
            subject=i18n.gettext(language)(N_("azctl test message")),
            context={"language": language},
        )
