"""`azctl worker`: one round for cron (`--once`), and the loop as an operator runs it, in a
process of its own, stopped by a service manager."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from azctl import db
from azctl.models import OutboxStatus, Performance, Reservation, ReservationStatus
from azctl.services import booking, outbox
from tests.commands.helpers import Cli, describe, succeeded
from tests.helpers import finish, sigint_as_at_a_terminal
from tests.services.helpers import fresh, messages
from tests.smtp_peer import SMTPPeer

# What a round that found nothing else to do says after mail and expiry.
NOTHING_ELSE = "lapsed 0, offers 0, reminders 0, retention 0"


def test_once_does_one_round_and_says_what_it_did(
    cli: Cli,
    engine: Engine,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
) -> None:
    book(make_performance())
    book(make_performance(starts_in=timedelta(days=1)))
    first = succeeded(cli("worker", "--once"))
    assert first.stdout == f"Worker round: mail 2, expire 0, {NOTHING_ELSE}.\n"
    assert first.stderr == ""
    assert {message.status for message in messages(engine)} == {OutboxStatus.SENT}
    again = succeeded(cli("worker", "--once"))
    assert again.stdout == f"Worker round: mail 0, expire 0, {NOTHING_ELSE}.\n"


def test_once_fails_in_one_line_without_a_database(cli: Cli) -> None:
    result = cli(
        "worker", "--once", env={"AZCTL_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/none"}
    )
    assert result.exit_code == 1, describe(result)
    assert result.stderr.startswith("Error: the database is unavailable:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_once_says_which_kind_failed_and_exits_1(
    cli: Cli, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azctl.services import worker

    def broken(_engine: object, _now: object) -> int:
        raise RuntimeError("out of ideas")

    monkeypatch.setattr(worker, "KINDS", [("broken", broken), *worker.KINDS])
    result = cli("worker", "--once")
    assert result.exit_code == 1, describe(result)
    assert result.stdout == (
        f"Worker round: mail 0, expire 0, {NOTHING_ELSE};"
        " broken failed: RuntimeError: out of ideas.\n"
    )
    assert result.stderr == "Error: broken failed: RuntimeError: out of ideas\n"


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT"])
def test_the_worker_works_until_stopped(
    engine: Engine,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
    stop_signal: str,
) -> None:
    """`python -m azctl worker` in its own process: it sends mail queued before and while it
    runs, and a service manager's SIGTERM (or Ctrl-C) stops it cleanly with exit 0."""
    book(make_performance(), email="first@example.org")
    with SMTPPeer() as peer:
        env = {**os.environ, "AZCTL_SMTP_URL": peer.url}
        with sigint_as_at_a_terminal():
            process = subprocess.Popen(
                [sys.executable, "-m", "azctl", "worker", "--interval", "0.2"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        try:
            peer.wait_for(1, timeout=60)
            with db.new_session(engine) as session:
                outbox.queue_test_message(session, to_address="late@example.org")
            received = peer.wait_for(2, timeout=30)
        finally:
            process.send_signal(getattr(signal, stop_signal))
            stdout, stderr = finish(process, timeout=30)
    assert process.returncode == 0, stderr
    assert sorted(str(message["To"]) for message in received) == [
        "first@example.org",
        "late@example.org",
    ]
    # One line per round that did something; the late message may join the first round (the
    # sender claims message after message until none is due), and a round told to stop ends
    # after the kind in hand.
    rounds = [
        re.fullmatch(
            r"Worker round: mail (\d)"
            r"(, expire 0(, lapsed 0(, offers 0(, reminders 0(, retention 0)?)?)?)?)?\.",
            line,
        )
        for line in stdout.splitlines()
    ]
    assert all(rounds), stdout
    assert sum(int(found[1]) for found in rounds if found) == 2
    assert stderr == (
        "Working every 0.2 s; Ctrl-C stops.\n"
        "Stopping after the work in hand; Ctrl-C again stops at once.\n"
        "Stopped.\n"
    )


def test_serve_takes_with_worker_and_its_old_name(
    cli: Cli, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azctl.http import server

    started: list[bool] = []
    monkeypatch.setattr(server.Server, "run", lambda self: started.append(self.with_worker))
    succeeded(cli("serve", "--with-worker"))
    succeeded(cli("serve", "--with-mailer"))
    succeeded(cli("serve"))
    assert started == [True, True, False]


def test_once_expires_lapsed_pendings(
    cli: Cli,
    engine: Engine,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
) -> None:
    performance = make_performance()
    lapsed = book(performance).reservation
    with db.new_session(engine) as session, db.write(session):
        row = session.get(Reservation, lapsed.id)
        assert row is not None and row.expires_at is not None
        row.expires_at -= timedelta(days=2)
    result = succeeded(cli("worker", "--once"))
    assert result.stdout == f"Worker round: mail 1, expire 1, {NOTHING_ELSE}.\n"
    assert fresh(engine, Reservation, lapsed.id).status == ReservationStatus.EXPIRED
