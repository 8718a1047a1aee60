"""SQLModel tables only; every rule about them lives in `azctl.services`."""

from azctl.ids import MAX_ID
from azctl.models.base import UTCDateTime, utcnow
from azctl.models.catalog import Performance, Show, Venue
from azctl.models.checkins import MAIN_DOOR, CheckIn, CheckInSource, Direction, DoorPass, ScanLog
from azctl.models.outbox import OutboxMessage, OutboxStatus
from azctl.models.reservations import (
    Reservation,
    ReservationStatus,
    ReservationToken,
    TokenPurpose,
)
from azctl.models.staff import Staff, StaffRole
from azctl.models.waitlist import (
    WaitlistEntry,
    WaitlistStatus,
    WaitlistToken,
    WaitlistTokenPurpose,
)

__all__ = [
    "MAIN_DOOR",
    "MAX_ID",
    "CheckIn",
    "CheckInSource",
    "Direction",
    "DoorPass",
    "OutboxMessage",
    "OutboxStatus",
    "Performance",
    "Reservation",
    "ReservationStatus",
    "ReservationToken",
    "ScanLog",
    "Show",
    "Staff",
    "StaffRole",
    "TokenPurpose",
    "UTCDateTime",
    "Venue",
    "WaitlistEntry",
    "WaitlistStatus",
    "WaitlistToken",
    "WaitlistTokenPurpose",
    "utcnow",
]
