"""Box-office and admin staff; their API token is stored only as an HMAC."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from azctl.models.base import UTCDateTime, utcnow


class StaffRole(StrEnum):
    ADMIN = "admin"
    BOX_OFFICE = "box_office"


class Staff(SQLModel, table=True):
    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'box_office')", name="role_known"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    is_active: bool = True
    api_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
