"""Helpers for the service tests: read the database afresh, prove a refusal changed nothing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from azctl import db, errors
from azctl.models import (
    OutboxMessage,
    Performance,
    Reservation,
    ReservationStatus,
    ReservationToken,
)
from azctl.services import reports
from azctl.services.capacity import SeatCounts
from tests.helpers import unchanged


@contextmanager
def refused(
    engine: Engine, error: type[errors.AzctlError], code: str
) -> Iterator[pytest.ExceptionInfo[errors.AzctlError]]:
    """Expect `error` with the stable `code`, and that not one row of the database changed."""
    with unchanged(engine), pytest.raises(error) as info:
        yield info
    assert info.value.code == code


def fresh(engine: Engine, model: type[SQLModel], ident: object) -> Any:
    """A row as the database has it now, read in a new session."""
    with db.new_session(engine) as session:
        return session.get(model, ident)


def seats(engine: Engine, performance_id: int) -> SeatCounts:
    with db.new_session(engine) as session:
        return reports.performance_summary(session, performance_id=performance_id).seats


def performance_row(engine: Engine, performance_id: int) -> Performance:
    return fresh(engine, Performance, performance_id)


def tokens_of(
    engine: Engine, reservation_id: int, purpose: str | None = None
) -> list[ReservationToken]:
    with db.new_session(engine) as session:
        statement = select(ReservationToken).where(
            ReservationToken.reservation_id == reservation_id
        )
        if purpose is not None:
            statement = statement.where(ReservationToken.purpose == purpose)
        return list(session.exec(statement.order_by(col(ReservationToken.id))))


def messages(
    engine: Engine, *, reservation_id: int | None = None, kind: str | None = None
) -> list[OutboxMessage]:
    with db.new_session(engine) as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if reservation_id is not None:
            statement = statement.where(OutboxMessage.reservation_id == reservation_id)
        if kind is not None:
            statement = statement.where(OutboxMessage.kind == kind)
        return list(session.exec(statement))


def stored_text(engine: Engine, *, skip: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Every value stored in every column of every table, as text (JSON as its dump)."""
    found: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is None or (table.name, column) in skip:
                        continue
                    if isinstance(value, dict | list):
                        found.append(json.dumps(value))
                    elif isinstance(value, datetime):
                        found.append(value.isoformat())
                    else:
                        found.append(str(value))
    return found


def committed_seats(engine: Engine, performance_id: int) -> int:
    """The seats of the confirmed reservations of a performance, summed from the rows as
    committed (not through the reports that the services use themselves)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(Reservation.party_size), 0)).where(
                    Reservation.performance_id == performance_id,
                    Reservation.status == ReservationStatus.CONFIRMED,
                )
            ).scalar_one()
        )


# --- races: threads released together, and the lock waits seen among them ----------------------

# The racers' connections name themselves, so that the lock watch sees only this run's waits.
RACE_APPLICATION = f"azctl-race-{os.getpid()}"


class PostgresLockWatch:
    """Polls pg_locks, from a connection of its own, for a lock a racer asked for and was not
    granted, from before the racers are released until the last one is done.

    What it reports was seen: a backend of the race engine queued behind another's lock."""

    WAITING = sa.text(
        "SELECT a.pid, l.locktype, a.query FROM pg_locks AS l"
        " JOIN pg_stat_activity AS a ON a.pid = l.pid"
        " WHERE NOT l.granted AND a.application_name = :application"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = db.read_only(engine)

    @contextmanager
    def watching(self) -> Iterator[set[str]]:
        waits: set[str] = set()
        started, done = threading.Event(), threading.Event()
        failure: list[BaseException] = []

        def poll() -> None:
            try:
                with self.engine.connect() as connection:
                    while not done.is_set():
                        rows = connection.execute(self.WAITING, {"application": RACE_APPLICATION})
                        for pid, locktype, query in rows:
                            waits.add(f"backend {pid} waited for a {locktype} lock in: {query}")
                        started.set()
            except BaseException as exc:  # handed back to the test's own thread
                failure.append(exc)
                started.set()

        watcher = threading.Thread(target=poll)
        watcher.start()
        try:
            assert started.wait(timeout=60), "the lock watch did not start"
            assert not failure, failure
            yield waits
        finally:
            done.set()
            watcher.join(timeout=60)
        assert not watcher.is_alive(), "the lock watch hung"
        assert not failure, failure


class SqliteLockLog:
    """Puts in one order three moments of each race connection's write lock: BEGIN IMMEDIATE
    asking for it (SQLite's trace hook, which runs inside the statement before it tries for the
    lock), getting it (after the statement returned) and giving it back (the commit or rollback
    event, which comes before the commit itself).

    A racer that asked before another gave the lock back, and got it after that one got it, got
    it only after that one gave it back (two never hold it at once), and was inside BEGIN IMMEDIATE
    all the while: it waited, however fast or slow the machine is. No clocks are read."""

    def __init__(self, engine: Engine) -> None:
        self._events: list[tuple[str, int]] = []
        self._guard = threading.Lock()
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "after_cursor_execute", self._on_executed)
        event.listen(engine, "commit", self._on_release)
        event.listen(engine, "rollback", self._on_release)

    def _record(self, kind: str) -> None:
        with self._guard:
            self._events.append((kind, threading.get_ident()))

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(self._on_trace)

    def _on_trace(self, statement: str) -> None:
        if statement == "BEGIN IMMEDIATE":
            self._record("asks")

    def _on_executed(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == "BEGIN IMMEDIATE":
            self._record("holds")

    def _on_release(self, _connection: Any) -> None:
        self._record("releases")

    @contextmanager
    def watching(self) -> Iterator[set[str]]:
        with self._guard:
            self._events.clear()
        waits: set[str] = set()
        yield waits
        with self._guard:
            events = list(self._events)
        asked: dict[int, int] = {}
        since: dict[int, int] = {}
        tries: list[tuple[int, int, int]] = []  # (asked, got, thread): inside BEGIN IMMEDIATE
        held: list[tuple[int, int, int]] = []  # (got, gave back, thread): holding the lock
        for position, (kind, thread) in enumerate(events):
            if kind == "asks":
                asked[thread] = position
            elif kind == "holds" and thread in asked:
                tries.append((asked.pop(thread), position, thread))
                since[thread] = position
            elif kind == "releases" and thread in since:
                held.append((since.pop(thread), position, thread))
        waits.update(
            f"thread {waiter} waited for the write lock while thread {holder} held it"
            for asked_at, got_at, waiter in tries
            for holding_from, gave_back_at, holder in held
            if waiter != holder and asked_at < gave_back_at and got_at > holding_from
        )


@dataclass
class Race:
    """The racers' engine, and what the last race showed of them waiting for one another."""

    engine: Engine
    watch: PostgresLockWatch | SqliteLockLog
    waits: set[str] = field(default_factory=set)

    def run(self, jobs: list[Callable[[Session], Any]]) -> list[Any]:
        """Run each job in a thread with a session of its own, all released at once when every
        one holds its connection; returns what each returned or raised."""
        barrier = threading.Barrier(len(jobs) + 1)
        results: list[Any] = [None] * len(jobs)

        def work(index: int, job: Callable[[Session], Any]) -> None:
            try:
                with db.new_session(self.engine) as session:
                    try:
                        session.execute(sa.select(sa.literal(1)))  # connected, one round trip
                        barrier.wait(timeout=60)
                    except BaseException:
                        barrier.abort()  # no one waits for a racer that will not come
                        raise
                    results[index] = job(session)
            except BaseException as exc:  # handed back to the test's own thread
                results[index] = exc

        threads = [threading.Thread(target=work, args=pair) for pair in enumerate(jobs)]
        with self.watch.watching() as waits:
            for thread in threads:
                thread.start()
            # A racer that could not get ready broke the barrier; its error is in the results.
            with suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=60)
            for thread in threads:
                thread.join(timeout=180)
        assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
        self.waits = waits
        return results


@contextmanager
def sender_loops(count: int) -> Iterator[list[Any]]:
    """`count` outbox sender loops (`sender.run_sender`), each in a thread of its own, stopped and
    joined with a deadline on leaving; yields the list their round reports are added to."""
    from azctl.services import sender

    stop = threading.Event()
    reports: list[Any] = []
    loops = [
        threading.Thread(
            target=sender.run_sender,
            kwargs={"stop": stop, "interval": 0.05, "on_report": reports.append},
        )
        for _ in range(count)
    ]
    for loop in loops:
        loop.start()
    try:
        yield reports
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=30)
    assert not any(loop.is_alive() for loop in loops), "a sender loop did not stop"
