"""The lock order (docs/architecture.md, "Lock order"), taken in one place: `db.lock_performances`
sorts, refuses to run outside `db.write()`, and a check-in racing a cancellation of the same
booking never deadlocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from azctl import db, errors
from azctl.services import booking, checkin


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine runs while the test does."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_locks_are_taken_in_ascending_id_whatever_order_they_are_asked_in(
    session, engine, backend, make_performance, statements
):
    first = make_performance(starts_in=timedelta(hours=2))
    second = make_performance(starts_in=timedelta(hours=3))
    third = make_performance(starts_in=timedelta(hours=4))
    ids = [third.id, first.id, second.id, third.id]

    statements.clear()
    with db.write(session):
        locked = db.lock_performances(session, ids)

    assert sorted(locked) == sorted({first.id, second.id, third.id})
    locks = [s for s in statements if s.startswith("SELECT") and "FROM performance" in s]
    assert len(locks) == 3
    if backend == "postgresql":
        assert all(s.endswith("FOR UPDATE") for s in locks)


def test_a_shared_lock_is_a_key_share_on_postgresql(session, backend, make_performance, statements):
    performance = make_performance()
    statements.clear()
    with db.write(session):
        db.lock_performances(session, [performance.id], shared=True)
    locks = [s for s in statements if "FROM performance" in s]
    assert locks
    if backend == "postgresql":
        assert locks[-1].endswith("FOR KEY SHARE")


def test_the_ascending_order_is_the_order_the_rows_are_locked_in(session, engine, make_performance):
    a, b = make_performance(), make_performance(starts_in=timedelta(hours=5))
    order: list[int] = []
    real = db._performance_lock

    def spy(condition, *, shared=False):
        order.append(int(condition.right.value))
        return real(condition, shared=shared)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "_performance_lock", spy)
        with db.write(session):
            db.lock_performances(session, [b.id, a.id])
    assert order == sorted([a.id, b.id])


def test_a_lock_outside_a_write_is_refused(session, make_performance):
    performance = make_performance()
    with pytest.raises(RuntimeError, match=r"only inside db\.write"):
        db.lock_performances(session, [performance.id])
    with pytest.raises(RuntimeError, match=r"only inside db\.write"):
        db.lock_performance(session, performance.id)
    with db.write(session):
        assert db.lock_performance(session, performance.id).id == performance.id
    with pytest.raises(RuntimeError):  # the write is over: so is the permission
        db.lock_performance(session, performance.id)


def test_a_missing_performance_is_not_found(session):
    with db.write(session), pytest.raises(errors.NotFound):
        db.lock_performance(session, 4242)


CANCELLATIONS = {
    "by staff": lambda session, ticket: booking.cancel_reservation(
        session, reference=ticket.reservation.reference
    ),
    "from the ticket": lambda session, ticket: booking.cancel_by_ticket(
        session, token=ticket.ticket_token
    ),
}


@pytest.mark.parametrize("how", list(CANCELLATIONS))
def test_check_in_racing_a_cancellation_of_the_same_booking_never_deadlocks(
    database_url, engine, make_performance, confirmed, how
):
    """A check-in inserts rows that reference the reservation and the performance; done before
    the performance lock, it would wait in a circle with a cancellation holding that lock."""
    cancel_booking = CANCELLATIONS[how]
    race = db.create_engine(database_url)
    performance = make_performance(starts_in=timedelta(minutes=30))
    outcomes: list[tuple[str, str]] = []
    try:
        for _ in range(12):
            ticket = confirmed(performance, 1)
            barrier = threading.Barrier(2)
            answers: dict[str, str] = {}

            def scan(ticket=ticket, barrier=barrier, answers=answers) -> None:
                with db.new_session(race) as session:
                    session.connection()
                    barrier.wait(timeout=30)
                    answers["scan"] = checkin.scan(
                        session, text=ticket.ticket_token, performance_id=performance.id
                    ).result

            def cancel(ticket=ticket, barrier=barrier, answers=answers) -> None:
                with db.new_session(race) as session:
                    session.connection()
                    barrier.wait(timeout=30)
                    try:
                        cancel_booking(session, ticket)
                        answers["cancel"] = "cancelled"
                    except errors.InvalidState:
                        answers["cancel"] = "refused"

            threads = [threading.Thread(target=scan), threading.Thread(target=cancel)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads), "a racer hung"
            outcomes.append((answers.get("scan", "?"), answers.get("cancel", "?")))
    finally:
        race.dispose()
    # Each pair ends as one of the two orders would have it: admitted then not cancellable, or
    # cancelled then not admitted. Anything else (a deadlock, a lost thread) shows as "?".
    assert set(outcomes) <= {("ok", "refused"), ("not_confirmed", "cancelled")}, outcomes
