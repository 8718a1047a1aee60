"""Offers: freed seats passed down the waiting list, held for a while, accepted or lapsed.

`offer_round` and `lapse_offers` are worker kinds, `(engine, now) -> int`: each does what is due
for every performance and says how many entries it changed. A round walks a performance's waiting
entries in joining order, under the performance lock, and offers to each party that fits in the
seats free now: a larger party keeps its place while smaller ones behind it are offered. An open
offer holds its seats (they count against availability, `capacity.held_seats_of`) until
AZCTL_WAITLIST_HOLD has passed (never past the start); then it lapses and the next round offers
the seats on. Accepting makes a confirmed booking with its ticket, under the performance lock,
and the held seats become confirmed ones in the same transaction, so they are never counted
twice.

The list closes with booking. While booking is closed by staff (`perf close`), nothing is offered
and nobody joins, but the entries keep their places for a reopening. Once the performance has
started or is cancelled the list is over: `lapse_offers` marks its waiting and offered entries
`lapsed` (with `ended_at`), freeing any held seats.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from azctl import db, errors
from azctl.models import (
    Performance,
    Reservation,
    ReservationStatus,
    WaitlistEntry,
    WaitlistStatus,
    WaitlistTokenPurpose,
)
from azctl.services import capacity, reports, times
from azctl.services.booking import ConfirmedBooking, booking_state, rules
from azctl.services.booking import mails as booking_mails
from azctl.services.waitlist import mails
from azctl.services.waitlist.entries import ACTIVE, LinkedEntry, unused_reference
from azctl.services.waitlist.locking import lock_by_token, token_params, token_row
from azctl.settings import get_settings

# Performances whose list may have an offer to make: someone waits and booking is open.
_WAITING = (
    select(WaitlistEntry.performance_id, sa.func.min(WaitlistEntry.party_size))
    .join(Performance, Performance.id == WaitlistEntry.performance_id)  # type: ignore[arg-type]
    .where(
        WaitlistEntry.status == WaitlistStatus.WAITING,
        col(Performance.cancelled_at).is_(None),
        col(Performance.is_booking_enabled).is_(True),
        Performance.starts_at > sa.bindparam("now"),
    )
    .group_by(col(WaitlistEntry.performance_id))
    .order_by(col(WaitlistEntry.performance_id))
)


def offer_round(engine: Engine, now: datetime | None = None) -> int:
    """Worker kind: offer freed seats down every open waiting list; returns the offers made."""
    now = now or times.now_utc()
    made = 0
    with db.new_session(engine) as session:
        candidates = session.exec(_WAITING, params={"now": now}).all()  # type: ignore[call-overload]
        session.rollback()
        for performance_id, smallest in candidates:
            made += _offer_performance(session, performance_id, int(smallest), now)
    return made


def _offer_performance(session: Session, performance_id: int, smallest: int, now: datetime) -> int:
    """One performance's round. A look without the lock first: a sold-out house (the usual case)
    is passed by without queueing on the lock that its confirmations need."""
    performance = session.get(Performance, performance_id, populate_existing=True)
    if performance is None:
        return 0
    if capacity.seat_counts(session, performance=performance).available_seats < smallest:
        session.rollback()
        return 0
    session.rollback()
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        if booking_state(performance, now) != "open":
            return 0
        free = capacity.seat_counts(session, performance=performance).available_seats
        if free <= 0:
            return 0
        waiting = session.exec(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.performance_id == performance_id,
                WaitlistEntry.status == WaitlistStatus.WAITING,
            )
            .order_by(col(WaitlistEntry.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        summary = reports.performance_summary(session, performance_id=performance_id)
        until = min(now + get_settings().waitlist_hold, performance.starts_at)
        made = 0
        for entry in waiting:
            if free <= 0:
                break
            if entry.party_size > free:
                continue  # it keeps its place; a smaller party behind it may fit
            entry.status = WaitlistStatus.OFFERED
            entry.offered_at = now
            entry.offer_expires_at = until
            entry.updated_at = now
            mails.queue_offer_mail(session, entry, summary, until)
            free -= entry.party_size
            made += 1
        return made


_LAPSED_OFFER = sa.and_(
    WaitlistEntry.status == WaitlistStatus.OFFERED,
    col(WaitlistEntry.offer_expires_at) <= sa.bindparam("now"),
)
_LIST_OVER = sa.and_(
    col(WaitlistEntry.status).in_(ACTIVE),
    col(WaitlistEntry.performance_id).in_(
        select(Performance.id).where(
            or_(
                col(Performance.cancelled_at).is_not(None),
                Performance.starts_at <= sa.bindparam("now"),
            )
        )
    ),
)


def lapse_offers(engine: Engine, now: datetime | None = None) -> int:
    """Worker kind: offers past their hold lapse (their seats go to the next round), and the
    lists of started or cancelled performances close; returns how many entries ended."""
    now = now or times.now_utc()
    due_rows = or_(_LAPSED_OFFER, _LIST_OVER)
    with db.new_session(engine) as session, db.write(session):
        due = session.exec(
            select(WaitlistEntry.performance_id).where(due_rows).distinct(),
            params={"now": now},
        ).all()
        if not due:
            return 0
        db.lock_performances(session, due)
        statement = (
            sa.update(WaitlistEntry)
            .where(due_rows, col(WaitlistEntry.performance_id).in_(due))
            .values(status=WaitlistStatus.LAPSED, ended_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return session.exec(statement, params={"now": now}).rowcount  # type: ignore[call-overload]


def _refuse_offer(
    token_used: datetime | None,
    revoked: datetime | None,
    expires_at: datetime,
    entry: WaitlistEntry,
    now: datetime,
) -> None:
    if revoked is not None:
        raise errors.InvalidToken("this link is not valid")
    if token_used is not None or entry.status == WaitlistStatus.BOOKED:
        raise errors.TokenUsed("this offer has already been accepted")
    if entry.status == WaitlistStatus.LEFT:
        raise errors.TokenUsed("you have left this waiting list")
    if (
        entry.status != WaitlistStatus.OFFERED
        or expires_at <= now
        or (entry.offer_expires_at is not None and entry.offer_expires_at <= now)
    ):
        raise errors.TokenExpired("this offer has lapsed and its seats were passed on")


def offer_preview(session: Session, *, token: str, now: datetime | None = None) -> LinkedEntry:
    """What the offer page shows before the visitor accepts, refused as `accept_offer` would."""
    now = now or times.now_utc()
    offer_token, entry = token_row(session, token_params(token, WaitlistTokenPurpose.OFFER))
    _refuse_offer(offer_token.used_at, offer_token.revoked_at, offer_token.expires_at, entry, now)
    summary = reports.performance_summary(session, performance_id=entry.performance_id)
    rules.refuse_closed(summary.performance, now)
    return LinkedEntry(entry=entry, summary=summary, position=None)


def _reference_for(session: Session, entry: WaitlistEntry) -> str:
    """The entry's own reference, unless a booking has taken it meanwhile."""
    taken = session.exec(
        select(Reservation.id).where(Reservation.reference == entry.reference)
    ).first()
    return unused_reference(session) if taken is not None else entry.reference


def accept_offer(session: Session, *, token: str, now: datetime | None = None) -> ConfirmedBooking:
    """The visitor accepts an offer: a confirmed booking, its ticket and ticket mail.

    In the lock order: the performance, then the token and entry, then the new booking and
    everything that refers to it. The entry's held seats become the booking's confirmed seats
    in this one transaction. Refused with the confirmation's codes: `invalid_token`,
    `token_used`, `token_expired`, `booking_closed`.
    """
    now = now or times.now_utc()
    params = token_params(token, WaitlistTokenPurpose.OFFER)
    with db.write(session):
        performance, offer_token, entry = lock_by_token(session, params)
        _refuse_offer(
            offer_token.used_at, offer_token.revoked_at, offer_token.expires_at, entry, now
        )
        rules.refuse_closed(performance, now)
        # The entry's own held seats are among the held ones: they are its to take. Never short
        # while capacity changes refuse to cut into held seats; said plainly if it ever is.
        seats = capacity.seat_counts(session, performance=performance)
        others = seats.manually_occupied_seats + seats.confirmed_seats + seats.held_seats
        if entry.party_size > seats.total_seats - others + entry.party_size:
            raise errors.SoldOut("sorry, these seats are no longer free", available=0)
        summary = reports.performance_summary(session, performance_id=performance.id or 0)
        reservation = Reservation(
            performance_id=entry.performance_id,
            reference=_reference_for(session, entry),
            status=ReservationStatus.CONFIRMED,
            name=entry.name,
            email=entry.email,
            phone=entry.phone,
            party_size=entry.party_size,
            notes=entry.notes,
            language=entry.language,
            confirmed_at=now,
            qr_code_generated_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(reservation)
        session.flush()
        entry.status = WaitlistStatus.BOOKED
        entry.reservation_id = reservation.id
        entry.ended_at = now
        entry.updated_at = now
        offer_token.used_at = now
        ticket_token = booking_mails.queue_ticket_mail(session, reservation, summary)
        session.flush()
        return ConfirmedBooking(reservation=reservation, summary=summary, ticket_token=ticket_token)
