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
    # Decided by a door screen from its local copy while the database was away, uploaded later.
    OFFLINE = "offline"


class Direction(StrEnum):
    """Which way a party passes a door: in, or out at the interval (DESIGN §10)."""

    IN = "in"
    OUT = "out"


# The entrance a scan names when none is given (`--door`).
MAIN_DOOR = "main"


class CheckIn(SQLModel, table=True):
    """At most one per reservation: the UNIQUE constraint decides races between doors."""

    __tablename__ = "check_in"

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", unique=True)
    performance_id: int = Field(foreign_key="performance.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    source: str = Field(max_length=16)
    checked_in_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    door: str = Field(default=MAIN_DOOR, max_length=40)


class DoorPass(SQLModel, table=True):
    """A party passing a door, in or out: the counters per door and "inside now" add these up.

    The first entry of a reservation is also its CheckIn. An offline admission that clashed when
    it was uploaded (the ticket was in already, or cancelled) is kept here as `forced`, with the
    answer the database would have given in `conflict`, and counts in no counter. `nonce` is the
    door's own id for a scan, so a journal uploaded twice records each scan once.
    """

    __tablename__ = "door_pass"

    __table_args__ = (
        sa.CheckConstraint("direction IN ('in', 'out')", name="direction_known"),
        sa.Index(None, "performance_id", "forced", "door"),
        sa.Index(None, "reservation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    performance_id: int = Field(foreign_key="performance.id")
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    door: str = Field(default=MAIN_DOOR, max_length=40)
    direction: str = Field(default=Direction.IN, max_length=3)
    # When the party passed: the door's own clock for an offline scan.
    passed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the database heard of it: later than passed_at for an offline scan.
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    nonce: str | None = Field(default=None, max_length=40, unique=True)
    offline: bool = Field(default=False)
    forced: bool = Field(default=False)
    conflict: str | None = Field(default=None, max_length=32)


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
    door: str = Field(default=MAIN_DOOR, max_length=40)
    direction: str = Field(default=Direction.IN, max_length=3)
