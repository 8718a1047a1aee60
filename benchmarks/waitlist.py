"""The waiting list after a wave of cancellations: how many worker rounds, and how many seconds,
until every freed seat is offered.

One sold-out performance: 400 confirmed bookings of 1 to 4 seats fill it exactly, and 400 parties
of 1 to 4 join its waiting list (through the services, as visitors would, mails and all). Then
200 of the confirmed visitors cancel from their tickets, and the worker runs its rounds in this
process (`worker.run_round`, every kind: mail, lapses, offers, reminders…), one after another,
until no seat is free that a waiting party fits in. The goal is within 2 rounds. The seconds are
the rounds' wall time, and each kind's share of it (the first round also sends the 200
cancellation mails, to `.eml` files here).

    python benchmarks/waitlist.py --database-url postgresql+psycopg://USER@HOST/DB [--quick]

Checks: after the rounds, no seat is free while a fitting party waits; confirmed plus held seats
never exceed the capacity; the offers went in joining order (exactly the parties a walk down the
list in joining order, offering each one that fits, would have chosen); every offer has its mail
queued; within 2 rounds.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

import harness
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from azctl import db
from azctl.models import OutboxMessage, Performance, WaitlistEntry, WaitlistStatus
from azctl.services import booking, capacity, waitlist, worker

FULL = {"bookings": 400, "waiting": 400, "cancelled": 200}
QUICK = {"bookings": 40, "waiting": 30, "cancelled": 20}
MAX_ROUNDS = 10
GOAL_ROUNDS = 2


def sold_out_house(count: int, seed: int) -> tuple[int, list[tuple[str, int]]]:
    """A performance exactly filled by `count` confirmed bookings of 1 to 4 seats; its id and
    each booking's ticket token and seats."""
    sizes = random.Random(seed)
    parties = [sizes.randint(1, 4) for _ in range(count)]
    performance_id = harness.new_performance(capacity=sum(parties), slug="waitlist")
    made = []
    with db.session_scope() as session:
        for number, party in enumerate(parties):
            submitted = booking.submit_booking(
                session,
                performance_id=performance_id,
                name=f"Visitor {number}",
                email=f"visitor{number}@example.org",
                party_size=party,
            )
            confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
            made.append((confirmed.ticket_token, party))
    return performance_id, made


def join_list(performance_id: int, count: int, seed: int) -> None:
    """`count` parties of 1 to 4 join the list, one after another."""
    sizes = random.Random(seed)
    with db.session_scope() as session:
        for number in range(count):
            waitlist.join(
                session,
                performance_id=performance_id,
                name=f"Waiting {number}",
                email=f"waiting{number}@example.org",
                party_size=sizes.randint(1, 4),
            )


def cancel(tickets: list[tuple[str, int]]) -> int:
    """The visitors cancel from their tickets; the seats freed."""
    with db.session_scope() as session:
        for token, _party in tickets:
            booking.cancel_by_ticket(session, token=token)
    return sum(party for _token, party in tickets)


def entries(performance_id: int) -> list[WaitlistEntry]:
    with db.session_scope() as session:
        return list(
            session.exec(
                select(WaitlistEntry)
                .where(WaitlistEntry.performance_id == performance_id)
                .order_by(col(WaitlistEntry.id))
            ).all()
        )


def seats(performance_id: int) -> capacity.SeatCounts:
    with db.session_scope() as session:
        performance = session.get(Performance, performance_id)
        assert performance is not None
        return capacity.seat_counts(session, performance=performance)


def everything_offered(performance_id: int) -> bool:
    """No seat free that a waiting party fits in."""
    waiting = [
        entry.party_size
        for entry in entries(performance_id)
        if entry.status == WaitlistStatus.WAITING
    ]
    return not waiting or seats(performance_id).available_seats < min(waiting)


def walk_in_order(parties: list[tuple[int, int]], free: int) -> set[int]:
    """The entry ids a walk down the list in joining order offers to, `free` seats to give."""
    chosen = set()
    for entry_id, party in parties:
        if party <= free:
            chosen.add(entry_id)
            free -= party
    return chosen


def offer_mails() -> int:
    with db.session_scope() as session:
        return int(
            session.exec(
                select(sa.func.count()).where(OutboxMessage.kind == "waitlist_offer")
            ).one()
        )


def timed(kinds: dict[str, float]) -> list[tuple[str, worker.Kind]]:
    """The worker's kinds, each adding its seconds to `kinds[name]`."""

    def timing(name: str, kind: worker.Kind) -> worker.Kind:
        def run(engine: Engine, now: datetime | None) -> int:
            began = time.perf_counter()
            try:
                return kind(engine, now)
            finally:
                kinds[name] = kinds.get(name, 0.0) + time.perf_counter() - began

        return run

    return [(name, timing(name, kind)) for name, kind in worker.KINDS]


def main() -> int:
    arguments = harness.arguments(__doc__.splitlines()[0])
    size = QUICK if arguments.quick else FULL
    with harness.own_database(arguments.database_url, "waitlist") as url:
        performance_id, tickets = sold_out_house(size["bookings"], seed=1)
        join_list(performance_id, size["waiting"], seed=2)
        engine = db.get_engine()
        worker.run_round(engine)  # the joined mails go; the list is as a sold-out house has it
        harness.analyze()
        engine = db.get_engine()
        before = [(entry.id or 0, entry.party_size) for entry in entries(performance_id)]
        offer_mails_before = offer_mails()
        freed = cancel(random.Random(3).sample(tickets, size["cancelled"]))

        round_seconds: list[float] = []
        kind_seconds: dict[str, float] = {}
        kinds = timed(kind_seconds)
        offers = 0
        failures: dict[str, str] = {}
        while len(round_seconds) < MAX_ROUNDS and not everything_offered(performance_id):
            began = time.perf_counter()
            done = worker.run_round(engine, kinds=kinds)
            round_seconds.append(time.perf_counter() - began)
            offers += done.done.get("offers", 0)
            failures.update(done.failed)

        after = entries(performance_id)
        counts = seats(performance_id)
        offered = {entry.id for entry in after if entry.status == WaitlistStatus.OFFERED}
        mails = offer_mails() - offer_mails_before
        settled = everything_offered(performance_id)

    total = counts.total_seats
    figures = {
        "database": sa.make_url(url).get_backend_name(),
        "seats": total,
        "waiting": size["waiting"],
        "cancelled": size["cancelled"],
        "seats_freed": freed,
        "rounds": len(round_seconds),
        "seconds": round(sum(round_seconds), 3),
        "round_seconds": [round(seconds, 3) for seconds in round_seconds],
        "kind_seconds": {name: round(seconds, 3) for name, seconds in kind_seconds.items()},
        "offers": offers,
        "seats_offered": counts.held_seats,
        "seats_free_after": counts.available_seats,
        "round_failures": failures,
    }
    checks = {
        "no seat free while a fitting party waits": settled,
        "confirmed plus held within capacity": (
            counts.confirmed_seats + counts.held_seats + counts.manually_occupied_seats <= total
        ),
        "offers in joining order": offered == walk_in_order(before, freed),
        "every offer has its mail": mails == len(offered) == offers,
        f"within {GOAL_ROUNDS} worker rounds": 1 <= len(round_seconds) <= GOAL_ROUNDS,
        "no kind failed": not failures,
    }
    return harness.report("waitlist", figures, checks)


if __name__ == "__main__":
    harness.run(main)
