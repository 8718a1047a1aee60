"""gunicorn workers killed during a rush of confirmations, on PostgreSQL.

One performance, far more pending seats than it holds, a real gunicorn with four workers and a
dozen clients confirming every booking at once, while another thread SIGKILLs workers chosen at
random (each a child of this test's own gunicorn) several times along the way. A worker that dies
takes its request's transaction with it; gunicorn starts another, and the client tries again.
Afterwards nothing is oversold or lost, no reservation is in between, each confirmed one has one
ticket and one ticket mail, and what a client was told matches what the database holds.

PostgreSQL only: the embedded SQLite setup is one process by design, not a pool of workers.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import OutboxMessage, Reservation, ReservationToken
from azctl.services import booking
from tests.e2e.conftest import LiveServer
from tests.services.helpers import seats

CAPACITY = 60
BOOKINGS = 150
WORKERS = 4
CLIENTS = 12
# The share of bookings answered when a worker is killed: three while seats are still being
# confirmed (the first sixth or so), two once the rest are being turned away. At the marks in
# QUEUED_AT every worker's confirmation is first made to queue on the performance's row.
KILL_AT = (0.03, 0.06, 0.1, 0.4, 0.7)
QUEUED_AT = (0.03, 0.1)
TRIES = 30
REQUEST_TIMEOUT = 30.0
RUSH_DEADLINE = 120.0
WORKER_DEADLINE = 30.0
JSON = {"content-type": "application/json"}


def worker_pids(master: int) -> set[int]:
    """The children of gunicorn's master process: its workers."""
    found: set[int] = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:  # a thread that ended while we looked
            continue
    return found


def wait_for_workers(master: int, *, avoiding: set[int], timeout: float = WORKER_DEADLINE) -> None:
    """Poll until the master runs WORKERS workers, none of them one of `avoiding`."""
    deadline = time.monotonic() + timeout
    while True:
        workers = worker_pids(master)
        if len(workers) == WORKERS and not workers & avoiding:
            return
        assert time.monotonic() < deadline, f"workers {workers} after {timeout}s"
        time.sleep(0.05)


@dataclass
class Rush:
    """What the clients were told, token by token: every try, the last one the final answer."""

    answers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    references: dict[str, str] = field(default_factory=dict)
    done: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def note(self, token: str, outcome: str) -> None:
        with self.changed:
            self.answers[token].append(outcome)

    def finish(self, token: str, outcome: str, reference: str | None = None) -> None:
        with self.changed:
            self.answers[token].append(outcome)
            if reference is not None:
                self.references[token] = reference
            self.done += 1
            self.changed.notify_all()


def problem_code(body: bytes) -> str | None:
    """The domain code of a problem+json answer; None for anything else (gunicorn's own pages)."""
    try:
        return json.loads(body).get("code")
    except ValueError:
        return None


def confirm_until_answered(server: LiveServer, token: str, rush: Rush) -> None:
    """POST the token until the box office answers it; a dropped connection (a killed worker) or
    a 502/503 is tried again, a bounded number of times."""
    body = json.dumps({"token": token}).encode()
    for attempt in range(TRIES):
        if server.process.poll() is not None:
            rush.finish(token, "gunicorn is gone")
            return
        try:
            answer = server.request(
                "POST", "/api/confirmations", body=body, headers=JSON, timeout=REQUEST_TIMEOUT
            )
        except (OSError, http.client.HTTPException) as error:
            rush.note(token, f"lost: {type(error).__name__}")
        else:
            if answer.status == 200:
                rush.finish(token, "confirmed", json.loads(answer.body)["reference"])
                return
            if answer.status in (502, 503):
                rush.note(token, f"retry: {answer.status}")
            else:
                rush.finish(token, f"{answer.status} {problem_code(answer.body)}")
                return
        time.sleep(0.02 * (attempt + 1))  # a moment for gunicorn to replace a worker
    rush.finish(token, "gave up")


@dataclass
class Killer:
    """SIGKILLs a random worker of this test's gunicorn each time the rush passes a mark in
    KILL_AT. At the marks in QUEUED_AT, while seats are left, the test first takes the
    performance's row lock itself and waits until every worker's confirmation is queued behind it,
    so that kill surely cuts a request in the middle of its transaction; at the others the worker
    dies wherever it happens to be. (Once sold out, a party that cannot fit is refused before it
    would queue.)"""

    master: int
    engine: Engine
    performance_id: int
    application_name: str
    rush: Rush
    rng: random.Random
    killed: list[int] = field(default_factory=list)
    cut_for_sure: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed back to the test's own thread
            self.error = exc

    def _run(self) -> None:
        for share in KILL_AT:
            with self.rush.changed:
                if not self.rush.changed.wait_for(
                    lambda share=share: self.rush.done >= share * BOOKINGS, timeout=RUSH_DEADLINE
                ):
                    return
            if share in QUEUED_AT:
                self._kill_while_all_wait_for_the_lock()
            else:
                self._kill()

    def _kill(self) -> None:
        workers = sorted(worker_pids(self.master) - set(self.killed))
        victim = self.rng.choice(workers)
        os.kill(victim, signal.SIGKILL)
        self.killed.append(victim)

    def _kill_while_all_wait_for_the_lock(self) -> None:
        with self.engine.connect() as holder, holder.begin():
            holder.execute(
                sa.text("SELECT id FROM performance WHERE id = :id FOR UPDATE"),
                {"id": self.performance_id},
            )
            # Every backend queued before this lock was taken has had its turn, so the waiting
            # ones are requests that live workers are serving now, their ticket and mail written.
            deadline = time.monotonic() + WORKER_DEADLINE
            while self._waiting_for_a_lock() < WORKERS:
                assert time.monotonic() < deadline, (
                    "the workers never all queued on the lock: does confirming still lock the"
                    " performance row?"
                )
                time.sleep(0.02)
            self._kill()
            self.cut_for_sure += 1

    def _waiting_for_a_lock(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :name AND wait_event_type = 'Lock'"
                ),
                {"name": self.application_name},
            ).scalar_one()


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite is the one-process embedded setup, not gunicorn's")


def test_workers_killed_in_a_rush_neither_oversell_nor_lose_a_booking(
    postgres_only: None,
    database_url: str,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., object],
    book: Callable[..., booking.SubmittedBooking],
    gunicorn_server: Callable[..., LiveServer],
) -> None:
    """In production a worker dies of the OOM killer, a deploy or a bug, in the middle of
    someone's confirmation: the seats must still add up, and every visitor who retries must get
    a true answer."""
    rng = random.Random(20261205)
    performance = make_performance(capacity=CAPACITY)
    bookings = [book(performance, rng.randint(1, 4)) for _ in range(BOOKINGS)]
    by_token = {submitted.confirm_token: submitted for submitted in bookings}
    demand = sum(submitted.reservation.party_size for submitted in bookings)
    assert demand > CAPACITY

    # The workers' connections carry a name of their own, to find them in pg_stat_activity.
    application_name = f"azctl-rush-{os.getpid()}-{secrets.token_hex(4)}"
    server = gunicorn_server(
        database_url=sa.make_url(database_url)
        .update_query_dict({"application_name": application_name})
        .render_as_string(hide_password=False),
        workers=WORKERS,
        extra_env={"AZCTL_RATE_LIMIT": "off"},
    )
    master = server.process.pid
    wait_for_workers(master, avoiding=set())

    rush = Rush()
    pending = list(by_token)
    rng.shuffle(pending)
    pending_lock = threading.Lock()

    failures: list[BaseException] = []

    def client() -> None:
        try:
            while True:
                with pending_lock:
                    if not pending:
                        return
                    token = pending.pop()
                confirm_until_answered(server, token, rush)
        except BaseException as exc:  # handed back to the test's own thread
            failures.append(exc)

    killer = Killer(master, engine, performance.id, application_name, rush, rng)
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    threads.append(threading.Thread(target=killer.run))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUSH_DEADLINE)
    assert not any(thread.is_alive() for thread in threads), "the rush hung"
    assert server.process.poll() is None, f"gunicorn itself died:\n{server.log()[-3000:]}"
    if killer.error is not None:
        raise killer.error
    assert not failures

    # The workers were killed, mid-rush, and gunicorn replaced every one of them.
    assert len(set(killer.killed)) == len(KILL_AT)
    wait_for_workers(master, avoiding=set(killer.killed))
    assert "Traceback" not in server.log()
    retried = Counter(outcome for outcomes in rush.answers.values() for outcome in outcomes[:-1])
    cut = sum(number for outcome, number in retried.items() if outcome.startswith("lost"))
    assert cut >= killer.cut_for_sure, retried

    final = {token: outcomes[-1] for token, outcomes in rush.answers.items()}
    assert set(final) == set(by_token)
    assert set(final.values()) <= {"confirmed", "409 sold_out", "409 token_used"}, Counter(
        final.values()
    )
    for token, outcomes in rush.answers.items():
        if final[token] == "409 token_used":
            # Only an earlier try that was cut off can have confirmed it.
            assert any(outcome.startswith(("lost", "retry")) for outcome in outcomes[:-1])

    with db.new_session(engine) as fresh:
        reservations = {
            r.id: r
            for r in fresh.exec(
                select(Reservation).where(Reservation.performance_id == performance.id)
            )
        }
        live_tickets = Counter(
            token.reservation_id
            for token in fresh.exec(
                select(ReservationToken).where(
                    ReservationToken.purpose == "check_in",
                    col(ReservationToken.revoked_at).is_(None),
                )
            )
        )
        spent = {
            token.reservation_id
            for token in fresh.exec(
                select(ReservationToken).where(
                    ReservationToken.purpose == "confirmation",
                    col(ReservationToken.used_at).is_not(None),
                )
            )
        }
        mails = Counter(
            (message.kind, message.reservation_id) for message in fresh.exec(select(OutboxMessage))
        )

    # Nothing lost, nothing in between.
    assert set(reservations) == {submitted.reservation.id for submitted in bookings}
    assert {r.status for r in reservations.values()} <= {"pending", "confirmed"}
    confirmed_ids = {rid for rid, r in reservations.items() if r.status == "confirmed"}
    held = sum(reservations[rid].party_size for rid in confirmed_ids)
    counts = seats(engine, performance.id)
    assert counts.confirmed_seats == held <= CAPACITY

    # Each confirmed booking once: one live ticket, one ticket mail, its link spent; and every
    # booking's confirmation mail still there, once.
    assert live_tickets == Counter(confirmed_ids)
    assert spent == confirmed_ids
    assert mails == Counter(
        [("ticket", rid) for rid in confirmed_ids] + [("confirmation", rid) for rid in reservations]
    )

    # What the clients were told is what the database holds.
    for token, outcome in final.items():
        submitted = by_token[token]
        status = reservations[submitted.reservation.id].status
        if outcome == "confirmed":
            assert status == "confirmed"
            assert rush.references[token] == submitted.reservation.reference
        elif outcome == "409 token_used":
            assert status == "confirmed"
        else:
            assert status == "pending"
            # Refused when the seats left could not hold it; seats only ran out since then.
            assert submitted.reservation.party_size > counts.available_seats
