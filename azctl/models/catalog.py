"""What the theatre offers: venues, shows, and performances of a show at a venue."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class Venue(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    city: str = Field(max_length=120)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Show(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    summary: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=10000)
    # The poster: either an image stored here (so every host behind the proxy serves it, at a URL
    # named by its hash) or an https URL of an image elsewhere; never both.
    poster_image: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    poster_type: str | None = Field(default=None, max_length=32)
    poster_hash: str | None = Field(default=None, max_length=64)
    poster_url: str | None = Field(default=None, max_length=2000)
    is_published: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def poster_src(self) -> str | None:
        """Where a page finds the poster: the stored image at a URL named by its content hash
        (so it can be cached for a year), or the https URL it was given as."""
        if self.poster_hash:
            return f"/posters/{self.poster_hash}"
        return self.poster_url


class Performance(SQLModel, table=True):
    """One show at one venue at one time; its row is the lock that confirmations queue on."""

    __table_args__ = (
        sa.UniqueConstraint("show_id", "venue_id", "starts_at"),
        sa.CheckConstraint("room_capacity >= 0", name="room_capacity_not_negative"),
        sa.CheckConstraint("additional_seats >= 0", name="additional_seats_not_negative"),
        sa.CheckConstraint(
            "manually_occupied_seats >= 0", name="manually_occupied_seats_not_negative"
        ),
        sa.CheckConstraint(
            "manually_occupied_seats <= room_capacity + additional_seats",
            name="manually_occupied_within_capacity",
        ),
        sa.CheckConstraint(
            "checkin_opens_before_minutes IS NULL OR checkin_opens_before_minutes >= 0",
            name="checkin_opens_not_negative",
        ),
        sa.CheckConstraint(
            "checkin_closes_after_minutes IS NULL OR checkin_closes_after_minutes >= 0",
            name="checkin_closes_not_negative",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="show.id", index=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    room_capacity: int
    additional_seats: int = 0
    manually_occupied_seats: int = 0
    is_booking_enabled: bool = True
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # None means the settings' default window (AZCTL_CHECKIN_OPENS_BEFORE / _CLOSES_AFTER).
    checkin_opens_before_minutes: int | None = None
    checkin_closes_after_minutes: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def total_seats(self) -> int:
        return self.room_capacity + self.additional_seats
