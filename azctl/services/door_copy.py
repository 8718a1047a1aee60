"""The door's local copy of its performance's tickets, and its journal of offline passes
(DESIGN §10).

A door screen takes a copy every few seconds while the database answers and keeps it in a file in
the data dir. When the database stops answering, the door decides from the copy, by the same rule
as the check-in service (`door_rule.judge`), and journals every pass it lets through with a random
nonce and the door's time; the journal is uploaded (`checkin_offline.record_offline`) once the
database is back, also after the door screen was closed and opened again.

The copy holds what the rule needs and nothing more: each check-in token's HMAC (never the token),
the reference, party size, state and staff's door note; never a name, email, phone or the visitor's
own notes. The file is replaced whole and atomically, so a door closed or killed mid-write leaves
the previous copy, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from azctl.models import (
    CheckIn,
    Direction,
    DoorPass,
    Reservation,
    ReservationToken,
    Staff,
    TokenPurpose,
)
from azctl.services import catalog, reservations, times, tokens
from azctl.services.checkin_facts import door_facts, door_name
from azctl.services.checkin_outcome import ScanOutcome, ScanResult
from azctl.services.door_rule import DoorFacts, TicketFacts, judge, passed
from azctl.settings import get_settings

# Bumped when the file's shape changes; a file of another version is not read.
FORMAT = 1


@dataclass(frozen=True)
class JournalEntry:
    """One pass a door let through offline, as it will be uploaded."""

    nonce: str
    passed_at: datetime
    direction: str
    door: str
    token_hash: str | None = None
    reference: str | None = None
    staff: str | None = None


def new_nonce() -> str:
    """A scan's own id: the database records each nonce once (DESIGN §10)."""
    return secrets.token_hex(16)


@dataclass
class DoorCopy:
    """One door's copy: the door, its performance's tickets by token HMAC, and the journal of
    passes not yet uploaded. Changed only on the door screen's own thread."""

    door: DoorFacts
    tickets: dict[str, TicketFacts]
    taken_at: datetime
    journal: list[JournalEntry] = field(default_factory=list)

    def decide(
        self,
        *,
        text: str,
        now: datetime,
        direction: str = Direction.IN,
        staff: str | None = None,
        nonce: str | None = None,
    ) -> ScanOutcome:
        """The door's answer to a scan from the copy, journalled if the party may pass."""
        canonical = tokens.parse_scanned(text)
        token_hash = tokens.hash_token(canonical) if canonical else None
        if token_hash is None or token_hash not in self.tickets:
            return self._unknown("not a ticket for this performance", direction)
        entry = JournalEntry(
            nonce=nonce or new_nonce(),
            passed_at=now,
            direction=str(direction),
            door=self.door.door,
            token_hash=token_hash,
            staff=staff,
        )
        return self._pass(token_hash, entry)

    def decide_by_reference(
        self,
        *,
        reference: str,
        now: datetime,
        direction: str = Direction.IN,
        staff: str | None = None,
    ) -> ScanOutcome:
        """A manual check-in from the copy, for a visitor without their QR code."""
        wanted = reservations.normalise_reference(reference)
        token_hash = next(
            (key for key, ticket in self.tickets.items() if ticket.reference == wanted), None
        )
        if token_hash is None:
            return self._unknown(f"no booking {wanted} for this performance", direction)
        entry = JournalEntry(
            nonce=new_nonce(),
            passed_at=now,
            direction=str(direction),
            door=self.door.door,
            reference=wanted,
            staff=staff,
        )
        return self._pass(token_hash, entry)

    def ticket(self, reference: str) -> TicketFacts | None:
        wanted = reservations.normalise_reference(reference)
        return next((t for t in self.tickets.values() if t.reference == wanted), None)

    def would_admit(
        self, *, reference: str, now: datetime, direction: str = Direction.IN
    ) -> ScanOutcome | None:
        """Why the booking may not pass by hand now, or None if it may (nothing journalled)."""
        wanted = reservations.normalise_reference(reference)
        ticket = self.ticket(wanted)
        if ticket is None:
            return self._unknown(f"no booking {wanted} for this performance", direction)
        outcome = judge(ticket, self.door, now, direction)
        return None if outcome.admitted else replace(outcome, offline=True)

    def _unknown(self, why: str, direction: str) -> ScanOutcome:
        """No such ticket in the copy, which holds only this performance's tickets."""
        return ScanOutcome(
            ScanResult.UNKNOWN_TOKEN,
            f"UNKNOWN TICKET: {why}",
            direction=str(direction),
            door=self.door.door,
            offline=True,
        )

    def _pass(self, token_hash: str, entry: JournalEntry) -> ScanOutcome:
        ticket = self.tickets[token_hash]
        outcome = _judge_entry(ticket, self.door, entry)
        if outcome.admitted:
            self.tickets[token_hash] = passed(ticket, outcome, entry.passed_at)
            self.journal.append(entry)
        return replace(outcome, offline=True)

    def note_online(self, outcome: ScanOutcome, now: datetime) -> None:
        """An answer the database gave: the copy follows it until the next copy is taken, so a
        door that drops right after an admission knows the party is in."""
        if not outcome.admitted or outcome.reference is None:
            return
        for key, ticket in self.tickets.items():
            if ticket.reference == outcome.reference:
                self.tickets[key] = passed(ticket, outcome, now)

    def uploaded(self, nonces: set[str]) -> None:
        self.journal = [entry for entry in self.journal if entry.nonce not in nonces]

    def refreshed(self, fresh: DoorCopy) -> DoorCopy:
        """A newer copy from the database, with the passes not yet uploaded applied on top."""
        tickets = dict(fresh.tickets)
        by_reference = {ticket.reference: key for key, ticket in tickets.items()}
        for entry in self.journal:
            key = entry.token_hash or by_reference.get(entry.reference or "")
            if key in tickets:
                ticket = tickets[key]
                tickets[key] = passed(
                    ticket, _judge_entry(ticket, fresh.door, entry), entry.passed_at
                )
        return DoorCopy(fresh.door, tickets, fresh.taken_at, list(self.journal))

    @property
    def admitted_seats(self) -> int:
        return sum(t.party_size for t in self.tickets.values() if t.checked_in_at is not None)

    @property
    def inside_seats(self) -> int:
        return sum(t.party_size for t in self.tickets.values() if t.inside)


def _judge_entry(ticket: TicketFacts, door: DoorFacts, entry: JournalEntry) -> ScanOutcome:
    """The rule's answer to a journalled pass; a first entry was let in by the entry's staff
    (an exit or a return keeps who let the party in first)."""
    outcome = judge(ticket, door, entry.passed_at, entry.direction)
    if outcome.admitted and outcome.direction == Direction.IN and not outcome.again:
        return replace(outcome, checked_in_by=entry.staff)
    return outcome


def take_copy(session: Session, *, performance_id: int, door: str | None = None) -> DoorCopy:
    """A copy of one performance's tickets as the database has them now, for one door."""
    performance = catalog.get_performance(session, performance_id=performance_id)
    facts = door_facts(session, performance, door_name(door))
    check_ins = {
        check_in.reservation_id: (check_in, username)
        for check_in, username in session.exec(
            select(CheckIn, Staff.username)
            .outerjoin(Staff, Staff.id == CheckIn.staff_id)  # type: ignore[arg-type]
            .where(CheckIn.performance_id == performance_id)
        )
    }
    last_way: dict[int, str] = {}
    for reservation_id, direction in session.exec(
        select(DoorPass.reservation_id, DoorPass.direction)
        .where(DoorPass.performance_id == performance_id, col(DoorPass.forced).is_(False))
        .order_by(col(DoorPass.id))
    ):
        if reservation_id is not None:
            last_way[reservation_id] = direction
    tickets = {}
    for token_hash, reservation in session.exec(
        select(ReservationToken.token_hash, Reservation)
        .join(Reservation, Reservation.id == ReservationToken.reservation_id)  # type: ignore[arg-type]
        .where(
            Reservation.performance_id == performance_id,
            ReservationToken.purpose == TokenPurpose.CHECK_IN,
            col(ReservationToken.revoked_at).is_(None),
        )
    ):
        check_in, username = check_ins.get(reservation.id, (None, None))
        way = last_way.get(reservation.id)  # type: ignore[arg-type]
        tickets[token_hash] = TicketFacts(
            reference=reservation.reference,
            party_size=reservation.party_size,
            status=reservation.status,
            performance_id=performance_id,
            performance_label=facts.label,
            performance_cancelled=performance.cancelled_at is not None,
            checked_in_at=check_in.checked_in_at if check_in else None,
            checked_in_by=username,
            checked_in_door=check_in.door if check_in else None,
            inside=way == Direction.IN if way is not None else check_in is not None,
            door_note=reservation.door_note,
        )
    return DoorCopy(door=facts, tickets=tickets, taken_at=times.now_utc())


# --- the file --------------------------------------------------------------------------------


def copy_path(*, performance_id: int, door: str | None = None) -> Path:
    """Where one door's copy of one performance lives: one file per door, so two door screens
    on one machine (or one data dir) never write each other's journal."""
    slug = re.sub(r"[^a-z0-9]+", "-", door_name(door).lower()).strip("-") or "door"
    return get_settings().data_dir / "doors" / f"performance-{performance_id}-{slug}.json"


def has_copy(*, performance_id: int, door: str | None = None) -> bool:
    return copy_path(performance_id=performance_id, door=door).is_file()


def journal_path(path: Path) -> Path:
    """The journal beside the copy: written after every offline pass, so it is kept small and
    apart from the tickets, which are written only when a fresh copy comes."""
    return path.with_name(f"{path.stem}.journal.json")


def save(copy: DoorCopy, path: Path) -> None:
    """Write the tickets, then the journal, each whole and atomically. A door killed between the
    two finds the new tickets and the old journal, whose passes are in the tickets already;
    reading them onto the tickets again changes nothing (`load`)."""
    _write_atomically(
        path,
        {
            "format": FORMAT,
            "door": _plain(vars(copy.door)),
            "taken_at": copy.taken_at.isoformat(),
            "tickets": {key: _plain(vars(ticket)) for key, ticket in copy.tickets.items()},
        },
    )
    save_journal(copy, path)


def save_journal(copy: DoorCopy, path: Path) -> None:
    """Write the journal alone: what an offline pass must have on disk before its banner shows."""
    _write_atomically(
        journal_path(path),
        {"format": FORMAT, "journal": [_plain(vars(entry)) for entry in copy.journal]},
    )


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write to a new file beside `path`, flush it to disk, then rename it over `path`: a
    reader, or a door reopened after a crash, finds the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load(path: Path) -> DoorCopy | None:
    """The copy kept in `path` with its journal's passes read onto its tickets, or None if there
    is none (or it is of another format)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if document.get("format") != FORMAT:
        return None
    try:
        kept = json.loads(journal_path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        kept = {"format": FORMAT, "journal": []}
    if kept.get("format") != FORMAT:
        return None
    door = _read(DoorFacts, document["door"])
    taken_at = datetime.fromisoformat(document["taken_at"])
    tickets = {key: _read(TicketFacts, value) for key, value in document["tickets"].items()}
    journal = [_read(JournalEntry, value) for value in kept["journal"]]
    return DoorCopy(door, {}, taken_at, journal).refreshed(DoorCopy(door, tickets, taken_at))


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
    }


def _read(kind: Any, values: dict[str, Any]) -> Any:
    """A dataclass back from its JSON: every `*_at` and `window_*` field is a datetime."""
    names = {item.name for item in fields(kind)}
    return kind(
        **{
            key: datetime.fromisoformat(value)
            if value is not None and (key.endswith("_at") or key.startswith("window_"))
            else value
            for key, value in values.items()
            if key in names
        }
    )
