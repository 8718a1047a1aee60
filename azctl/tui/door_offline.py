"""The door without its database (DESIGN §10): answers from the local copy, the OFFLINE notice,
the probe that notices the database is back, and the journal's upload.

A base of the door screen, apart from scanning and counting: which answer a scan gets online is
the screen's business; what the door does when there is none is this module's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import work
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from azctl import errors
from azctl.services import checkin_offline, times
from azctl.services.checkin import ScanOutcome
from azctl.services.checkin_lists import ScanRow
from azctl.services.door_copy import DoorCopy, JournalEntry
from azctl.tui.counters import SeatCounters
from azctl.tui.database import in_session
from azctl.tui.recent import RecentScans
from azctl.tui.workers import ReportsWorkerErrors

log = logging.getLogger(__name__)


class OfflineDoor(ReportsWorkerErrors):
    """What a door screen does while its database does not answer. The screen gives it
    `performance_id`, `staff`, `local`, `probe_seconds`, `offline_after`, `asked_since`,
    `database_scans`, `show_answer` and `load`."""

    # The database did not answer: the door answers from its local copy.
    offline: reactive[bool] = reactive(False)
    # An upload is on its way: the next answer from the database waits for it, not a second one.
    uploading = False

    def start_upload(self) -> None:
        if not self.uploading and self.local.pending:
            self.uploading = True
            self.upload(self.local.pending)

    class Uploaded(Message):
        """Journalled passes the database has recorded, and why the rest were not, if they
        were not."""

        def __init__(self, nonces: set[str], clashed: int, error: errors.AzctlError | None) -> None:
            super().__init__()
            self.nonces = nonces
            self.clashed = clashed
            self.error = error

    def answer_from_copy(self, number: int, decide: Callable[[int, DoorCopy], Any]) -> None:
        """The copy's answer, journalled and written to disk before it is shown."""
        copy = self.local.copy
        now = times.now_utc()
        if copy is None:
            self.show_answer(
                number,
                now,
                error=errors.Unavailable(
                    "no answer from the database, and this door has no copy of its tickets yet"
                ),
            )
            return
        answer = decide(number, copy)
        if isinstance(answer, ScanOutcome):
            answer = self.local.decide(answer)
            self.offline_scans.insert(0, _offline_row(answer, now, self._username))
            self.show_offline()
        self.show_answer(number, now, outcome=answer)

    def probe(self) -> None:
        """Offline, ask every second whether the database is back (`load` is that question).
        Online, go offline if the database has left a question unanswered too long: an idle
        door finds out before its next visitor does."""
        if self.offline:
            self.load()
        elif (
            self.asked_since is not None
            and self.local.copy is not None
            and time.monotonic() - self.asked_since > self.offline_after
        ):
            self.go_offline(f"no answer within {self.offline_after:g} s")

    @work(thread=True, exclusive=True, exit_on_error=False, group="upload", description="upload")
    def upload(self, entries: list[JournalEntry]) -> None:
        """Record the journal's passes, each in its own transaction: a database lost halfway
        keeps what was recorded, and the rest is sent again (each nonce is recorded once)."""
        done: set[str] = set()
        clashed = 0
        for entry in entries:
            try:
                outcome = in_session(
                    lambda session, entry=entry: checkin_offline.record_offline(
                        session,
                        performance_id=self.performance_id,
                        nonce=entry.nonce,
                        passed_at=entry.passed_at,
                        token_hash=entry.token_hash,
                        reference=entry.reference,
                        door=entry.door,
                        direction=entry.direction,
                        staff=self.staff if self.staff and self.staff.id else None,
                    )
                )
            except errors.AzctlError as exc:
                self.post_message(self.Uploaded(done, clashed, exc))
                return
            done.add(entry.nonce)
            clashed += not outcome.admitted
        self.post_message(self.Uploaded(done, clashed, None))

    def on_offline_door_uploaded(self, message: Uploaded) -> None:
        self.uploading = False
        self.local.uploaded(message.nonces)
        if not self.local.pending:
            self.offline_scans = []
        if message.clashed:
            self.app.bell()
            self.notify(
                f"{message.clashed} offline admission(s) clashed with another door or a"
                f" cancellation: azctl checkin conflicts --perf {self.performance_id}",
                title="conflicts",
                severity="warning",
                timeout=30,
            )
        if message.error is not None or self.local.pending:
            self.show_offline()
            return
        uploaded = len(message.nonces)
        self.back_online(f"The database is back; {uploaded} offline pass(es) uploaded.")
        self.load()

    def go_offline(self, reason: str) -> None:
        if not self.offline:
            self.app.bell()
            log.warning("the door is offline: %s", reason)
        # The notice gives the gist on one line ("connection failed"); the log has the rest.
        gist = reason.removeprefix("the database is unavailable: ").split(":")[0]
        self.offline_reason = gist if len(gist) <= 40 else f"{gist[:39]}…"
        self.offline = True
        self.show_offline()

    def back_online(self, news: str) -> None:
        self.offline = False
        self.notify(news, title="online")

    def watch_offline(self, offline: bool) -> None:
        self.set_class(offline, "-offline")

    def show_offline(self) -> None:
        """The notice, the counts and the recent list, as this door's copy has them."""
        copy = self.local.copy
        if copy is None:
            text = (
                f"OFFLINE: {self.offline_reason}. No copy of the tickets yet: scans get no answer"
                f" until the database is back; retrying every {self.probe_seconds:g} s."
            )
        else:
            text = (
                f"OFFLINE · from the door's copy of"
                f" {times.to_local(copy.taken_at):%H:%M:%S} · {len(copy.journal)} to upload"
                f" · {self.offline_reason}"
            )
            self.query_one(SeatCounters).show_copy(copy)
        self.query_one("#offline-notice", Static).update(text)
        self.query_one(RecentScans).show([*self.offline_scans, *self.database_scans])


def _offline_row(outcome: ScanOutcome, at: datetime, username: str | None) -> ScanRow:
    return ScanRow(
        scanned_at=at,
        result=outcome.result,
        source="offline",
        reference=outcome.reference,
        staff=username,
        direction=outcome.direction,
        door=outcome.door,
    )
