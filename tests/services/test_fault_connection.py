"""A confirmation whose database connection dies halfway, through the service.

The server backend that runs the confirmation is terminated with `pg_terminate_backend` from a
second connection (PostgreSQL 14 or later, for its wait), right after one chosen statement of the
confirmation's transaction has run, so that every stage is covered: performance locked, token and
reservation locked (and seats recounted), ticket mail written, reservation confirmed, token spent,
check-in token written, and everything written with COMMIT about to go. Each time the caller gets
a retryable error, the transaction is gone whole, and a retry with the same token, on the same
engine, confirms exactly once.

Only the backend of this test's own connection is ever terminated: its pid comes from that very
connection, and the kill also checks a distinctive `application_name`, since other test runs share
the server. PostgreSQL only: SQLite has no server connection to kill.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from azctl import db, errors
from azctl.models import Reservation
from azctl.services import booking, tokens
from tests.helpers import snapshot
from tests.services.helpers import fresh, messages, seats, tokens_of

NOT_ON_SQLITE = (
    "PostgreSQL only: pg_terminate_backend kills a server connection, and SQLite is a file opened"
    " inside this process, with no connection of its own to kill"
)
# Waits (up to 10 s) until the backend is gone, so the next statement surely meets a dead socket.
_TERMINATE = sa.text(
    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
    " WHERE pid = :pid AND application_name = :name AND datname = current_database()"
)


@dataclass(frozen=True)
class Stage:
    """A point inside the confirmation: once the statement `after` matches has run, the
    connection dies before the transaction goes any further, at its next statement or at COMMIT
    when none is left (`after` None: at COMMIT). Matching what has run, not the order of the
    statements, keeps each stage where it is when the service or SQLAlchemy reorders them."""

    name: str
    done: str
    after: re.Pattern[str] | None

    def reached_by(self, statement: str) -> bool:
        return self.after is not None and bool(self.after.search(" ".join(statement.split())))


STAGES = [
    Stage(
        "performance_locked",
        "the performance row locked",
        re.compile(r"^SELECT .*\bFROM performance\b.* FOR UPDATE$"),
    ),
    Stage(
        "token_locked",
        "the confirmation token and its reservation locked",
        re.compile(r"^SELECT .*\bFROM reservation_token\b.* FOR UPDATE$"),
    ),
    Stage(
        "ticket_mail_queued",
        "the ticket mail written to the outbox",
        re.compile(r"^INSERT INTO outbox_message "),
    ),
    Stage(
        "reservation_confirmed",
        "the reservation's confirmed status written",
        re.compile(r"^UPDATE reservation SET "),
    ),
    Stage(
        "token_spent",
        "the confirmation token marked used",
        re.compile(r"^UPDATE reservation_token SET "),
    ),
    Stage(
        "check_in_token_issued",
        "the check-in token written",
        re.compile(r"^INSERT INTO reservation_token "),
    ),
    Stage("commit", "every row written, COMMIT about to be sent", None),
]
STAGE_IDS = [stage.name for stage in STAGES]


@dataclass
class Victim:
    """An engine like the app's (azctl's `create_engine`, pre-ping on), whose connections carry
    `application_name`, with one pooled connection so a retry must get a sound one in its place."""

    engine: Engine
    application_name: str


@dataclass
class Killer:
    """Once armed, terminates the backend that runs `stage` of a confirmation on `victim`, from
    `admin` (a connection of its own), at most once; notes the backend pid of every statement."""

    victim: Victim
    admin: sa.Connection
    stage: Stage
    armed: bool = False
    reached: bool = False
    killed: int | None = None
    killed_before: str | None = None
    pids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        engine = self.victim.engine
        event.listen(engine, "before_cursor_execute", self._before_statement)
        event.listen(engine, "after_cursor_execute", self._after_statement)
        event.listen(engine, "commit", self._before_commit)

    def _before_statement(self, _conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        pid = cursor.connection.info.backend_pid
        self.pids.append(pid)
        if self.reached:
            self._kill(pid, statement)

    def _after_statement(self, _conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if self.armed and self.stage.reached_by(statement):
            self.reached = True

    def _before_commit(self, conn: sa.Connection) -> None:
        if self.reached or (self.armed and self.stage.after is None):
            self._kill(conn.connection.dbapi_connection.info.backend_pid, "COMMIT")

    def _kill(self, pid: int, statement: str) -> None:
        self.armed = self.reached = False
        self.killed, self.killed_before = pid, " ".join(statement.split())
        terminate(self.admin, pid, self.victim.application_name)


def terminate(admin: sa.Connection, pid: int, application_name: str) -> None:
    """Terminate backend `pid`, only if it carries our `application_name`, and wait until gone."""
    terminated = admin.execute(_TERMINATE, {"pid": pid, "name": application_name}).scalar()
    assert terminated, f"backend {pid} ({application_name}) was not ours, or did not stop"


def backend_alive(admin: sa.Connection, pid: int) -> bool:
    found = admin.execute(
        sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
    )
    return bool(found.scalar())


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip(NOT_ON_SQLITE)


def make_victim(database_url: str, **pool: Any) -> Victim:
    """A victim engine on the test's database; `lock_timeout` turns a lock the dead transaction
    had left behind into an error instead of a hung test."""
    name = f"azctl-fault-{os.getpid()}-{secrets.token_hex(4)}"
    url = sa.make_url(database_url)
    options = f"{url.query.get('options', '')} -c lock_timeout=20s".strip()
    url = url.update_query_dict({"application_name": name, "options": options})
    engine = db.create_engine(url.render_as_string(hide_password=False), **pool)
    return Victim(engine=engine, application_name=name)


@pytest.fixture
def victim(postgres_only: None, database_url: str) -> Iterator[Victim]:
    made = make_victim(database_url, pool_size=1, max_overflow=0, pool_timeout=30)
    yield made
    made.engine.dispose()


@pytest.fixture
def admin(postgres_only: None, engine: Engine) -> Iterator[sa.Connection]:
    """The second connection, on the test's own engine, that does the killing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def assert_retryable(error: BaseException) -> None:
    """What a caller can act on: the database went away and this connection was thrown out."""
    if isinstance(error, errors.Unavailable):
        error = error.__cause__ or error
    assert isinstance(error, OperationalError), repr(error)
    assert error.connection_invalidated, "the pool was not told the connection is dead"


def assert_still_pending(engine: Engine, submitted: booking.SubmittedBooking) -> None:
    """The confirmation left no trace: pending, token unused, no ticket, no ticket mail."""
    reservation_id = submitted.reservation.id
    assert fresh(engine, Reservation, reservation_id).status == "pending"
    assert fresh(engine, Reservation, reservation_id).confirmed_at is None
    [confirm_token] = tokens_of(engine, reservation_id, "confirmation")
    assert confirm_token.used_at is None
    assert tokens_of(engine, reservation_id, "check_in") == []
    assert messages(engine, reservation_id=reservation_id, kind="ticket") == []


def assert_confirmed_once(
    engine: Engine, submitted: booking.SubmittedBooking, ticket_token: str
) -> None:
    """Confirmed, the token spent, one live check-in token and one ticket mail that carries it."""
    reservation_id = submitted.reservation.id
    stored = fresh(engine, Reservation, reservation_id)
    assert stored.status == "confirmed"
    assert stored.confirmed_at is not None
    [confirm_token] = tokens_of(engine, reservation_id, "confirmation")
    assert confirm_token.used_at is not None
    [check_in] = tokens_of(engine, reservation_id, "check_in")
    assert check_in.revoked_at is None
    assert check_in.token_hash == tokens.hash_token(ticket_token)
    [ticket] = messages(engine, reservation_id=reservation_id, kind="ticket")
    assert ticket.context["ticket_token"] == ticket_token
    assert ticket.status == "queued"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_a_confirmation_whose_connection_is_killed_rolls_back_whole_and_a_retry_confirms_once(
    stage, engine, victim, admin, make_performance, book
):
    """Whatever the confirmation had done when its connection died, none of it may stay (a
    spent link without a ticket, a ticket mail for a pending booking, seats held for no one),
    and the visitor's retry must work at once, not after the pool hands out the dead connection."""
    performance = make_performance(capacity=10)
    other = book(performance, 3)
    submitted = book(performance, 2)
    killer = Killer(victim, admin, stage)
    before = snapshot(engine)

    with db.new_session(victim.engine) as session:
        killer.armed = True
        with pytest.raises((OperationalError, errors.Unavailable)) as failure:
            booking.confirm_booking(session, token=submitted.confirm_token)
        assert killer.killed is not None, f"the confirmation never got to {stage.done}"
        assert_retryable(failure.value)
        assert not backend_alive(admin, killer.killed)

        assert changed_tables(before, snapshot(engine)) == [], f"killed: {killer.killed_before}"
        assert_still_pending(engine, submitted)
        assert seats(engine, performance.id).confirmed_seats == 0

        # The same session and token, at once: the pool hands over a sound connection.
        statements_before_retry = len(killer.pids)
        confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
    assert killer.killed not in killer.pids[statements_before_retry:]

    assert confirmed.reservation.status == "confirmed"
    assert_confirmed_once(engine, submitted, confirmed.ticket_token)
    assert seats(engine, performance.id).confirmed_seats == 2
    assert fresh(engine, Reservation, other.reservation.id).status == "pending"
    after = snapshot(engine)
    # A new check-in token, the ticket mail's cancel token and the mail; nothing else was added
    # or lost.
    assert len(after["reservation_token"]) == len(before["reservation_token"]) + 2
    assert len(after["outbox_message"]) == len(before["outbox_message"]) + 1
    assert len(after["reservation"]) == len(before["reservation"])


def test_a_pooled_connection_killed_while_idle_is_replaced_before_a_confirmation_uses_it(
    engine, victim, admin, make_performance, book
):
    """A server restart or an idle-connection reaper kills connections that sit in the pool;
    `pool_pre_ping` finds the dead one at checkout, so the confirmation never sees it."""
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    with victim.engine.connect() as connection:
        idle_pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    terminate(admin, idle_pid, victim.application_name)
    killer = Killer(victim, admin, STAGES[0])  # never armed: it only notes the backends used

    with db.new_session(victim.engine) as session:
        confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
    assert killer.pids
    assert idle_pid not in killer.pids
    assert_confirmed_once(engine, submitted, confirmed.ticket_token)
