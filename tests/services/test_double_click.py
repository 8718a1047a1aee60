"""Two use cases on one booking at the same moment (issue 10), through the services, on both
backends: a double-click on Confirm, Confirm against the cancel link, Confirm against `res resend`.

Each thread has a session of its own on an engine of its own, and a barrier starts them together.
Every race must end as one of the two orders would have ended it. A deadlock (PostgreSQL fails
one of the two transactions) or a busy database (SQLite) is a failure: the booking was fine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from azctl import db, errors
from azctl.models import Performance, Reservation
from azctl.services import booking
from tests.services.helpers import fresh, messages, tokens_of

ROUNDS = 20
RACE_DEADLINE = 60.0
# The rounds of a mixed race start one side later than the other by steps from -SPREAD to
# +SPREAD seconds, closer together near 0, so that they meet at every point of each other's
# transaction (most often where both are in one).
SPREAD = 0.01

Job = Callable[[Session], Any]


@pytest.fixture
def race_engine(database_url: str, engine: Engine) -> Iterator[Engine]:
    """An engine of its own, a connection for each thread (`engine` migrates and empties)."""
    made = db.create_engine(database_url)
    yield made
    made.dispose()


def race(engine: Engine, *jobs: Job) -> list[Any]:
    """Run each job in a thread with a session of its own, released together; returns what each
    returned or raised. Neither may have met the database's own trouble."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(index: int, job: Job) -> None:
        try:
            with db.new_session(engine) as session:
                barrier.wait(timeout=RACE_DEADLINE)
                results[index] = job(session)
        except BaseException as exc:  # handed back to the test's own thread
            results[index] = exc

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_DEADLINE)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    troubled = [r for r in results if isinstance(r, DBAPIError | errors.Unavailable)]
    assert not troubled, f"the database failed a racer: {troubled!r}"
    return results


def later(delay: float, job: Job) -> Job:
    def delayed(session: Session) -> Any:
        time.sleep(delay)
        return job(session)

    return delayed


def staggered(round_number: int, first: Job, second: Job) -> tuple[Job, Job]:
    """The two jobs, the first started later in the early rounds, the second in the late ones."""
    step = SPREAD * (2 * round_number / (ROUNDS - 1) - 1) ** 3
    return later(max(-step, 0.0), first), later(max(step, 0.0), second)


def confirm(token: str) -> Job:
    return lambda session: booking.confirm_booking(session, token=token)


def tickets_of(engine: Engine, reservation_id: int) -> tuple[list[bool], int]:
    """Whether each check-in token of the booking is revoked, and how many ticket mails it has."""
    revoked = [t.revoked_at is not None for t in tokens_of(engine, reservation_id, "check_in")]
    return revoked, len(messages(engine, reservation_id=reservation_id, kind="ticket"))


def bookings(
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
) -> list[booking.SubmittedBooking]:
    performance = make_performance(capacity=2 * ROUNDS, starts_in=timedelta(hours=3))
    return [book(performance, 2) for _ in range(ROUNDS)]


def test_a_double_click_confirms_once_and_the_other_click_is_told_it_is_used(
    race_engine: Engine, engine: Engine, make_performance, book
) -> None:
    for submitted in bookings(make_performance, book):
        results = race(
            race_engine, confirm(submitted.confirm_token), confirm(submitted.confirm_token)
        )

        confirmed = [r for r in results if isinstance(r, booking.ConfirmedBooking)]
        used = [r for r in results if isinstance(r, errors.TokenUsed)]
        assert (len(confirmed), len(used)) == (1, 1), repr(results)
        reservation_id = submitted.reservation.id
        assert fresh(engine, Reservation, reservation_id).status == "confirmed"
        assert tickets_of(engine, reservation_id) == ([False], 1)


def test_confirm_racing_the_cancel_link_ends_as_one_order_or_the_other(
    race_engine: Engine, engine: Engine, make_performance, book
) -> None:
    for round_number, submitted in enumerate(bookings(make_performance, book)):
        confirmed, cancelled = race(
            race_engine,
            *staggered(
                round_number,
                confirm(submitted.confirm_token),
                lambda session, token=submitted.cancel_token: booking.cancel_by_token(
                    session, token=token
                ),
            ),
        )

        assert isinstance(cancelled, Reservation), repr(cancelled)
        reservation_id = submitted.reservation.id
        row = fresh(engine, Reservation, reservation_id)
        assert row.status == "cancelled"
        if isinstance(confirmed, booking.ConfirmedBooking):  # confirmed, then cancelled
            assert row.confirmed_at is not None
            assert tickets_of(engine, reservation_id) == ([False], 1)
        else:  # cancelled first: the confirmation finds the booking cancelled
            assert isinstance(confirmed, errors.TokenUsed), repr(confirmed)
            assert row.confirmed_at is None
            assert tickets_of(engine, reservation_id) == ([], 0)


def test_confirm_racing_resend_ends_as_one_order_or_the_other(
    race_engine: Engine, engine: Engine, make_performance, book
) -> None:
    for round_number, submitted in enumerate(bookings(make_performance, book)):
        confirmed, resent = race(
            race_engine,
            *staggered(
                round_number,
                confirm(submitted.confirm_token),
                lambda session, reference=submitted.reservation.reference: booking.resend(
                    session, reference=reference
                ),
            ),
        )

        assert isinstance(resent, Reservation), repr(resent)
        reservation_id = submitted.reservation.id
        row = fresh(engine, Reservation, reservation_id)
        links = tokens_of(engine, reservation_id, "confirmation")
        if isinstance(confirmed, booking.ConfirmedBooking):  # confirmed, then a new ticket sent
            assert row.status == "confirmed"
            assert [(t.used_at is not None, t.revoked_at is not None) for t in links] == [
                (True, False)
            ]
            assert tickets_of(engine, reservation_id) == ([True, False], 2)
        else:  # a new link sent first: the old one no longer confirms
            assert isinstance(confirmed, errors.InvalidToken), repr(confirmed)
            assert row.status == "pending"
            assert [(t.used_at is not None, t.revoked_at is not None) for t in links] == [
                (False, True),
                (False, False),
            ]
            assert tickets_of(engine, reservation_id) == ([], 0)
