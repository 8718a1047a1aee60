"""The on-sale rush: every pending booking of a small house confirmed at once, over HTTP.

One performance with 500 seats and 2,000 pending reservations of 1 to 4 seats; 32 clients post
every confirmation token to `POST /api/confirmations` of a real `azctl serve` on 127.0.0.1, as
fast as it answers. The baseline is the same lock-recount-update transaction done as plain SQL
over psycopg, on a second performance built the same way, with the same number of clients.

Our performance also has a waiting list of 500 parties (`--waitlist N`), as a sold-out house
gathers: most are waiting (they hold no seats), 20 hold seats with an open offer, so every
availability check the confirmations make sums the held seats too and fewer seats are sellable.
The baseline knows nothing of waiting lists: it is the plain transaction of before.

    python benchmarks/rush.py --database-url postgresql+psycopg://USER@HOST/DB [--quick]

Checks: no seat oversold (confirmed plus held seats never exceed the capacity); every answer is
`confirmed` or `sold_out`; what the clients were told matches the database; no seat left unsold
that a pending booking could have taken (demand is several times the supply, and seats never
come back during the run).
"""

from __future__ import annotations

import argparse
import queue
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import harness
import psycopg
import sqlalchemy as sa
from sqlmodel import select

from azctl import db
from azctl.models import Reservation, ReservationStatus, WaitlistEntry, WaitlistStatus
from azctl.services import booking, times, tokens

# The warm-up is a small rush of its own first, for each side: workers and connections warm.
FULL = {
    "seats": 500,
    "reservations": 2000,
    "clients": 32,
    "warm_seats": 60,
    "warm_up": 200,
    "waitlist": 500,
    "offered": 20,
}
QUICK = {
    "seats": 40,
    "reservations": 160,
    "clients": 8,
    "warm_seats": 10,
    "warm_up": 40,
    "waitlist": 30,
    "offered": 3,
}


@dataclass
class Tally:
    """What the clients were answered; shared by their threads under `lock`."""

    seconds: list[float] = field(default_factory=list)
    confirmed_seats: int = 0
    confirmed: int = 0
    sold_out: int = 0
    other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, seconds: float, outcome: str, seats: int = 0) -> None:
        with self.lock:
            self.seconds.append(seconds)
            if outcome == "confirmed":
                self.confirmed += 1
                self.confirmed_seats += seats
            elif outcome == "sold_out":
                self.sold_out += 1
            else:
                self.other.append(outcome)


def pending_bookings(performance_id: int, count: int, seed: int) -> list[tuple[str, int]]:
    """`count` pending reservations of 1 to 4 seats, made as visitors make them; their
    confirmation tokens and party sizes, shuffled."""
    sizes = random.Random(seed)
    made = []
    with db.session_scope() as session:
        for number in range(count):
            party = sizes.randint(1, 4)
            submitted = booking.submit_booking(
                session,
                performance_id=performance_id,
                name=f"Visitor {number}",
                email=f"visitor{number}@example.org",
                party_size=party,
            )
            made.append((submitted.confirm_token, party))
    sizes.shuffle(made)
    return made


def waiting_list(performance_id: int, count: int, offered: int, seed: int) -> int:
    """`count` waiting-list entries of 1 to 4 seats, written as rows (the list of a sold-out
    house: joining refuses a party that fits, and the house is not sold out yet); the first
    `offered` hold their seats with an open offer. Returns the seats they hold."""
    sizes = random.Random(seed)
    now = times.now_utc()
    held = 0
    with db.session_scope() as session, db.write(session):
        for number in range(count):
            party = sizes.randint(1, 4)
            offer = number < offered
            held += party if offer else 0
            session.add(
                WaitlistEntry(
                    performance_id=performance_id,
                    reference=f"AZ-W{number:05d}",
                    name=f"Waiting {number}",
                    email=f"waiting{number}@example.org",
                    party_size=party,
                    status=WaitlistStatus.OFFERED if offer else WaitlistStatus.WAITING,
                    offered_at=now if offer else None,
                    offer_expires_at=now + timedelta(hours=12) if offer else None,
                )
            )
    return held


def held_seats_in_database(performance_id: int) -> int:
    with db.session_scope() as session:
        parties = session.exec(
            select(WaitlistEntry.party_size).where(
                WaitlistEntry.performance_id == performance_id,
                WaitlistEntry.status == WaitlistStatus.OFFERED,
            )
        ).all()
    return sum(parties)


def race(
    work: list[tuple[str, int]], clients: int, confirm: Callable[[str, Tally], None]
) -> tuple[float, Tally]:
    """`clients` threads take tokens off one queue until it is empty: the wall seconds it took,
    and what they were answered."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for token, _party in work:
        todo.put(token)
    tally = Tally()

    def client() -> None:
        while True:
            try:
                token = todo.get_nowait()
            except queue.Empty:
                return
            confirm(token, tally)

    return harness.together([client] * clients), tally


def over_http(server: harness.Server) -> Callable[[str, Tally], None]:
    def confirm(token: str, tally: Tally) -> None:
        try:
            answer = server.request("POST", "/api/confirmations", {"token": token})
        except OSError as error:
            tally.note(0.0, f"connection: {error}")
            return
        if answer.status == 200:
            tally.note(answer.seconds, "confirmed", answer.json()["party_size"])
        else:
            code = answer.json().get("code") if answer.body.startswith(b"{") else None
            tally.note(answer.seconds, code or f"HTTP {answer.status}")

    return confirm


# The same transaction as `booking.confirm_booking`, by hand: find the token, lock the
# performance, recount its confirmed seats, and confirm only if the party fits.
_FIND = """
    SELECT t.id, r.id, r.party_size, r.performance_id
    FROM reservation_token t JOIN reservation r ON r.id = t.reservation_id
    WHERE t.token_hash = %s AND t.purpose = 'confirmation' AND t.used_at IS NULL
      AND r.status = 'pending'"""
_LOCK = """
    SELECT room_capacity + additional_seats - manually_occupied_seats
    FROM performance WHERE id = %s FOR UPDATE"""
_RECOUNT = """
    SELECT coalesce(sum(party_size), 0) FROM reservation
    WHERE performance_id = %s AND status = 'confirmed'"""
_CONFIRM = """
    UPDATE reservation SET status = 'confirmed', confirmed_at = now(), updated_at = now()
    WHERE id = %s"""
_SPEND = "UPDATE reservation_token SET used_at = now() WHERE id = %s"


def over_psycopg(conninfo: str) -> Callable[[str, Tally], None]:
    local = threading.local()

    def confirm(token: str, tally: Tally) -> None:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(conninfo)
        started = time.perf_counter()
        with local.connection.transaction(), local.connection.cursor() as cursor:
            found = cursor.execute(_FIND, (tokens.hash_token(token),)).fetchone()
            if found is None:
                tally.note(time.perf_counter() - started, "unknown_token")
                return
            token_id, reservation_id, party, performance_id = found
            (seats,) = cursor.execute(_LOCK, (performance_id,)).fetchone()
            (taken,) = cursor.execute(_RECOUNT, (performance_id,)).fetchone()
            if party > seats - taken:
                outcome = "sold_out"
            else:
                cursor.execute(_CONFIRM, (reservation_id,))
                cursor.execute(_SPEND, (token_id,))
                outcome = "confirmed"
        tally.note(time.perf_counter() - started, outcome, party)

    return confirm


def confirmed_seats_in_database(performance_id: int) -> tuple[int, int, list[int]]:
    """Confirmed seats, confirmed reservations, and the party sizes still pending."""
    with db.session_scope() as session:
        rows = session.exec(
            select(Reservation.status, Reservation.party_size).where(
                Reservation.performance_id == performance_id
            )
        ).all()
    confirmed = [party for status, party in rows if status == ReservationStatus.CONFIRMED]
    pending = [party for status, party in rows if status == ReservationStatus.PENDING]
    return sum(confirmed), len(confirmed), pending


def _waitlist_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--waitlist",
        type=int,
        default=None,
        help="waiting-list entries behind our house (default: 500, or 30 with --quick)",
    )


def main() -> int:
    arguments = harness.arguments(__doc__.splitlines()[0], extra=_waitlist_option)
    size = dict(QUICK if arguments.quick else FULL)
    if arguments.waitlist is not None:
        size["waitlist"] = arguments.waitlist
        size["offered"] = min(size["offered"], arguments.waitlist)
    with harness.own_database(arguments.database_url, "rush") as url:
        ours_id = harness.new_performance(capacity=size["seats"], slug="rush")
        base_id = harness.new_performance(capacity=size["seats"], slug="baseline")
        ours_work = pending_bookings(ours_id, size["reservations"], seed=1)
        base_work = pending_bookings(base_id, size["reservations"], seed=1)
        held = waiting_list(ours_id, size["waitlist"], size["offered"], seed=3)
        warm_id = harness.new_performance(capacity=size["warm_seats"], slug="warm-up")
        warm_base_id = harness.new_performance(capacity=size["warm_seats"], slug="warm-up-base")
        warm = pending_bookings(warm_id, size["warm_up"], seed=2)
        warm_base = pending_bookings(warm_base_id, size["warm_up"], seed=2)
        harness.analyze()
        clients = size["clients"]
        with harness.serving(workers=arguments.workers) as server:
            race(warm, clients, over_http(server))
            ours_seconds, ours = race(ours_work, clients, over_http(server))
            rss = server.worker_peak_rss_mb()
        baseline = over_psycopg(harness.libpq_url(url))
        race(warm_base, clients, baseline)
        base_seconds, base = race(base_work, clients, baseline)
        seats, confirmed, pending = confirmed_seats_in_database(ours_id)
        held_after = held_seats_in_database(ours_id)
        base_seats, _base_confirmed, base_pending = confirmed_seats_in_database(base_id)

    capacity = size["seats"]
    unsold = capacity - seats - held_after
    ours_rate = len(ours.seconds) / ours_seconds
    base_rate = len(base.seconds) / base_seconds
    figures = {
        "database": sa.make_url(url).get_backend_name(),
        "seats": capacity,
        "reservations": size["reservations"],
        "waitlist": size["waitlist"],
        "seats_held": held_after,
        "clients": size["clients"],
        "workers": arguments.workers,
        "confirmations_per_s": round(ours_rate, 1),
        "baseline_per_s": round(base_rate, 1),
        "ratio": round(ours_rate / base_rate, 2),
        **harness.milliseconds(ours.seconds),
        "baseline_p99_ms": harness.milliseconds(base.seconds)["p99_ms"],
        "seats_confirmed": seats,
        "oversold": max(0, seats + held_after - capacity),
        "unsold": unsold,
        "answers": {
            "confirmed": ours.confirmed,
            "sold_out": ours.sold_out,
            "other": len(ours.other),
        },
        "worker_peak_rss_mb": rss,
    }
    checks = {
        "no seat oversold": seats + held_after <= capacity,
        "held seats untouched by the rush": held_after == held,
        "every answer confirmed or sold_out": not ours.other,
        "answers match the database": ours.confirmed == confirmed and ours.confirmed_seats == seats,
        "no fitting booking left pending": unsold == 0 or not any(p <= unsold for p in pending),
        "demand exceeds supply": sum(party for _token, party in ours_work) > capacity,
        "baseline: no seat oversold": base_seats <= capacity and not base.other,
        "baseline: no fitting booking left pending": base_seats == capacity
        or not any(p <= capacity - base_seats for p in base_pending),
    }
    if ours.other:
        print(f"unexpected answers, e.g. {ours.other[:3]}", file=sys.stderr)
    return harness.report("rush", figures, checks)


if __name__ == "__main__":
    harness.run(main)
