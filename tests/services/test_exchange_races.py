"""Exchanges racing each other and confirmations, on real connections (DESIGN §3 "Lock order").

Exchanges A→B and B→A, and confirmations on A and on B, are released together. Each exchange
locks both performances in ascending id, then the booking; a confirmation locks its one
performance, then the booking. With one order for everyone there is no cycle, so no deadlock,
and the seats are recounted under the locks, so no overbooking.

Taken the other way, it deadlocks. Tried once: with `db.lock_performances` made to lock in
the order it was given (the booking's performance first, then the target), the first round of
`test_exchanges_in_both_directions_...` on PostgreSQL failed with
`psycopg.errors.DeadlockDetected: deadlock detected`, a cycle of five racers ("Process 19967
waits for AccessExclusiveLock on tuple (0,1) of relation …; blocked by process 19960. Process
19960 waits for ShareLock on transaction …; …"): A→B exchanges holding A and waiting for B,
B→A exchanges holding B and waiting for A, confirmations queued behind both. Sorted again, the
same test passes every round. `test_locking_in_the_order_asked_deadlocks` keeps the smallest
form of that demonstration: two transactions, each holding one performance and then asking for
the other, on PostgreSQL.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from azctl import db, errors
from azctl.models import Performance, Reservation
from azctl.services import booking
from tests.services.helpers import (
    RACE_APPLICATION,
    PostgresLockWatch,
    Race,
    SqliteLockLog,
    committed_seats,
)

ROUNDS = 3


@pytest.fixture
def race(database_url: str, engine: Engine) -> Iterator[Race]:
    """A race engine with a connection for every racer (`engine` migrates and empties)."""
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


def _move(session, *, reference: str, to: int):
    return booking.move_reservation(session, reference=reference, to_performance_id=to)


def test_exchanges_in_both_directions_and_confirmations_never_deadlock_nor_overbook(
    race, engine, make_performance, book, confirmed
):
    rng = random.Random(20270312)
    refused_seen = 0
    for round_number in range(ROUNDS):
        a = make_performance(capacity=16, starts_in=timedelta(days=2, minutes=round_number))
        b = make_performance(capacity=16, starts_in=timedelta(days=3, minutes=round_number))
        on_a = [confirmed(a, rng.randint(1, 3)) for _ in range(5)]
        on_b = [confirmed(b, rng.randint(1, 3)) for _ in range(5)]
        pending = [book(rng.choice((a, b)), rng.randint(1, 3)) for _ in range(12)]
        moves = [(t.reservation, b.id) for t in on_a] + [(t.reservation, a.id) for t in on_b]
        jobs = [partial(_move, reference=r.reference, to=to) for r, to in moves]
        jobs += [partial(booking.confirm_booking, token=p.confirm_token) for p in pending]
        order = list(range(len(jobs)))
        rng.shuffle(order)

        shuffled = race.run([jobs[i] for i in order])
        results = [None] * len(jobs)
        for position, index in enumerate(order):
            results[index] = shuffled[position]
        assert race.waits, f"round {round_number}: nobody waited for a lock"

        for result in results:
            # A refusal for want of seats is an answer; a deadlock, a timeout or anything
            # else is a failure of the lock order.
            assert isinstance(
                result,
                booking.MovedBooking
                | booking.ConfirmedBooking
                | errors.NotEnoughSeats
                | errors.SoldOut,
            ), repr(result)
            refused_seen += isinstance(result, errors.NotEnoughSeats | errors.SoldOut)
        with db.new_session(engine) as session:
            where = dict(session.exec(select(Reservation.id, Reservation.performance_id)).all())
        for (reservation, to), result in zip(moves, results[: len(moves)], strict=True):
            moved = isinstance(result, booking.MovedBooking)
            assert where[reservation.id] == (to if moved else reservation.performance_id)
        for performance in (a, b):
            assert committed_seats(engine, performance.id) <= 16
    # Full houses both ways: some exchange or confirmation must have been turned away.
    assert refused_seen > 0


def test_locking_in_the_order_asked_deadlocks(backend, engine, make_performance):
    """What the ascending order prevents: A then B against B then A (PostgreSQL row locks)."""
    if backend != "postgresql":
        pytest.skip("SQLite has one write lock, taken at BEGIN: no order of rows to get wrong")
    a, b = make_performance(), make_performance(starts_in=timedelta(hours=5))
    racers = db.create_engine(engine.url.render_as_string(hide_password=False))
    both_hold_one = threading.Barrier(2)
    failures: list[BaseException] = []

    def lock(first: int, second: int) -> None:
        try:
            with racers.connect() as connection, connection.begin():
                statement = sa.select(Performance.id).with_for_update()
                connection.execute(statement.where(Performance.id == first))
                both_hold_one.wait(timeout=30)
                connection.execute(statement.where(Performance.id == second))
        except sa.exc.OperationalError as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=lock, args=(a.id, b.id)),
        threading.Thread(target=lock, args=(b.id, a.id)),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        racers.dispose()
    assert len(failures) == 1
    assert "deadlock detected" in str(failures[0])
