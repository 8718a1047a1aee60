"""Three `azctl worker` processes at once over the same due work, one SIGKILLed in the middle of
a delivery: every mail is delivered once and every lapsed booking expired once (DESIGN §9).

The SMTP peer holds every delivery at RCPT TO until three are under way, one in each worker, so
the kill lands mid-round and mid-delivery, before the message's data was sent: its claim's lease
runs out (AZCTL_MAIL_LEASE) and another worker delivers it.

PostgreSQL only: several workers on several hosts share a server database; SQLite is the
embedded one-process setup.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from azctl import db
from azctl.models import OutboxMessage, OutboxStatus, Performance, Reservation, ReservationStatus
from azctl.services import booking, outbox, times
from azctl.settings import get_settings
from tests import smtp_peer
from tests.helpers import finish, kill
from tests.smtp_peer import SMTPPeer

WORKERS = 3
BOOKINGS = 12
LAPSED = 6
NOTES = 18
DEADLINE = 60.0
LEASE_SECONDS = 10


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite is the one-process embedded setup")


class GatedPeer(SMTPPeer):
    """An SMTP peer that holds every RCPT TO until `gate` is set; `held` counts those waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.held = 0
        self.lock = threading.Lock()


class _GatedHandler(smtp_peer._Handler):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        peer = self.peer
        assert isinstance(peer, GatedPeer)
        with peer.lock:
            peer.held += 1
        try:
            while not peer.gate.is_set():
                await asyncio.sleep(0.01)
        finally:
            with peer.lock:
                peer.held -= 1
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def gated_peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedPeer]:
    monkeypatch.setattr(smtp_peer, "_Handler", _GatedHandler)
    peer = GatedPeer()
    peer.start()
    try:
        yield peer
    finally:
        peer.gate.set()
        peer.stop()


def poll(condition: Callable[[], bool], *, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout:g} s"
        time.sleep(0.02)


def test_three_workers_one_killed_do_every_piece_of_work_once(
    postgres_only: None,
    database_url: str,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
    gated_peer: GatedPeer,
    tmp_path: Path,
) -> None:
    performance = make_performance(capacity=100, starts_in=timedelta(days=5))
    bookings = [book(performance, 1) for _ in range(BOOKINGS)]
    with db.new_session(engine) as seeding:
        for number in range(NOTES):
            outbox.queue_test_message(seeding, to_address=f"reader{number}@example.org")
    # Nothing is due until every worker is up: then all of it at once.
    later = times.now_utc() + timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(sa.update(OutboxMessage).values(next_attempt_at=later))

    settings = get_settings()
    env = {
        **os.environ,
        "AZCTL_DATA_DIR": str(settings.data_dir),
        "AZCTL_DATABASE_URL": database_url,
        "AZCTL_SECRET_KEY": settings.secret_key or "",
        "AZCTL_SMTP_URL": gated_peer.url,
        "AZCTL_MAIL_LEASE": f"{LEASE_SECONDS}s",
    }
    logs = [(tmp_path / f"worker{n}.out", tmp_path / f"worker{n}.err") for n in range(WORKERS)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for out, err in logs:
            with out.open("wb") as stdout, err.open("wb") as stderr:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "azctl", "worker", "--interval", "0.2"],
                        env=env,
                        stdout=stdout,
                        stderr=stderr,
                        start_new_session=True,
                    )
                )
        poll(
            lambda: all("Working every" in err.read_text() for _out, err in logs),
            what="every worker started",
        )

        lapsing = [submitted.reservation.id for submitted in bookings[:LAPSED]]
        with engine.begin() as connection:
            connection.execute(sa.update(OutboxMessage).values(next_attempt_at=times.now_utc()))
            connection.execute(
                sa.update(Reservation)
                .where(col(Reservation.id).in_(lapsing))
                .values(expires_at=times.now_utc() - timedelta(minutes=1))
            )

        # Each worker is in the middle of a delivery, held at RCPT TO: kill one of them.
        poll(lambda: gated_peer.held == WORKERS, what="a delivery under way in each worker")
        victim = processes[1]
        kill(victim)
        victim.wait(timeout=10)
        gated_peer.gate.set()

        expected = BOOKINGS + NOTES
        poll(
            lambda: len(gated_peer.messages) >= expected,
            what=f"{expected} messages delivered",
            timeout=DEADLINE + LEASE_SECONDS,
        )
        poll(lambda: _all_sent(engine), what="every message recorded as sent")
        poll(lambda: _expired(engine) == LAPSED, what="every lapsed booking expired")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            if process is not processes[1]:
                finish(process, timeout=30)
            else:
                kill(process)
                process.wait(timeout=10)

    survivors = [logs[0], logs[2]]
    for (_out, err), process in zip(survivors, [processes[0], processes[2]], strict=True):
        assert process.returncode == 0, err.read_text()
        assert err.read_text().endswith("Stopped.\n")
    assert processes[1].returncode == -signal.SIGKILL

    # Every message once: one arrival per outbox row, none twice.
    received = gated_peer.messages
    ids = Counter(str(message["Message-ID"]) for message in received)
    assert len(received) == expected
    assert set(ids.values()) == {1}
    with db.new_session(engine) as check:
        rows = check.exec(sa.select(OutboxMessage.id, OutboxMessage.status)).all()
    assert len(rows) == expected
    assert {status for _id, status in rows} == {OutboxStatus.SENT}
    assert {int(re.search(r"azctl\.(\d+)\.", key)[1]) for key in ids} == {  # type: ignore[index]
        message_id for message_id, _status in rows
    }

    # Every expiry once: the workers' rounds say they expired LAPSED bookings between them. The
    # killed one counts too: a round that ended before it was killed (the expiries are due from
    # the moment the mail is) printed its line before the next round's delivery was held.
    expired = sum(
        int(found) for out, _err in logs for found in re.findall(r"expire (\d+)", out.read_text())
    )
    assert expired == LAPSED
    assert _expired(engine) == LAPSED


def _all_sent(engine: Engine) -> bool:
    with db.new_session(engine) as check:
        left = check.exec(
            sa.select(sa.func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        ).one()
    return int(left[0]) == 0


def _expired(engine: Engine) -> int:
    with db.new_session(engine) as check:
        found = check.exec(
            sa.select(sa.func.count()).where(Reservation.status == ReservationStatus.EXPIRED)
        ).one()
    return int(found[0])
