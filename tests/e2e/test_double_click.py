"""Two answers wanted for one booking at the same moment (issue 10), on PostgreSQL through a real
gunicorn with two workers, so that the two requests run in two processes at once.

A visitor double-clicks Confirm; a visitor confirms while cancelling from the same email; staff
resend the links while the visitor confirms. Each race must end as one of the two orders would
have ended it, with answers that agree with the database, and never as a deadlock: PostgreSQL
breaks a deadlock by failing one of the transactions, which the visitor sees as `503
unavailable` for a booking that was fine.

Each request has its own connection, open (and so taken by a worker of its own) before a barrier
releases both; the races run one after another on one server. PostgreSQL only: the embedded
SQLite setup is one process by design.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db
from azctl.models import Reservation, ReservationToken
from azctl.services import booking
from tests.e2e.conftest import LiveServer
from tests.services.helpers import fresh, messages, tokens_of

DOUBLE_CLICKS = 50
CANCEL_RACES = 20
RESEND_RACES = 20
WORKERS = 2
REQUEST_TIMEOUT = 30.0
RACE_DEADLINE = 60.0
BACKENDS_DEADLINE = 30.0
# The two sides of a mixed race do different work before they first touch a lock. The races of
# a kind start one side later than the other by steps from -SPREAD to +SPREAD seconds, closer
# together near 0, so that they meet at every point of each other's transaction (most often
# where both are in one) and each side wins some.
SPREAD = 0.02
JSON = {"content-type": "application/json"}
# PostgreSQL counts deadlocks for a whole database, whoever had them. Under CI=true a run has its
# database to itself (.ci/run makes one, and runs the tests one at a time), and the count is
# checked; where other runs share the database it is not. Every deadlock of these races also
# shows in an answer (a 503, or the resend's error) or in gunicorn's log, which are always checked.
COUNT_DEADLOCKS = os.environ.get("CI") == "true"


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite is the one-process embedded setup, not gunicorn's")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    @property
    def code(self) -> str | None:
        """`confirmed`/`cancelled` for a success, the problem's `code` for a refusal."""
        try:
            answer = json.loads(self.body)
        except ValueError:
            return None
        return answer.get("code") or answer.get("status")

    def __repr__(self) -> str:
        return f"{self.status} {self.code}"


Contender = Callable[[Callable[[], None]], Any]


def race(*contenders: Contender) -> list[Any]:
    """Run each contender in a thread of its own: it gets ready, calls `start()` (a barrier
    shared by all) and acts. Returns what each returned or raised."""
    barrier = threading.Barrier(len(contenders))
    results: list[Any] = [None] * len(contenders)

    def start() -> None:
        barrier.wait(timeout=RACE_DEADLINE)

    def run(index: int, contender: Contender) -> None:
        try:
            results[index] = contender(start)
        except BaseException as exc:  # handed back to the test's own thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_DEADLINE)
    assert not any(thread.is_alive() for thread in threads), "a racing request hung"
    return results


def post(server: LiveServer, path: str, token: str, *, delay: float = 0.0) -> Contender:
    """A POST of `{"token": …}` on a connection opened before the start."""

    def contender(start: Callable[[], None]) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.connect()
            start()
            if delay:
                time.sleep(delay)
            connection.request("POST", path, body=json.dumps({"token": token}), headers=JSON)
            response = connection.getresponse()
            return Reply(response.status, response.read())
        finally:
            connection.close()

    return contender


def resend(engine: Engine, reference: str, *, delay: float = 0.0) -> Contender:
    """`res resend` of the booking, in a session of its own on a connection pooled beforehand."""

    def contender(start: Callable[[], None]) -> Reservation:
        with db.new_session(engine) as session:
            start()
            if delay:
                time.sleep(delay)
            return booking.resend(session, reference=reference)

    return contender


def staggered(count: int) -> list[tuple[float, float]]:
    """How long each side waits after the start, race by race: the first side later at first,
    then both together, then the second side later."""
    steps = [SPREAD * (2 * index / (count - 1) - 1) ** 3 for index in range(count)]
    return [(max(-step, 0.0), max(step, 0.0)) for step in steps]


Races = dict[str, tuple[int, list[Any]]]


@dataclass
class Stage:
    """The test's server and its database; what PostgreSQL had counted before the races."""

    server: LiveServer
    engine: Engine
    application_name: str
    deadlocks_before: int

    def end(self, races: Races, *, also: str) -> None:
        """Stop the server, then check that every race ended as one order would have (`races`:
        for each kind, how many were run and those that did not), and that neither gunicorn's
        log nor PostgreSQL saw a deadlock.

        A backend hands its counts to `pg_stat_database` at the latest when it exits, before it
        leaves `pg_stat_activity`: once the workers' (and `also`'s) backends are gone the count
        is complete (see COUNT_DEADLOCKS).
        """
        self.server.stop()
        log = self.server.log()
        failed = {kind: (run, wrong) for kind, (run, wrong) in races.items() if wrong}
        assert not failed, f"{log.count('deadlock detected')} deadlocks logged; " + "; ".join(
            f"{kind}: {len(wrong)} of {run} wrong: {wrong}" for kind, (run, wrong) in failed.items()
        )
        assert "deadlock" not in log.lower(), log
        names = [self.application_name, also]
        deadline = time.monotonic() + BACKENDS_DEADLINE
        while backends(self.engine, names):
            assert time.monotonic() < deadline, "the server's connections did not close"
            time.sleep(0.05)
        if COUNT_DEADLOCKS:
            assert deadlocks(self.engine) == self.deadlocks_before, (
                "PostgreSQL counted a deadlock in this database during the races"
            )


def backends(engine: Engine, application_names: list[str]) -> int:
    """How many connections to PostgreSQL carry one of these names."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(:n)"),
                {"n": application_names},
            ).scalar_one()
        )


def deadlocks(engine: Engine) -> int:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return int(
            connection.execute(
                sa.text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def named_url(database_url: str, application_name: str) -> str:
    return (
        sa.make_url(database_url)
        .update_query_dict({"application_name": application_name})
        .render_as_string(hide_password=False)
    )


def start_server(
    database_url: str, engine: Engine, gunicorn_server: Callable[..., LiveServer]
) -> Stage:
    application_name = f"azctl-click-{os.getpid()}-{secrets.token_hex(4)}"
    before = deadlocks(engine) if COUNT_DEADLOCKS else 0
    server = gunicorn_server(
        database_url=named_url(database_url, application_name),
        workers=WORKERS,
        extra_env={"AZCTL_RATE_LIMIT": "off"},
    )
    # Each worker connects as it loads the app: two connections, two workers ready to take the
    # two sides of a race at once.
    deadline = time.monotonic() + BACKENDS_DEADLINE
    while backends(engine, [application_name]) < WORKERS:
        assert time.monotonic() < deadline, f"{WORKERS} workers did not come up"
        time.sleep(0.05)
    return Stage(server, engine, application_name, before)


@dataclass(frozen=True)
class Stored:
    """One booking as the database holds it after its race."""

    status: str
    confirmed_at: object
    tokens: list[ReservationToken]
    mails: list[str]

    def tokens_for(self, purpose: str) -> list[ReservationToken]:
        return [token for token in self.tokens if token.purpose == purpose]

    def mails_of(self, kind: str) -> int:
        return self.mails.count(kind)


def stored(engine: Engine, reservation_id: int) -> Stored:
    reservation = fresh(engine, Reservation, reservation_id)
    return Stored(
        reservation.status,
        reservation.confirmed_at,
        tokens_of(engine, reservation_id),
        [mail.kind for mail in messages(engine, reservation_id=reservation_id)],
    )


def double_clicks(
    server: LiveServer, engine: Engine, bookings: list[booking.SubmittedBooking]
) -> list[Any]:
    """Confirm twice at once: one click confirms, the other is told the link is used."""
    wrong = []
    for submitted in bookings:
        replies = race(
            post(server, "/api/confirmations", submitted.confirm_token),
            post(server, "/api/confirmations", submitted.confirm_token),
        )
        outcome = sorted(repr(reply) for reply in replies)
        row = stored(engine, submitted.reservation.id)
        if outcome != ["200 confirmed", "409 token_used"] or (
            row.status,
            len(row.tokens_for("check_in")),
            row.mails_of("ticket"),
        ) != ("confirmed", 1, 1):
            wrong.append((outcome, row.status, row.mails))
    return wrong


def confirms_and_cancels(
    server: LiveServer,
    engine: Engine,
    bookings: list[booking.SubmittedBooking],
) -> list[Any]:
    """Confirm and cancel by link at once: cancelled either way; confirmed on the way or not."""
    wrong = []
    for submitted, (confirm_delay, cancel_delay) in zip(
        bookings, staggered(len(bookings)), strict=True
    ):
        confirm, cancel = race(
            post(server, "/api/confirmations", submitted.confirm_token, delay=confirm_delay),
            post(server, "/api/cancellations", submitted.cancel_token, delay=cancel_delay),
        )
        row = stored(engine, submitted.reservation.id)
        checks = (
            repr(cancel) == "200 cancelled",
            row.status == "cancelled",
            row.mails_of("cancelled") == 1,
        )
        if repr(confirm) == "200 confirmed":  # confirmed, then cancelled
            checks += (
                row.confirmed_at is not None,
                len(row.tokens_for("check_in")) == 1,
                row.mails_of("ticket") == 1,
            )
        else:  # cancelled first: the confirmation finds the booking cancelled
            checks += (
                repr(confirm) == "409 token_used",
                row.confirmed_at is None,
                not row.tokens_for("check_in"),
                row.mails_of("ticket") == 0,
            )
        if not all(checks):
            wrong.append((confirm, cancel, row.status, row.mails))
    return wrong


def confirms_and_resends(
    server: LiveServer,
    engine: Engine,
    staff_engine: Engine,
    bookings: list[booking.SubmittedBooking],
) -> list[Any]:
    """Confirm while staff resend the links: a new ticket after the confirmation, or a new link
    that the old one can no longer beat."""
    wrong = []
    for submitted, (confirm_delay, resend_delay) in zip(
        bookings, staggered(len(bookings)), strict=True
    ):
        confirm, resent = race(
            post(server, "/api/confirmations", submitted.confirm_token, delay=confirm_delay),
            resend(staff_engine, submitted.reservation.reference, delay=resend_delay),
        )
        row = stored(engine, submitted.reservation.id)
        confirmations = row.tokens_for("confirmation")
        tickets = row.tokens_for("check_in")
        checks: tuple[bool, ...] = (isinstance(resent, Reservation),)
        if repr(confirm) == "200 confirmed":  # confirmed, then a new ticket sent
            checks += (
                row.status == "confirmed",
                [t.used_at is not None for t in confirmations] == [True],
                [t.revoked_at is not None for t in tickets] == [True, False],
                row.mails_of("ticket") == 2,
            )
        else:  # a new link sent first: the old one no longer confirms
            checks += (
                repr(confirm) == "404 invalid_token",
                row.status == "pending",
                [t.revoked_at is not None for t in confirmations] == [True, False],
                all(t.used_at is None for t in confirmations),
                not tickets,
                row.mails_of("confirmation") == 2,
                row.mails_of("ticket") == 0,
            )
        if not all(checks):
            wrong.append((confirm, resent, row.status, row.mails))
    return wrong


def test_two_requests_for_one_booking_at_once_end_as_one_order_would(
    postgres_only: None,
    database_url: str,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Any],
    book: Callable[..., booking.SubmittedBooking],
    gunicorn_server: Callable[..., LiveServer],
) -> None:
    performance = make_performance(capacity=2 * (DOUBLE_CLICKS + CANCEL_RACES + RESEND_RACES))
    clicked = [book(performance, 2) for _ in range(DOUBLE_CLICKS)]
    cancelled = [book(performance, 2) for _ in range(CANCEL_RACES)]
    resent = [book(performance, 2) for _ in range(RESEND_RACES)]
    live = start_server(database_url, engine, gunicorn_server)
    staff_name = f"azctl-resend-{os.getpid()}-{secrets.token_hex(4)}"
    staff_engine = db.create_engine(
        named_url(database_url, staff_name), pool_size=1, max_overflow=0
    )
    with staff_engine.connect() as connection:  # pooled before the first race
        connection.execute(sa.text("SELECT 1"))

    try:
        races = {
            "double-click": (DOUBLE_CLICKS, double_clicks(live.server, engine, clicked)),
            "confirm vs cancel link": (
                CANCEL_RACES,
                confirms_and_cancels(live.server, engine, cancelled),
            ),
            "confirm vs resend": (
                RESEND_RACES,
                confirms_and_resends(live.server, engine, staff_engine, resent),
            ),
        }
    finally:
        staff_engine.dispose()
    live.end(races, also=staff_name)
