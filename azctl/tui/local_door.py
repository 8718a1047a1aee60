"""The door screen's hold on its local copy: where the file is, and keeping it written.

The rule and the copy are the services' (`door_copy`, `door_rule`); this only decides when the
copy is written: after every pass let through offline, before its banner shows, so a door closed
or killed a moment later has journalled it; and after every fresh copy from the database.
Touched only from the screen's own thread: workers hand their fresh copies back by message.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from azctl.services import door_copy
from azctl.services.checkin_outcome import ScanOutcome
from azctl.services.door_copy import DoorCopy, JournalEntry


class LocalDoor:
    """One door's copy of one performance, kept in its file."""

    def __init__(self, *, performance_id: int, door: str) -> None:
        self.path: Path = door_copy.copy_path(performance_id=performance_id, door=door)
        # What the door screen closed with last time: its journal is still to be uploaded.
        self.copy: DoorCopy | None = door_copy.load(self.path)

    @property
    def pending(self) -> list[JournalEntry]:
        return list(self.copy.journal) if self.copy else []

    def take(self, fresh: DoorCopy) -> None:
        """A fresh copy from the database, the passes not yet uploaded kept on top."""
        newer = self.copy.refreshed(fresh) if self.copy else fresh
        # Written only when a ticket changed: a refresh every few seconds of a quiet door must
        # not cost two fsyncs on the screen's thread each time.
        changed = self.copy is None or (newer.door, newer.tickets) != (
            self.copy.door,
            self.copy.tickets,
        )
        self.copy = newer
        if changed:
            door_copy.save(self.copy, self.path)

    def uploaded(self, nonces: set[str]) -> None:
        if self.copy is not None:
            self.copy.uploaded(nonces)
            door_copy.save_journal(self.copy, self.path)

    def note_online(self, outcome: ScanOutcome, now: datetime) -> None:
        if self.copy is not None:
            self.copy.note_online(outcome, now)

    def decide(self, decision: ScanOutcome) -> ScanOutcome:
        """Keep what a decision from the copy journalled, before anyone sees its answer."""
        if decision.admitted and self.copy is not None:
            door_copy.save_journal(self.copy, self.path)
        return decision
