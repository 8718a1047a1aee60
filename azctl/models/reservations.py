"""A visitor's booking and the opaque tokens that act on it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class ReservationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class TokenPurpose(StrEnum):
    CONFIRMATION = "confirmation"
    CHECK_IN = "check_in"
    CANCEL = "cancel"


def _one_of(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


class Reservation(SQLModel, table=True):
    """Only confirmed reservations hold seats; pending ones are interest, not a promise."""

    __table_args__ = (
        sa.CheckConstraint("party_size >= 1", name="party_size_positive"),
        sa.CheckConstraint(_one_of("status", ReservationStatus), name="status_known"),
        sa.Index(None, "performance_id", "status"),
        sa.Index(None, "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    performance_id: int = Field(foreign_key="performance.id")
    reference: str = Field(max_length=16, unique=True)
    status: str = Field(default=ReservationStatus.PENDING, max_length=16)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    party_size: int
    notes: str | None = Field(default=None, max_length=1000)
    # The language the visitor booked in (`it`, `en`): every later mail for it is written in it.
    # None for bookings made before languages were kept, and by staff: the theatre's first one.
    language: str | None = Field(default=None, max_length=16)
    # When a pending reservation lapses: its confirmation link's expiry.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    qr_code_generated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The reminder mail (AZCTL_REMINDER_BEFORE) was queued: at most one per booking.
    reminder_queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A note for the door (`res flag`), e.g. "wheelchair space"; shown to staff only.
    door_note: str | None = Field(default=None, max_length=200)
    # Set when retention erased the personal data (name, email, phone, notes).
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReservationToken(SQLModel, table=True):
    """A raw token's HMAC; the raw token itself is never stored."""

    __tablename__ = "reservation_token"

    __table_args__ = (
        sa.CheckConstraint(_one_of("purpose", TokenPurpose), name="purpose_known"),
        sa.Index(None, "reservation_id", "purpose"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id")
    purpose: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
