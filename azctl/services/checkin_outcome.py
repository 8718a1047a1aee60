"""The door's answers: one code per outcome, with its HTTP status and what staff may be shown.

The same answer serves the TUI, the CLI and the HTTP scan, so it lives apart from the rule that
decides it (`checkin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from azctl.services import times


class ScanResult(StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    UNKNOWN_TOKEN = "unknown_token"
    NOT_CONFIRMED = "not_confirmed"
    WRONG_PERFORMANCE = "wrong_performance"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    PERFORMANCE_CANCELLED = "performance_cancelled"
    # An exit of a party that is not inside: never came in, or left already.
    NOT_INSIDE = "not_inside"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    ScanResult.OK: 201,
    ScanResult.ALREADY_CHECKED_IN: 409,
    ScanResult.UNKNOWN_TOKEN: 404,
    ScanResult.NOT_CONFIRMED: 422,
    ScanResult.WRONG_PERFORMANCE: 422,
    ScanResult.TOO_EARLY: 422,
    ScanResult.TOO_LATE: 422,
    ScanResult.PERFORMANCE_CANCELLED: 422,
    ScanResult.NOT_INSIDE: 409,
}

# What the ScanLog calls an undo; it is logged like a scan but is not a scan's result.
UNDONE = "undone"
# What the ScanLog calls an offline admission that clashed when it was uploaded (DESIGN §10).
FORCED = "forced"


@dataclass(frozen=True)
class ScanOutcome:
    """The door's answer: a code, one line for staff, and what may be shown about the ticket."""

    result: ScanResult
    message: str
    reference: str | None = None
    party_size: int | None = None
    performance_id: int | None = None
    performance_label: str | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # "in", or "out" for a party leaving at the interval.
    direction: str = "in"
    door: str | None = None
    # Staff's note for the door (`res flag`), shown on an admission; never the visitor's notes.
    door_note: str | None = None
    # Back in after leaving at the interval.
    again: bool = False
    # Decided by the door from its local copy, the database being away.
    offline: bool = False

    @property
    def admitted(self) -> bool:
        """The party may pass: in, or out."""
        return self.result is ScanResult.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": self.result.value,
            "message": self.message,
            "reference": self.reference,
            "party_size": self.party_size,
            "performance_id": self.performance_id,
            "performance": self.performance_label,
            "checked_in_at": times.iso_local(self.checked_in_at),
            "checked_in_by": self.checked_in_by,
            "direction": self.direction,
            "door": self.door,
            "door_note": self.door_note,
            **self.details,
        }
