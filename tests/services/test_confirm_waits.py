"""A confirmation that waited for its performance's lock judges the booking again (issue 10).

The test holds the performance row locked on a connection of its own, starts `confirm_booking`
in a thread, and waits until PostgreSQL shows that confirmation queued on a lock. Then, in the
same transaction, it changes what the confirmation had read the way another use case would (the
booking expired, cancelled, its links resent, booking closed, the seats gone) and commits, which
lets the confirmation go on. It must refuse for what is true now, and write nothing.

PostgreSQL only: on SQLite a write takes the whole database at BEGIN, so nothing can change
between a confirmation's first look and its lock.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from azctl import db, errors
from azctl.models import Performance, Reservation, ReservationToken
from azctl.services import booking, times
from tests.services.helpers import fresh, messages, tokens_of

DEADLINE = 30.0
# The holder's own statements give up rather than hang, should the waiting confirmation hold a
# lock on what they change.
HOLDER_LOCK_TIMEOUT = "5s"


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite write holds the whole database from BEGIN")


@dataclass(frozen=True)
class Scene:
    """The booking being confirmed, another one of the same performance, and the performance."""

    performance_id: int
    reservation_id: int
    other_id: int


Change = Callable[[sa.Connection, Scene], None]


def _update(connection: sa.Connection, table: Any, condition: Any, **values: Any) -> None:
    connection.execute(sa.update(table).where(condition).values(**values))


def expire(connection: sa.Connection, scene: Scene) -> None:
    """`res expire`: the pending booking's time ran out."""
    _update(
        connection,
        Reservation,
        Reservation.id == scene.reservation_id,
        status="expired",
        updated_at=times.now_utc(),
    )


def cancel_by_link(connection: sa.Connection, scene: Scene) -> None:
    """The visitor's cancel link: the booking cancelled and the link spent."""
    now = times.now_utc()
    _update(
        connection,
        Reservation,
        Reservation.id == scene.reservation_id,
        status="cancelled",
        cancelled_at=now,
        updated_at=now,
    )
    _update(
        connection,
        ReservationToken,
        sa.and_(
            ReservationToken.reservation_id == scene.reservation_id,
            ReservationToken.purpose == "cancel",
        ),
        used_at=now,
    )


def close_booking(connection: sa.Connection, scene: Scene) -> None:
    """Staff turn booking off for the performance."""
    _update(
        connection,
        Performance,
        Performance.id == scene.performance_id,
        is_booking_enabled=False,
        updated_at=times.now_utc(),
    )


def cancel_performance(connection: sa.Connection, scene: Scene) -> None:
    """The performance cancelled, and with it every open booking of it."""
    now = times.now_utc()
    _update(
        connection,
        Reservation,
        sa.and_(
            Reservation.performance_id == scene.performance_id,
            col(Reservation.status).in_(("pending", "confirmed")),
        ),
        status="cancelled",
        cancelled_at=now,
        updated_at=now,
    )
    _update(
        connection,
        Performance,
        Performance.id == scene.performance_id,
        cancelled_at=now,
        is_booking_enabled=False,
        updated_at=now,
    )


def resend_links(connection: sa.Connection, scene: Scene) -> None:
    """`res resend` of a pending booking: its links revoked (the new ones play no part here)."""
    now = times.now_utc()
    _update(
        connection,
        ReservationToken,
        sa.and_(
            ReservationToken.reservation_id == scene.reservation_id,
            col(ReservationToken.purpose).in_(("confirmation", "cancel")),
            col(ReservationToken.revoked_at).is_(None),
        ),
        revoked_at=now,
    )
    _update(connection, Reservation, Reservation.id == scene.reservation_id, updated_at=now)


def confirm_other(connection: sa.Connection, scene: Scene) -> None:
    """Another party of the same performance confirmed first, taking the seats."""
    now = times.now_utc()
    _update(
        connection,
        Reservation,
        Reservation.id == scene.other_id,
        status="confirmed",
        confirmed_at=now,
        updated_at=now,
    )


def cut_capacity(connection: sa.Connection, scene: Scene) -> None:
    """Staff cut the room's capacity below the party."""
    _update(
        connection,
        Performance,
        Performance.id == scene.performance_id,
        room_capacity=1,
        updated_at=times.now_utc(),
    )


@dataclass
class Waiting:
    """The test's database, seen from a connection that watches the confirmer's backend."""

    engine: Engine
    confirmer: Engine
    application_name: str

    def queued(self) -> bool:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            return bool(
                watcher.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE application_name = :name AND wait_event_type = 'Lock'"
                    ),
                    {"name": self.application_name},
                ).scalar_one()
            )

    def confirm_while_held(self, scene: Scene, token: str, change: Change) -> Any:
        """Confirm `token` while the performance is locked here; once the confirmation queues,
        make `change` and commit. Returns what the confirmation returned or raised."""
        outcome: list[Any] = []

        def confirm() -> None:
            try:
                with db.new_session(self.confirmer) as session:
                    outcome.append(booking.confirm_booking(session, token=token))
            except BaseException as exc:  # handed back to the test's own thread
                outcome.append(exc)

        thread = threading.Thread(target=confirm)
        try:
            with self.engine.connect() as holder, holder.begin():
                holder.execute(sa.text(f"SET LOCAL lock_timeout = '{HOLDER_LOCK_TIMEOUT}'"))
                holder.execute(
                    sa.select(Performance.id)
                    .where(Performance.id == scene.performance_id)
                    .with_for_update()
                )
                thread.start()
                deadline = time.monotonic() + DEADLINE
                while not self.queued():
                    assert thread.is_alive(), f"confirmed without waiting for the lock: {outcome}"
                    assert time.monotonic() < deadline, "the confirmation never queued on a lock"
                    time.sleep(0.02)
                change(holder, scene)
        finally:
            if thread.ident is not None:
                thread.join(timeout=DEADLINE)
        assert not thread.is_alive(), "the confirmation did not end once the lock was released"
        return outcome[0]


@pytest.fixture
def waiting(postgres_only: None, database_url: str, engine: Engine) -> Iterator[Waiting]:
    """A confirmer engine whose connection is named, to be found among the backends; its own
    `lock_timeout` makes a confirmation that never gets its lock an error, not a hung test."""
    application_name = f"azctl-waits-{os.getpid()}-{secrets.token_hex(4)}"
    url = sa.make_url(database_url)
    options = f"{url.query.get('options', '')} -c lock_timeout=20s".strip()
    url = url.update_query_dict({"application_name": application_name, "options": options})
    confirmer = db.create_engine(
        url.render_as_string(hide_password=False), pool_size=1, max_overflow=0
    )
    yield Waiting(engine, confirmer, application_name)
    confirmer.dispose()


@pytest.mark.parametrize(
    ("change", "refusal", "status"),
    [
        (expire, errors.TokenExpired, "expired"),
        (cancel_by_link, errors.TokenUsed, "cancelled"),
        (close_booking, errors.BookingClosed, "pending"),
        (cancel_performance, errors.TokenUsed, "cancelled"),
        (resend_links, errors.InvalidToken, "pending"),
        (confirm_other, errors.SoldOut, "pending"),
        (cut_capacity, errors.SoldOut, "pending"),
    ],
)
def test_a_confirmation_that_waited_refuses_for_what_changed_meanwhile(
    waiting: Waiting,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
    change: Change,
    refusal: type[errors.AzctlError],
    status: str,
) -> None:
    performance = make_performance(capacity=4)
    submitted = book(performance, 2)
    other = book(performance, 3)
    assert performance.id and submitted.reservation.id and other.reservation.id
    scene = Scene(performance.id, submitted.reservation.id, other.reservation.id)

    outcome = waiting.confirm_while_held(scene, submitted.confirm_token, change)

    assert isinstance(outcome, refusal), f"wanted {refusal.__name__}, got {outcome!r:.300}"
    assert fresh(engine, Reservation, scene.reservation_id).status == status
    [link] = tokens_of(engine, scene.reservation_id, "confirmation")
    assert link.used_at is None
    assert tokens_of(engine, scene.reservation_id, "check_in") == []
    assert messages(engine, reservation_id=scene.reservation_id, kind="ticket") == []
