"""Mail waiting to go out, written in the same transaction as the change it tells of."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """`context` feeds the mail's template; raw tokens in it are scrubbed once the mail is sent."""

    __tablename__ = "outbox_message"

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"
        ),
        sa.Index(None, "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    context: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id", index=True)
    # The waiting-list entry a waiting-list mail is about: retention scrubs it with the entry.
    waitlist_entry_id: int | None = Field(default=None, foreign_key="waitlist_entry.id", index=True)
    status: str = Field(default=OutboxStatus.QUEUED, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The claim of the sender delivering it now: random per claim, so that only that sender can
    # record the outcome, and a sender whose lease ran out records nothing.
    claim_id: str | None = Field(default=None, max_length=32, index=True)
    last_error: str | None = Field(default=None, max_length=2000)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
