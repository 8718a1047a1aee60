"""Three `azctl worker` processes at once, one SIGKILLed in the middle of a delivery, over the
season's work (DESIGN §8, §9): every reminder is queued once, every freed seat offered once down
the waiting list (no more than are free), and every mail, old and new, delivered once.

As in test_workers.py, nothing is due until every worker is up; then, in one moment, the mail is
due, three performances move to an hour from now (their reminders, `AZCTL_REMINDER_BEFORE=2h`,
are due) and a sold-out performance gains seats with six parties waiting. The SMTP peer holds
every delivery at RCPT TO until one is under way in each worker, and one worker is killed.

PostgreSQL only, as the other worker test: several workers share a server database.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import (
    OutboxMessage,
    OutboxStatus,
    Performance,
    Reservation,
    WaitlistEntry,
    WaitlistStatus,
    WaitlistToken,
    WaitlistTokenPurpose,
)
from azctl.services import booking, capacity, times, waitlist
from azctl.settings import get_settings
from tests.e2e.test_workers import (  # noqa: F401 (fixtures used by name)
    DEADLINE,
    LEASE_SECONDS,
    GatedPeer,
    gated_peer,
    poll,
    postgres_only,
)
from tests.helpers import finish, kill

WORKERS = 3
REMINDED_PERFORMANCES = 3
REMINDED_EACH = 6
# The sold-out house: two parties of two fill it; six wait, in this order.
SOLD_OUT = 4
WAITING = (2, 4, 1, 2, 1, 2)
RAISE = 5
# Offered in joining order to each party that fits the seats left: 2 (3 left), not 4, 1 (2 left),
# 2 (none left), then nobody.
OFFERED = [0, 2, 3]


def _count(engine: Engine, statement: sa.Select[tuple[int]]) -> int:
    with db.new_session(engine) as check:
        return int(check.exec(statement).one()[0])  # type: ignore[call-overload]


def test_three_workers_one_killed_remind_and_offer_once(
    postgres_only: None,  # noqa: F811
    database_url: str,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
    gated_peer: GatedPeer,  # noqa: F811
    tmp_path: Path,
) -> None:
    far = timedelta(days=5)
    reminded_performances = [
        make_performance(capacity=50, starts_in=far + timedelta(hours=n))
        for n in range(REMINDED_PERFORMANCES)
    ]
    reminded = [
        confirmed(performance, 1).reservation.id
        for performance in reminded_performances
        for _ in range(REMINDED_EACH)
    ]
    house = make_performance(capacity=SOLD_OUT, starts_in=far + timedelta(hours=10))
    assert house.id is not None
    confirmed(house, 2)
    confirmed(house, 2)
    entries = [
        waitlist.join(
            session,
            performance_id=house.id,
            name=f"Waiting {number}",
            email=f"waiting{number}@example.org",
            party_size=size,
        ).entry.id
        for number, size in enumerate(WAITING)
    ]
    seeded = _count(engine, sa.select(sa.func.count()).select_from(OutboxMessage))
    # Nothing is due until every worker is up.
    later = times.now_utc() + timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(sa.update(OutboxMessage).values(next_attempt_at=later))

    settings = get_settings()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "AZCTL_DATA_DIR": str(settings.data_dir),
        "AZCTL_DATABASE_URL": database_url,
        "AZCTL_SECRET_KEY": settings.secret_key or "",
        "AZCTL_SMTP_URL": gated_peer.url,
        "AZCTL_MAIL_LEASE": f"{LEASE_SECONDS}s",
        "AZCTL_REMINDER_BEFORE": "2h",
    }
    logs = [(tmp_path / f"worker{n}.out", tmp_path / f"worker{n}.err") for n in range(WORKERS)]
    processes: list[subprocess.Popen[bytes]] = []
    expected = seeded + len(reminded) + len(OFFERED)
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

        # All at once: the mail is due, the reminders are due (booked a day ago, the
        # performances an hour away), and the sold-out house gains seats.
        now = times.now_utc()
        with engine.begin() as connection:
            connection.execute(sa.update(OutboxMessage).values(next_attempt_at=now))
            connection.execute(
                sa.update(Reservation)
                .where(col(Reservation.id).in_(reminded))
                .values(confirmed_at=now - timedelta(days=1), created_at=now - timedelta(days=1))
            )
            for number, performance in enumerate(reminded_performances):
                connection.execute(
                    sa.update(Performance)
                    .where(col(Performance.id) == performance.id)
                    .values(starts_at=now + timedelta(hours=1, minutes=number))
                )
        with db.new_session(engine) as staff_session:
            capacity.change_capacity(
                staff_session, performance_id=house.id, room_capacity=SOLD_OUT + RAISE
            )

        # Each worker is in the middle of a delivery, held at RCPT TO: kill one of them.
        poll(lambda: gated_peer.held == WORKERS, what="a delivery under way in each worker")
        victim = processes[1]
        kill(victim)
        victim.wait(timeout=10)
        gated_peer.gate.set()

        try:
            poll(
                lambda: len(gated_peer.messages) >= expected,
                what=f"{expected} messages delivered",
                timeout=DEADLINE + LEASE_SECONDS,
            )
            poll(
                lambda: (
                    _count(engine, _NOT_SENT) == 0
                    and _count(engine, _REMINDERS) == len(reminded)
                    and _count(engine, _OFFERS) == len(OFFERED)
                ),
                what="every reminder and offer queued and every message sent",
            )
        except AssertionError as failure:
            raise AssertionError(_state(engine, gated_peer, logs)) from failure
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

    for (_out, err), process in zip(logs, processes, strict=True):
        if process is not processes[1]:
            assert process.returncode == 0, err.read_text()
            assert err.read_text().endswith("Stopped.\n")
    assert processes[1].returncode == -signal.SIGKILL

    session.rollback()
    # Every reminder once: one `reminder` row per booking, and the booking marked.
    rows = session.exec(
        select(OutboxMessage.reservation_id).where(OutboxMessage.kind == "reminder")
    ).all()
    assert Counter(rows) == dict.fromkeys(reminded, 1)
    marks = session.exec(
        select(Reservation.reminder_queued_at).where(col(Reservation.id).in_(reminded))
    ).all()
    assert len(marks) == len(reminded) and None not in marks
    # No other booking reminded (the house is days away).
    assert _count(engine, _REMINDERS) == len(reminded)

    # Every offer once, in joining order to the parties that fit, never beyond the free seats.
    waiting = {
        entry.id: entry
        for entry in session.exec(select(WaitlistEntry).where(col(WaitlistEntry.id).in_(entries)))
    }
    offered = [n for n, entry_id in enumerate(entries) if waiting[entry_id].status == "offered"]
    assert offered == OFFERED
    assert {waiting[entries[n]].status for n in set(range(len(entries))) - set(OFFERED)} == {
        WaitlistStatus.WAITING
    }
    assert sum(WAITING[n] for n in offered) <= RAISE
    offer_rows = Counter(
        session.exec(
            select(OutboxMessage.to_address).where(OutboxMessage.kind == "waitlist_offer")
        ).all()
    )
    assert offer_rows == {waiting[entries[n]].email: 1 for n in OFFERED}
    offer_tokens = Counter(
        session.exec(
            select(WaitlistToken.entry_id).where(
                WaitlistToken.purpose == WaitlistTokenPurpose.OFFER
            )
        ).all()
    )
    assert offer_tokens == {entries[n]: 1 for n in OFFERED}

    # Every mail once: one arrival per outbox row, none twice.
    received = gated_peer.messages
    ids = Counter(str(message["Message-ID"]) for message in received)
    assert len(received) == expected
    assert set(ids.values()) == {1}
    outbox_rows = session.exec(select(OutboxMessage.id, OutboxMessage.status)).all()
    assert len(outbox_rows) == expected
    assert {status for _id, status in outbox_rows} == {OutboxStatus.SENT}
    assert {int(re.search(r"azctl\.(\d+)\.", key)[1]) for key in ids} == {  # type: ignore[index]
        message_id for message_id, _status in outbox_rows
    }

    # The workers' own counts agree: the rounds that printed did each piece once between them
    # (the killed one was held in a delivery, the first kind of a round, after its last line).
    said = "".join(out.read_text() for out, _err in logs)
    assert sum(int(n) for n in re.findall(r"reminders (\d+)", said)) == len(reminded)
    assert sum(int(n) for n in re.findall(r"offers (\d+)", said)) == len(OFFERED)


_NOT_SENT = sa.select(sa.func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
_REMINDERS = sa.select(sa.func.count()).where(OutboxMessage.kind == "reminder")
_OFFERS = sa.select(sa.func.count()).where(OutboxMessage.kind == "waitlist_offer")


def _state(engine: Engine, peer: GatedPeer, logs: list[tuple[Path, Path]]) -> str:
    """What a failed wait saw: the arrivals, the outbox by kind and status, the workers' logs."""
    with db.new_session(engine) as check:
        outbox_rows = check.exec(
            sa.select(OutboxMessage.kind, OutboxMessage.status, sa.func.count()).group_by(
                OutboxMessage.kind, OutboxMessage.status
            )
        ).all()
    said = [f"{out.read_text()}{err.read_text()}" for out, err in logs]
    return f"{len(peer.messages)} arrived; outbox {outbox_rows}; workers: {said}"
