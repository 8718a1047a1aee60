"""Who came in, and every scan attempt at the door."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class CheckInSource(StrEnum):
    QR_SCAN = "qr_scan"
    MANUAL = "manual"


class CheckIn(SQLModel, table=True):
    """At most one per reservation: the UNIQUE constraint decides races between doors."""

    __tablename__ = "check_in"

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", unique=True)
    performance_id: int = Field(foreign_key="performance.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    source: str = Field(max_length=16)
    checked_in_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScanLog(SQLModel, table=True):
    """One row per attempt, admitted or not; it holds no personal data and no raw token."""

    __tablename__ = "scan_log"

    __table_args__ = (sa.Index(None, "performance_id", "scanned_at"),)

    id: int | None = Field(default=None, primary_key=True)
    scanned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    performance_id: int | None = Field(default=None, foreign_key="performance.id")
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    source: str = Field(max_length=16)
    result: str = Field(max_length=32)
    # A prefix of the scanned token's HMAC: groups repeated guesses without keeping the token.
    token_fingerprint: str | None = Field(default=None, max_length=16)
