"""Races on real connections, one session per thread, released together by a barrier.

Every racer has checked out its connection and made its first round trip before the barrier, so
none is still connecting while the others race. Each race must show contention, not just demand:
at least one racer seen waiting for a lock another racer held. The invariants must hold on the rows
as committed, every round, on PostgreSQL (row locks) and on SQLite (a file database in WAL mode,
BEGIN IMMEDIATE).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import CheckIn, Reservation, ReservationToken, ScanLog, Staff
from azctl.services import booking, capacity, checkin, staff
from azctl.services.capacity import SeatCounts
from tests.services.helpers import (
    RACE_APPLICATION,
    PostgresLockWatch,
    Race,
    SqliteLockLog,
    committed_seats,
    messages,
    performance_row,
    seats,
)

CONFIRMATION_ROUNDS = 3
CHECK_IN_ROUNDS = 5
CAPACITY_ROUNDS = 4


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


def test_concurrent_confirmations_never_overbook_and_never_refuse_a_party_that_fits(
    race, engine, make_performance, book
):
    rng = random.Random(20261121)
    sold_out_seen = 0
    for round_number in range(CONFIRMATION_ROUNDS):
        performance = make_performance(
            capacity=22, additional=5, manual=2, starts_in=timedelta(hours=2, minutes=round_number)
        )
        bookings = [book(performance, rng.randint(1, 4)) for _ in range(40)]

        results = race.run(
            [partial(booking.confirm_booking, token=b.confirm_token) for b in bookings]
        )
        # Contention, not just demand: someone queued behind another's confirmation.
        assert race.waits, f"round {round_number}: no confirmation waited for the lock"

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
        held = sum(b.reservation.party_size for b in bookings if b.reservation.id in confirmed_ids)
        assert committed_seats(engine, performance.id) == held
        assert held <= 25
        counts = seats(engine, performance.id)
        assert counts.confirmed_seats == held
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
    member: Staff,
    token: str,
    reference: str,
    performance_id: int,
    by_reference: bool,
) -> checkin.ScanOutcome:
    """One door checking the ticket in, by scanning it or by its reference."""
    if by_reference:
        return checkin.manual(
            session, reference=reference, performance_id=performance_id, staff=member
        )
    return checkin.scan(session, text=token, performance_id=performance_id, staff=member)


def test_concurrent_check_ins_of_one_ticket_admit_it_exactly_once(
    race, engine, session, make_performance, confirmed
):
    doors = [
        staff.add_staff(session, username=f"door{number}", role="box_office")[0]
        for number in range(10)
    ]
    for round_number in range(CHECK_IN_ROUNDS):
        performance = make_performance(
            capacity=10, starts_in=timedelta(hours=2, minutes=round_number)
        )
        ticket = confirmed(performance, 3)
        mixed = round_number >= 3  # later rounds race scans against manual check-ins

        outcomes = race.run(
            [
                partial(
                    check_in_as,
                    member=member,
                    token=ticket.ticket_token,
                    reference=ticket.reservation.reference,
                    performance_id=performance.id,
                    by_reference=mixed and index % 2 == 1,
                )
                for index, member in enumerate(doors)
            ]
        )
        assert race.waits, f"round {round_number}: no door waited for another's check-in"
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


ROOM = 60
ADDITIONAL = 2


def test_a_capacity_cut_and_walk_ins_racing_confirmations_never_both_fit(
    race, engine, make_performance, book, confirmed
):
    """A cut and a batch of walk-ins that each fit alone but not together, raced against
    confirmations that fit whichever of the two goes through.

    Every round is built so that, in any order, the first of the two changes succeeds and the
    second is refused: so each round sees both outcomes of a capacity change, which one wins is
    up to the race, and a change judged on a stale count (no lock) lets both through.
    """
    rng = random.Random(7)
    for round_number in range(CAPACITY_ROUNDS):
        performance = make_performance(
            capacity=ROOM, additional=ADDITIONAL, starts_in=timedelta(hours=2, minutes=round_number)
        )
        already = sum(
            confirmed(performance, rng.randint(2, 4)).reservation.party_size for _ in "ab"
        )
        bookings = [book(performance, rng.randint(1, 2)) for _ in range(12)]
        pending = sum(b.reservation.party_size for b in bookings)
        # The cut still holds every party, confirmed or about to be...
        cut = already + pending + rng.randint(0, 2) - ADDITIONAL
        # ...and the walk-ins fit the room as it is, with every party, but not the cut room.
        walk_ins = cut + ADDITIONAL - already + 1 + rng.randint(0, 3)
        assert already + pending <= cut + ADDITIONAL < already + walk_ins
        assert already + pending + walk_ins <= ROOM + ADDITIONAL

        jobs: list[Callable[[Session], Any]] = [
            partial(booking.confirm_booking, token=b.confirm_token) for b in bookings
        ]
        changes = {
            "cut": partial(
                capacity.change_capacity, performance_id=performance.id, room_capacity=cut
            ),
            "walk-ins": partial(
                capacity.change_capacity, performance_id=performance.id, occupy=walk_ins
            ),
        }
        slots = sorted(rng.sample(range(len(jobs) + 2), 2))
        for slot, change in zip(slots, changes.values(), strict=True):
            jobs.insert(slot, change)
        results = race.run(jobs)
        assert race.waits, f"round {round_number}: no one waited for the performance lock"
        placed = list(zip(changes, slots, strict=True))
        change_results = {name: results.pop(slot) for name, slot in reversed(placed)}

        for result in results:
            assert isinstance(result, booking.ConfirmedBooking), repr(result)
        applied = [
            name for name, result in change_results.items() if isinstance(result, SeatCounts)
        ]
        assert len(applied) == 1, change_results
        [winner] = applied
        [loser] = set(changes) - {winner}
        assert isinstance(change_results[loser], errors.CapacityConflict), change_results
        assert change_results[loser].code == "capacity_conflict"

        # The rows as committed: the winner's change, every party, and no seat sold twice.
        stored = performance_row(engine, performance.id)
        if winner == "cut":
            assert (stored.room_capacity, stored.manually_occupied_seats) == (cut, 0)
        else:
            assert (stored.room_capacity, stored.manually_occupied_seats) == (ROOM, walk_ins)
        assert stored.additional_seats == ADDITIONAL
        booked = committed_seats(engine, performance.id)
        assert booked == already + pending
        assert booked + stored.manually_occupied_seats <= stored.room_capacity + ADDITIONAL
        assert seats(engine, performance.id).confirmed_seats == booked
