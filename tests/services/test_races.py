"""Races on real connections, one session per thread, started together by a barrier.

Each race runs a few bounded rounds: the invariants must hold every time, on PostgreSQL (row locks)
and on SQLite (a file database in WAL mode, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import CheckIn, Reservation, ReservationToken, ScanLog
from azctl.services import booking, capacity, checkin, staff
from azctl.services.capacity import SeatCounts
from tests.services.helpers import messages, performance_row, seats

CONFIRMATION_ROUNDS = 3
CHECK_IN_ROUNDS = 5
CAPACITY_ROUNDS = 4


@pytest.fixture
def race_engine(database_url: str, engine: Engine) -> Iterator[Engine]:
    """An engine of its own with a connection for every thread (`engine` migrates and empties)."""
    if database_url.startswith("sqlite"):
        made = db.create_engine(database_url)
    else:
        made = db.create_engine(database_url, pool_size=45, max_overflow=5)
    yield made
    made.dispose()


def run_together(engine: Engine, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    """Run each job in a thread with a session of its own, all released at once; returns what
    each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(index: int, job: Callable[[Session], Any]) -> None:
        try:
            with db.new_session(engine) as session:
                barrier.wait(timeout=60)
                results[index] = job(session)
        except BaseException as exc:  # handed back to the test's own thread
            results[index] = exc

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


def test_concurrent_confirmations_never_overbook_and_never_refuse_a_party_that_fits(
    race_engine, engine, make_performance, book
):
    rng = random.Random(20261121)
    sold_out_seen = 0
    for round_number in range(CONFIRMATION_ROUNDS):
        performance = make_performance(
            capacity=22, additional=5, manual=2, starts_in=timedelta(hours=2, minutes=round_number)
        )
        bookings = [book(performance, rng.randint(1, 4)) for _ in range(40)]

        results = run_together(
            race_engine, [partial(booking.confirm_booking, token=b.confirm_token) for b in bookings]
        )

        confirmed_ids = set()
        for submitted, result in zip(bookings, results, strict=True):
            party = submitted.reservation.party_size
            if isinstance(result, booking.ConfirmedBooking):
                confirmed_ids.add(submitted.reservation.id)
            else:
                assert isinstance(result, errors.SoldOut), repr(result)
                sold_out_seen += 1
                # Refused only when the seats left at that moment could not hold the party.
                assert result.details["available"] < party
        counts = seats(engine, performance.id)
        held = sum(b.reservation.party_size for b in bookings if b.reservation.id in confirmed_ids)
        assert counts.confirmed_seats == held
        assert held <= 25
        assert counts.available_seats == 25 - held

        with db.new_session(engine) as session:
            statuses = dict(
                session.exec(
                    select(Reservation.id, Reservation.status).where(
                        Reservation.performance_id == performance.id
                    )
                ).all()
            )
            issued = Counter(
                (token.reservation_id, token.purpose, token.used_at is not None)
                for token in session.exec(
                    select(ReservationToken).where(
                        col(ReservationToken.reservation_id).in_(list(statuses))
                    )
                )
            )
        for submitted in bookings:
            reservation_id = submitted.reservation.id
            if reservation_id in confirmed_ids:
                assert statuses[reservation_id] == "confirmed"
                assert issued[reservation_id, "confirmation", True] == 1
                assert issued[reservation_id, "check_in", False] == 1
            else:
                assert statuses[reservation_id] == "pending"
                # No pending party would have fitted in what is left.
                assert submitted.reservation.party_size > counts.available_seats
                assert issued[reservation_id, "confirmation", False] == 1
                assert issued[reservation_id, "confirmation", True] == 0
                assert issued[reservation_id, "check_in", False] == 0
        tickets = [m.reservation_id for m in messages(engine, kind="ticket")]
        assert sorted(r for r in tickets if r in statuses) == sorted(confirmed_ids)
    # 40 parties of 1-4 against 25 seats: the race must have turned some away.
    assert sold_out_seen > 0


def check_in_as(
    session: Session,
    *,
    username: str,
    token: str,
    reference: str,
    performance_id: int,
    by_reference: bool,
) -> checkin.ScanOutcome:
    """One door checking the ticket in, by scanning it or by its reference."""
    member = staff.get_staff(session, username=username)
    if by_reference:
        return checkin.manual(
            session,
            reference=reference,
            performance_id=performance_id,
            staff=member,
        )
    return checkin.scan(session, text=token, performance_id=performance_id, staff=member)


def test_concurrent_check_ins_of_one_ticket_admit_it_exactly_once(
    race_engine, engine, session, make_performance, confirmed
):
    usernames = [f"door{number}" for number in range(10)]
    for username in usernames:
        staff.add_staff(session, username=username, role="box_office")
    for round_number in range(CHECK_IN_ROUNDS):
        performance = make_performance(
            capacity=10, starts_in=timedelta(hours=2, minutes=round_number)
        )
        ticket = confirmed(performance, 3)
        mixed = round_number >= 3  # later rounds race scans against manual check-ins

        outcomes = run_together(
            race_engine,
            [
                partial(
                    check_in_as,
                    username=username,
                    token=ticket.ticket_token,
                    reference=ticket.reservation.reference,
                    performance_id=performance.id,
                    by_reference=mixed and index % 2 == 1,
                )
                for index, username in enumerate(usernames)
            ],
        )
        for outcome in outcomes:
            assert isinstance(outcome, checkin.ScanOutcome), repr(outcome)
        assert Counter(o.result.value for o in outcomes) == {"ok": 1, "already_checked_in": 9}
        [winner] = [o for o in outcomes if o.admitted]
        for outcome in outcomes:
            if not outcome.admitted:
                assert outcome.checked_in_by == winner.checked_in_by
                assert outcome.checked_in_at == winner.checked_in_at

        with db.new_session(engine) as fresh_session:
            rows = fresh_session.exec(
                select(CheckIn).where(CheckIn.reservation_id == ticket.reservation.id)
            ).all()
            logs = fresh_session.exec(
                select(ScanLog.result).where(ScanLog.performance_id == performance.id)
            ).all()
        assert len(rows) == 1
        assert Counter(logs) == {"ok": 1, "already_checked_in": 9}
        assert seats(engine, performance.id).checked_in_seats == 3


def test_a_capacity_cut_racing_confirmations_never_leaves_seats_overbooked(
    race_engine, engine, make_performance, book
):
    rng = random.Random(7)
    outcomes_seen: Counter[str] = Counter()
    for round_number in range(CAPACITY_ROUNDS):
        performance = make_performance(
            capacity=30, additional=2, starts_in=timedelta(hours=2, minutes=round_number)
        )
        bookings = [book(performance, rng.randint(1, 3)) for _ in range(20)]
        cut = rng.randint(10, 24)
        walk_ins = rng.randint(1, 6)

        jobs: list[Callable[[Session], Any]] = [
            partial(booking.confirm_booking, token=b.confirm_token) for b in bookings
        ]
        jobs.insert(
            7, partial(capacity.change_capacity, performance_id=performance.id, room_capacity=cut)
        )
        jobs.insert(
            14, partial(capacity.change_capacity, performance_id=performance.id, occupy=walk_ins)
        )
        results = run_together(race_engine, jobs)
        occupy_result = results.pop(14)
        cut_result = results.pop(7)

        for submitted, result in zip(bookings, results, strict=True):
            if not isinstance(result, booking.ConfirmedBooking):
                assert isinstance(result, errors.SoldOut), repr(result)
                assert result.details["available"] < submitted.reservation.party_size

        stored = performance_row(engine, performance.id)
        counts = seats(engine, performance.id)
        # The invariant, whoever won.
        assert counts.confirmed_seats + stored.manually_occupied_seats <= stored.total_seats

        # Confirmed and occupied seats only grow during the race, so a refusal must still be
        # justified by the final state.
        if isinstance(cut_result, SeatCounts):
            outcomes_seen["cut applied"] += 1
            assert stored.room_capacity == cut
        else:
            assert isinstance(cut_result, errors.CapacityConflict), repr(cut_result)
            assert cut_result.code == "capacity_conflict"
            outcomes_seen["cut refused"] += 1
            assert stored.room_capacity == 30
            assert counts.confirmed_seats + stored.manually_occupied_seats > cut + 2
        if isinstance(occupy_result, SeatCounts):
            assert stored.manually_occupied_seats == walk_ins
        else:
            assert isinstance(occupy_result, errors.CapacityConflict), repr(occupy_result)
            assert stored.manually_occupied_seats == 0
            assert counts.available_seats < walk_ins
    assert sum(outcomes_seen.values()) == CAPACITY_ROUNDS
