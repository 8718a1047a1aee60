"""Races on the waiting list, on real connections (PostgreSQL row locks, SQLite BEGIN IMMEDIATE):
confirmations, offers being accepted, offers lapsing, offer rounds and a capacity cut, all at once
against one performance. Confirmed plus held seats never exceed the seats there are, and after a
worker's round no seat stays free while a party that fits is waiting.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db, errors
from azctl.models import Performance, WaitlistEntry, WaitlistStatus
from azctl.services import booking, capacity, times, waitlist
from azctl.services.capacity import SeatCounts
from tests.services.helpers import (
    RACE_APPLICATION,
    PostgresLockWatch,
    Race,
    SqliteLockLog,
    committed_seats,
    performance_row,
)
from tests.services.waitlist_helpers import join, offer_token

ROUNDS = 3
ROOM = 30


@pytest.fixture
def race(database_url: str, engine: Engine) -> Iterator[Race]:
    pool = {"pool_size": 45, "max_overflow": 5}
    watch: PostgresLockWatch | SqliteLockLog
    if database_url.startswith("sqlite"):
        racers = db.create_engine(database_url, **pool)
        watch = SqliteLockLog(racers)
    else:
        racers = db.create_engine(
            database_url, connect_args={"application_name": RACE_APPLICATION}, **pool
        )
        watch = PostgresLockWatch(engine)
    yield Race(racers, watch)
    racers.dispose()


def held_seats(engine: Engine, performance_id: int) -> int:
    """Seats of open offers, summed from the rows as committed."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(WaitlistEntry.party_size), 0)).where(
                    WaitlistEntry.performance_id == performance_id,
                    WaitlistEntry.status == WaitlistStatus.OFFERED,
                )
            ).scalar_one()
        )


def waiting_parties(engine: Engine, performance_id: int) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(WaitlistEntry.party_size).where(
                    WaitlistEntry.performance_id == performance_id,
                    WaitlistEntry.status == WaitlistStatus.WAITING,
                )
            ).scalars()
        )


def assert_never_overbooked(engine: Engine, performance: Performance) -> int:
    stored = performance_row(engine, performance.id)
    total = stored.room_capacity + stored.additional_seats
    taken = committed_seats(engine, performance.id) + held_seats(engine, performance.id)
    assert taken + stored.manually_occupied_seats <= total
    return total - stored.manually_occupied_seats - taken


def test_confirmations_acceptances_lapses_rounds_and_a_cut_never_overbook(
    race, engine, session, make_performance, book, confirmed
):
    rng = random.Random(13)
    waited = False
    for round_number in range(ROUNDS):
        performance = make_performance(
            capacity=ROOM, starts_in=timedelta(hours=30, minutes=round_number)
        )
        pendings = [book(performance, rng.randint(1, 3)) for _ in range(10)]
        parties = [confirmed(performance, 2) for _ in range(ROOM // 2)]  # sold out
        joined = [join(session, performance, rng.randint(1, 4)) for _ in range(14)]
        now = times.now_utc()
        # Offers made a day ago have lapsed by now (held 12 h); those made now are open.
        for party in parties[:4]:
            booking.cancel_reservation(session, reference=party.reservation.reference)
        waitlist.offer_round(engine, now - timedelta(hours=13))
        for party in parties[4:7]:
            booking.cancel_reservation(session, reference=party.reservation.reference)
        waitlist.offer_round(engine, now)
        offered = [
            j
            for j in joined
            if waitlist.entries.get_entry(session, reference=j.entry.reference).status
            == WaitlistStatus.OFFERED
        ]
        assert offered, "the set-up made no offer"

        cut = ROOM - rng.randint(1, 6)
        jobs: list[Callable[[Session], Any]] = [
            *(partial(booking.confirm_booking, token=p.confirm_token) for p in pendings),
            *(
                partial(waitlist.accept_offer, token=offer_token(engine, j.entry.reference))
                for j in offered
            ),
            lambda _s: waitlist.lapse_offers(race.engine, times.now_utc()),
            lambda _s: waitlist.lapse_offers(race.engine, times.now_utc()),
            lambda _s: waitlist.offer_round(race.engine, times.now_utc()),
            lambda _s: waitlist.offer_round(race.engine, times.now_utc()),
            partial(capacity.change_capacity, performance_id=performance.id, room_capacity=cut),
        ]
        rng.shuffle(jobs)
        results = race.run(jobs)
        waited = waited or bool(race.waits)
        for result in results:
            ok = isinstance(result, booking.ConfirmedBooking | SeatCounts | int)
            refused = isinstance(
                result, errors.SoldOut | errors.TokenExpired | errors.CapacityConflict
            )
            assert ok or refused, repr(result)
        assert_never_overbooked(engine, performance)

        # The worker's next round: every lapsed offer passed on, nothing left that a party fits.
        waitlist.lapse_offers(engine, times.now_utc())
        waitlist.offer_round(engine, times.now_utc())
        free = assert_never_overbooked(engine, performance)
        assert all(size > free for size in waiting_parties(engine, performance.id)), (
            free,
            waiting_parties(engine, performance.id),
        )
    assert waited, "no racer ever waited for another's lock"
