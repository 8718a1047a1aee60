"""Doors racing over one party, on real connections (one session per thread, released together by
a barrier; `tests/services/helpers.Race`), on PostgreSQL and on SQLite.

Two doors admitting one ticket, two doors letting one party back in (or out) after the interval,
an offline admission uploaded while another door scans the same ticket online, and one scan sent
twice at once with its nonce: each race ends as one order or the other would have ended it,
checked on the rows as committed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db
from azctl.models import CheckIn, DoorPass, Staff
from azctl.services import checkin, checkin_offline, door_copy, staff, times
from azctl.services.checkin import ScanOutcome
from azctl.services.door_counts import DoorCounts, DoorTally
from tests.services.door_helpers import counts, rows
from tests.services.helpers import RACE_APPLICATION, PostgresLockWatch, Race, SqliteLockLog

ROUNDS = 8
Job = Callable[[Session], Any]


@pytest.fixture
def race(database_url: str, engine: Engine) -> Iterator[Race]:
    """A race engine with a connection for every racer (`engine` migrates and empties)."""
    watch: PostgresLockWatch | SqliteLockLog
    if database_url.startswith("sqlite"):
        racers = db.create_engine(database_url)
        watch = SqliteLockLog(racers)
    else:
        racers = db.create_engine(database_url, connect_args={"application_name": RACE_APPLICATION})
        watch = PostgresLockWatch(engine)
    yield Race(racers, watch)
    racers.dispose()


@pytest.fixture
def doors(session: Session) -> tuple[Staff, Staff]:
    """Anna at the main door, Bruno at the side door."""
    return (
        staff.add_staff(session, username="anna", role="box_office")[0],
        staff.add_staff(session, username="bruno", role="box_office")[0],
    )


def scan_at(door: str, member: Staff, token: str, performance_id: int, **options: Any) -> Job:
    def job(session: Session) -> ScanOutcome:
        return checkin.scan(
            session, text=token, performance_id=performance_id, staff=member, door=door, **options
        )

    return job


def manual_at(door: str, member: Staff, reference: str, performance_id: int) -> Job:
    def job(session: Session) -> ScanOutcome:
        return checkin.manual(
            session, reference=reference, performance_id=performance_id, staff=member, door=door
        )

    return job


def upload_at(door: str, member: Staff, performance_id: int, **entry: Any) -> Job:
    """A door's journalled pass recorded once the database is back: nonce, passed_at, and the
    token's HMAC or the reference."""

    def job(session: Session) -> ScanOutcome:
        return checkin_offline.record_offline(
            session, performance_id=performance_id, door=door, staff=member, **entry
        )

    return job


def later(delay: float, job: Job) -> Job:
    """The job started `delay` seconds after the others: the rounds meet at different points."""

    def delayed(session: Session) -> Any:
        time.sleep(delay)
        return job(session)

    return delayed


def staggered(round_number: int, first: Job, second: Job) -> list[Job]:
    """The two jobs, the first started up to 20 ms later in the early rounds, the second in the
    late ones, closer together near the middle."""
    step = 0.02 * (2 * round_number / (ROUNDS - 1) - 1) ** 3
    return [later(max(-step, 0.0), first), later(max(step, 0.0), second)]


def answers(outcomes: list[Any]) -> Counter[str]:
    for outcome in outcomes:
        assert isinstance(outcome, ScanOutcome), repr(outcome)
    return Counter(outcome.result.value for outcome in outcomes)


def night(make_performance: Callable[..., Any], round_number: int) -> Any:
    return make_performance(capacity=10, starts_in=timedelta(hours=2, minutes=round_number))


def test_two_doors_admitting_one_ticket_at_once_admit_it_once(
    race, engine, make_performance, confirmed, doors
):
    anna, bruno = doors
    waited = 0
    for round_number in range(ROUNDS):
        performance = night(make_performance, round_number)
        ticket = confirmed(performance, 3)
        side = (
            manual_at("side", bruno, ticket.reservation.reference, performance.id)
            if round_number % 2
            else scan_at("side", bruno, ticket.ticket_token, performance.id)
        )
        outcomes = race.run([scan_at("main", anna, ticket.ticket_token, performance.id), side])
        waited += bool(race.waits)

        assert answers(outcomes) == {"ok": 1, "already_checked_in": 1}, round_number
        winner, loser = sorted(outcomes, key=lambda outcome: not outcome.admitted)
        assert (loser.checked_in_at, loser.checked_in_by) == (
            winner.checked_in_at,
            winner.checked_in_by,
        )
        [row] = rows(engine, CheckIn, reservation_id=ticket.reservation.id)
        assert row.door == winner.door
        [door_pass] = rows(engine, DoorPass, reservation_id=ticket.reservation.id)
        assert (door_pass.door, door_pass.direction, door_pass.forced) == (winner.door, "in", False)
        assert counts(engine, performance) == DoorCounts(
            doors=(DoorTally(winner.door, 3, 0),), admitted_seats=3, inside_seats=3, conflicts=0
        )
    # Contention, not just demand: in some round a door queued behind the other.
    assert waited, "no door ever waited for the other"


@pytest.mark.parametrize(
    ("before", "way", "refused"),
    [(("in", "out"), "in", "already_checked_in"), (("in",), "out", "not_inside")],
    ids=["back in after the interval", "out at the interval"],
)
def test_two_doors_passing_one_party_the_same_way_at_once_pass_it_once(
    before, way, refused, race, engine, make_performance, confirmed, doors
):
    anna, bruno = doors
    waited = 0
    for round_number in range(ROUNDS):
        performance = night(make_performance, round_number)
        ticket = confirmed(performance, 2)
        first_at = times.now_utc() - timedelta(minutes=30)
        with db.new_session(engine) as session:
            for step, direction in enumerate(before):
                checkin.scan(
                    session,
                    text=ticket.ticket_token,
                    performance_id=performance.id,
                    door="main",
                    direction=direction,
                    now=first_at + timedelta(minutes=step),
                )
        outcomes = race.run(
            [
                scan_at(door, member, ticket.ticket_token, performance.id, direction=way)
                for door, member in (("main", anna), ("side", bruno))
            ]
        )
        waited += bool(race.waits)

        assert answers(outcomes) == {"ok": 1, refused: 1}, round_number
        [winner] = [outcome for outcome in outcomes if outcome.admitted]
        assert winner.again is (way == "in")
        assert winner.checked_in_at == first_at
        passes = [
            (p.direction, p.door)
            for p in rows(engine, DoorPass, reservation_id=ticket.reservation.id)
        ]
        assert passes == [*((d, "main") for d in before), (way, winner.door)]
        [row] = rows(engine, CheckIn, reservation_id=ticket.reservation.id)
        assert (row.door, row.checked_in_at) == ("main", first_at)
        tallies = counts(engine, performance)
        assert (tallies.admitted_seats, tallies.inside_seats) == (2, 2 if way == "in" else 0)
    assert waited, "no door ever waited for the other"


def test_an_offline_admission_uploaded_while_another_door_scans_online_is_one_check_in(
    race, engine, session, make_performance, confirmed, doors
):
    anna, bruno = doors
    for round_number in range(ROUNDS):
        performance = night(make_performance, round_number)
        ticket = confirmed(performance, 4)
        # The side door lost the database and let the party in from its copy a minute ago.
        copy = door_copy.take_copy(session, performance_id=performance.id, door="side")
        passed_at = times.now_utc() - timedelta(minutes=1)
        assert copy.decide(text=ticket.ticket_token, now=passed_at, staff="bruno").admitted
        [entry] = copy.journal

        uploaded = upload_at(
            "side",
            bruno,
            performance.id,
            nonce=entry.nonce,
            passed_at=entry.passed_at,
            token_hash=entry.token_hash,
        )
        online = scan_at("main", anna, ticket.ticket_token, performance.id)
        offline_answer, online_answer = race.run(staggered(round_number, uploaded, online))

        assert answers([offline_answer, online_answer]) == {"ok": 1, "already_checked_in": 1}
        assert offline_answer.offline
        [row] = rows(engine, CheckIn, reservation_id=ticket.reservation.id)
        passes = [
            (p.door, p.forced, p.conflict)
            for p in rows(engine, DoorPass, reservation_id=ticket.reservation.id)
        ]
        if offline_answer.admitted:  # uploaded first: the main door heard the party is in
            assert (row.door, row.source, row.checked_in_at) == ("side", "offline", passed_at)
            assert online_answer.message.endswith("by bruno (side door)")
            assert passes == [("side", False, None)]
        else:  # scanned first: the party was let in twice, and the upload says so
            assert (row.door, row.source) == ("main", "qr_scan")
            assert passes == [("main", False, None), ("side", True, "already_checked_in")]
        forced = int(not offline_answer.admitted)
        assert counts(engine, performance) == DoorCounts(
            doors=(DoorTally(row.door, 4, 0),), admitted_seats=4, inside_seats=4, conflicts=forced
        )


def test_one_scan_sent_twice_at_once_with_its_nonce_is_recorded_once(
    race, engine, make_performance, confirmed, doors
):
    """A door's scan that seemed lost online, sent again from its journal while the first was
    still in the database."""
    anna, _bruno = doors
    for round_number in range(ROUNDS):
        performance = night(make_performance, round_number)
        ticket = confirmed(performance, 2)
        nonce = door_copy.new_nonce()
        passed_at = times.now_utc()
        online = scan_at("side", anna, ticket.ticket_token, performance.id, nonce=nonce)

        resent = upload_at(
            "side",
            anna,
            performance.id,
            nonce=nonce,
            passed_at=passed_at,
            reference=ticket.reservation.reference,
        )
        outcomes = race.run(staggered(round_number, online, resent))

        assert answers(outcomes) == {"ok": 2}, [o.message for o in outcomes]
        assert [
            (p.nonce, p.forced)
            for p in rows(engine, DoorPass, reservation_id=ticket.reservation.id)
        ] == [(nonce, False)]
        assert len(rows(engine, CheckIn, reservation_id=ticket.reservation.id)) == 1
        assert counts(engine, performance) == DoorCounts(
            doors=(DoorTally("side", 2, 0),), admitted_seats=2, inside_seats=2, conflicts=0
        )
