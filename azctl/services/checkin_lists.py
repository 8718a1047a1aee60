"""What the door has seen, for staff to read: who came in, and the latest scans of a door.

Read-only lists beside the check-in rules of `checkin`, which write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from azctl.models import CheckIn, Reservation, ScanLog, Staff
from azctl.services import catalog, times


@dataclass(frozen=True)
class CheckInRow:
    reference: str
    party_size: int
    name: str
    checked_in_at: datetime
    checked_in_by: str | None
    source: str

    FIELDS: ClassVar[tuple[str, ...]] = (
        "reference",
        "party_size",
        "name",
        "checked_in_at",
        "checked_in_by",
        "source",
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "party_size": self.party_size,
            "name": self.name,
            "checked_in_at": times.iso_local(self.checked_in_at),
            "checked_in_by": self.checked_in_by,
            "source": self.source,
        }


def list_check_ins(session: Session, *, performance_id: int) -> list[CheckInRow]:
    """Who has come in to a performance, in order of arrival (for staff, so with names)."""
    catalog.get_performance(session, performance_id=performance_id)
    rows = session.exec(
        select(CheckIn, Reservation, Staff.username)
        .join(Reservation, Reservation.id == CheckIn.reservation_id)  # type: ignore[arg-type]
        .outerjoin(Staff, Staff.id == CheckIn.staff_id)  # type: ignore[arg-type]
        .where(CheckIn.performance_id == performance_id)
        .order_by(col(CheckIn.checked_in_at), col(CheckIn.id))
    )
    return [
        CheckInRow(
            reference=reservation.reference,
            party_size=reservation.party_size,
            name=reservation.name,
            checked_in_at=check_in.checked_in_at,
            checked_in_by=username,
            source=check_in.source,
        )
        for check_in, reservation, username in rows
    ]


@dataclass(frozen=True)
class ScanRow:
    scanned_at: datetime
    result: str
    source: str
    reference: str | None
    staff: str | None
    direction: str = "in"
    door: str | None = None


def recent_scans(session: Session, *, performance_id: int, limit: int = 20) -> list[ScanRow]:
    """The door's latest attempts, newest first."""
    rows = session.exec(
        select(ScanLog, Reservation.reference, Staff.username)
        .outerjoin(Reservation, Reservation.id == ScanLog.reservation_id)  # type: ignore[arg-type]
        .outerjoin(Staff, Staff.id == ScanLog.staff_id)  # type: ignore[arg-type]
        .where(ScanLog.performance_id == performance_id)
        .order_by(col(ScanLog.scanned_at).desc(), col(ScanLog.id).desc())
        .limit(limit)
    )
    return [
        ScanRow(
            scanned_at=log.scanned_at,
            result=log.result,
            source=log.source,
            reference=reference,
            staff=username,
            direction=log.direction,
            door=log.door,
        )
        for log, reference, username in rows
    ]
