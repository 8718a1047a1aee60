"""The waiting list of a sold-out performance (DESIGN §8), and the tokens its mails carry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LAPSED = "lapsed"
    LEFT = "left"


class WaitlistTokenPurpose(StrEnum):
    OFFER = "offer"
    LEAVE = "leave"


# The entries still on the list: one per email per performance among them.
_ACTIVE = "status IN ('waiting', 'offered')"


def _one_of(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


class WaitlistEntry(SQLModel, table=True):
    """A party waiting for seats; an open offer (status `offered`) holds its seats (§3)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint("party_size >= 1", name="party_size_positive"),
        sa.CheckConstraint(_one_of("status", WaitlistStatus), name="status_known"),
        sa.Index(None, "performance_id", "status", "id"),
        sa.Index(
            "uq_waitlist_entry_active_email",
            "performance_id",
            "email",
            unique=True,
            postgresql_where=sa.text(_ACTIVE),
            sqlite_where=sa.text(_ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    performance_id: int = Field(foreign_key="performance.id")
    reference: str = Field(max_length=16, unique=True)
    status: str = Field(default=WaitlistStatus.WAITING, max_length=16)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    party_size: int
    notes: str | None = Field(default=None, max_length=1000)
    language: str | None = Field(default=None, max_length=16)
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Until when an open offer holds its seats (AZCTL_WAITLIST_HOLD, never past the start).
    offer_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The confirmed booking an accepted offer became.
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when retention erased the personal data (name, email, phone, notes).
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaitlistToken(SQLModel, table=True):
    """A raw offer or leave token's HMAC; the raw token itself is never stored."""

    __tablename__ = "waitlist_token"
    __table_args__ = (
        sa.CheckConstraint(_one_of("purpose", WaitlistTokenPurpose), name="purpose_known"),
        sa.Index(None, "entry_id", "purpose"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="waitlist_entry.id")
    purpose: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
