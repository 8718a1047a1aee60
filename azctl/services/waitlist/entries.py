"""Joining and leaving a performance's waiting list, and the list as staff read it.

A party joins only when it does not fit in the seats free now (else it books), only while the
performance takes bookings, and once per email per performance among the active entries. Its
place is its joining order; `position` counts the waiting entries up to it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import (
    Reservation,
    WaitlistEntry,
    WaitlistStatus,
    WaitlistToken,
    WaitlistTokenPurpose,
)
from azctl.services import i18n, reports, times, tokens
from azctl.services.booking import form, public_performance, rules
from azctl.services.reservations import REFERENCE_PREFIX
from azctl.services.waitlist import mails
from azctl.services.waitlist.locking import (
    get_entry,
    lock_by_reference,
    lock_by_token,
    token_params,
    token_row,
)
from azctl.services.words import plural

ACTIVE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def unused_reference(session: Session) -> str:
    """A reference like a booking's (`AZ-7KQ4M2`), taken by no booking and no entry, so staff
    find either by it and an accepted offer's booking can keep it."""
    while True:
        reference = REFERENCE_PREFIX + "".join(secrets.choice(tokens.ALPHABET) for _ in range(6))
        taken = (
            session.exec(select(Reservation.id).where(Reservation.reference == reference)).first()
            or session.exec(
                select(WaitlistEntry.id).where(WaitlistEntry.reference == reference)
            ).first()
        )
        if taken is None:
            return reference


def position(session: Session, entry: WaitlistEntry) -> int | None:
    """Its place among the entries still waiting (1 = next); None once it is no longer waiting."""
    if entry.status != WaitlistStatus.WAITING:
        return None
    ahead = session.exec(
        select(sa.func.count()).where(
            WaitlistEntry.performance_id == entry.performance_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            col(WaitlistEntry.id) < entry.id,
        )
    ).one()
    return int(ahead) + 1


@dataclass(frozen=True)
class JoinedEntry:
    entry: WaitlistEntry
    position: int
    leave_token: str


def refuse_fits(party_size: int, free: int) -> None:
    """The list is for parties that do not fit: one that fits books instead."""
    if party_size <= free:
        raise errors.SeatsAvailable(
            f"{plural(free, 'seat is', 'seats are')} free: please book instead",
            available=free,
        )


def join(
    session: Session,
    *,
    performance_id: int,
    name: str,
    email: str,
    party_size: int,
    phone: str | None = None,
    notes: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> JoinedEntry:
    """A party joins a performance's waiting list: the entry, its leave link and the mail.

    Checked as a booking is (fields, public performance, booking open), then, under the
    performance lock so that two joins of one email cannot both pass: refused when the party
    fits in the seats free now (`seats_available`: book instead) and when the email already
    waits for this performance (`already_waiting`).
    """
    now = now or times.now_utc()
    fields = form.clean(name=name, email=email, phone=phone, notes=notes, party_size=party_size)
    with db.write(session):
        public_performance(session, performance_id=performance_id)
        db.lock_performance(session, performance_id)
        summary = reports.performance_summary(session, performance_id=performance_id)
        rules.refuse_closed(summary.performance, now)
        refuse_fits(fields.party_size, summary.seats.available_seats)
        waiting = session.exec(
            select(WaitlistEntry.id).where(
                WaitlistEntry.performance_id == performance_id,
                sa.func.lower(WaitlistEntry.email) == fields.email.lower(),
                col(WaitlistEntry.status).in_(ACTIVE),
            )
        ).first()
        if waiting is not None:
            raise errors.AlreadyWaiting("this email is already on the waiting list")
        entry = WaitlistEntry(
            performance_id=performance_id,
            reference=unused_reference(session),
            name=fields.name,
            email=fields.email,
            phone=fields.phone,
            party_size=fields.party_size,
            notes=fields.notes,
            language=i18n.for_reservation(language),
            created_at=now,
            updated_at=now,
        )
        session.add(entry)
        session.flush()
        place = position(session, entry) or 1
        leave_token = mails.queue_joined_mail(session, entry, summary, place)
        return JoinedEntry(entry=entry, position=place, leave_token=leave_token)


def _end(entry: WaitlistEntry, status: WaitlistStatus, now: datetime) -> None:
    entry.status = status
    entry.ended_at = now
    entry.updated_at = now


def _refuse_leave(entry: WaitlistEntry) -> None:
    if entry.status == WaitlistStatus.LEFT:
        raise errors.TokenUsed("you have already left this waiting list")
    if entry.status == WaitlistStatus.BOOKED:
        raise errors.TokenUsed(
            "your offer was accepted: to give the seats back, cancel from your ticket"
        )
    if entry.status == WaitlistStatus.LAPSED:
        raise errors.TokenExpired("this waiting list has closed for you")


@dataclass(frozen=True)
class LinkedEntry:
    """An entry as a link shows it, with its performance."""

    entry: WaitlistEntry
    summary: reports.PerformanceSummary
    position: int | None


def leave_preview(session: Session, *, token: str, now: datetime | None = None) -> LinkedEntry:
    """What the leave page shows before asking, refused as `leave` would refuse."""
    now = now or times.now_utc()
    leave_token, entry = token_row(session, token_params(token, WaitlistTokenPurpose.LEAVE))
    _refuse_leave_token(leave_token, now)
    _refuse_leave(entry)
    summary = reports.performance_summary(session, performance_id=entry.performance_id)
    return LinkedEntry(entry=entry, summary=summary, position=position(session, entry))


def _refuse_leave_token(leave_token: WaitlistToken, now: datetime) -> None:
    revoked_at, used_at, expires_at = (
        leave_token.revoked_at,
        leave_token.used_at,
        leave_token.expires_at,
    )
    if revoked_at is not None:
        raise errors.InvalidToken("this link is not valid")
    if used_at is not None:
        raise errors.TokenUsed("you have already left this waiting list")
    if expires_at <= now:
        raise errors.TokenExpired("the performance has started: the waiting list is closed")


def leave(session: Session, *, token: str, now: datetime | None = None) -> LinkedEntry:
    """The visitor leaves with the link from their mail; an open offer's seats are freed."""
    now = now or times.now_utc()
    params = token_params(token, WaitlistTokenPurpose.LEAVE)
    with db.write(session):
        _performance, leave_token, entry = lock_by_token(session, params)
        _refuse_leave_token(leave_token, now)
        _refuse_leave(entry)
        _end(entry, WaitlistStatus.LEFT, now)
        leave_token.used_at = now
        summary = reports.performance_summary(session, performance_id=entry.performance_id)
        return LinkedEntry(entry=entry, summary=summary, position=None)


def remove(session: Session, *, reference: str, now: datetime | None = None) -> WaitlistEntry:
    """Staff take an entry off the list (`waitlist remove`); an open offer's seats are freed."""
    now = now or times.now_utc()
    with db.write(session):
        _performance, entry = lock_by_reference(session, reference=reference)
        if entry.status not in ACTIVE:
            raise errors.InvalidState(f"{entry.reference} is already {entry.status}")
        _end(entry, WaitlistStatus.LEFT, now)
        return entry


def joined(session: Session, *, reference: str) -> LinkedEntry:
    """An entry by reference, for the page a join leads to."""
    entry = get_entry(session, reference=reference)
    summary = reports.performance_summary(session, performance_id=entry.performance_id)
    return LinkedEntry(entry=entry, summary=summary, position=position(session, entry))


@dataclass(frozen=True)
class EntryRow:
    """One line of `waitlist list`: the entry and its place among those waiting."""

    entry: WaitlistEntry
    position: int | None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "position",
        "reference",
        "name",
        "email",
        "phone",
        "party_size",
        "status",
        "joined_at",
        "offer_expires_at",
        "reservation_id",
    )

    def as_dict(self) -> dict[str, Any]:
        entry = self.entry
        return {
            "position": self.position,
            "reference": entry.reference,
            "name": entry.name,
            "email": entry.email,
            "phone": entry.phone,
            "party_size": entry.party_size,
            "status": entry.status,
            "joined_at": times.iso_local(entry.created_at),
            "offer_expires_at": times.iso_local(entry.offer_expires_at),
            "reservation_id": entry.reservation_id,
        }


def list_entries(session: Session, *, performance_id: int) -> list[EntryRow]:
    """Every entry of a performance in joining order, the waiting ones numbered 1, 2, …"""
    reports.performance_summary(session, performance_id=performance_id)  # or not_found
    entries = session.exec(
        select(WaitlistEntry)
        .where(WaitlistEntry.performance_id == performance_id)
        .order_by(col(WaitlistEntry.id))
        .execution_options(populate_existing=True)
    ).all()
    rows: list[EntryRow] = []
    place = 0
    for entry in entries:
        if entry.status == WaitlistStatus.WAITING:
            place += 1
            rows.append(EntryRow(entry=entry, position=place))
        else:
            rows.append(EntryRow(entry=entry, position=None))
    return rows
