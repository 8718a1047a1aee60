"""`azctl mail send|test`: the outbox delivered as .eml files into the data dir."""

from __future__ import annotations

import email
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from email.message import Message
from pathlib import Path
from types import TracebackType

import pytest
from sqlalchemy.engine import Engine

from azctl import db
from azctl.models import OutboxMessage
from azctl.services import outbox, sender
from azctl.settings import reload_settings
from tests.commands.helpers import Cli, assert_error, count, describe, succeeded
from tests.helpers import finish, sigint_as_at_a_terminal, unchanged
from tests.smtp_peer import SMTPPeer


def mailbox(data_dir: Path) -> list[Message]:
    return [
        email.message_from_bytes(path.read_bytes())
        for path in sorted((data_dir / "mail").glob("*.eml"))
    ]


@pytest.fixture
def ticket(make_performance, confirmed):
    """A confirmed booking: its confirmation and its ticket are queued."""
    return confirmed(make_performance(), 2, name="Giulia Bianchi", email="giulia@example.org")


def test_send_writes_eml_files_and_reports_counts(
    cli: Cli, ticket, engine: Engine, isolated_settings: Path
):
    result = succeeded(cli("mail", "send"))
    mail_dir = isolated_settings / "mail"
    assert (result.stdout, result.stderr) == (
        f"Mail to {mail_dir}: sent 2, will retry 0, gave up on 0.\n",
        "",
    )
    messages = mailbox(isolated_settings)
    assert len(messages) == 2
    reference = ticket.reservation.reference
    assert sorted(message["Subject"] for message in messages) == [
        f"Please confirm your booking {reference}: Open Show",
        f"Your ticket {reference}: Open Show",
    ]
    assert {message["To"] for message in messages} == {"giulia@example.org"}
    assert count(engine, OutboxMessage, status="sent") == 2
    assert not list(mail_dir.glob(".*.tmp"))


def test_send_twice_sends_nothing_the_second_time(
    cli: Cli, ticket, engine: Engine, isolated_settings: Path
):
    succeeded(cli("mail", "send"))
    again = succeeded(cli("mail", "send"))
    assert again.stdout == (
        f"Mail to {isolated_settings / 'mail'}: sent 0, will retry 0, gave up on 0.\n"
    )
    assert len(mailbox(isolated_settings)) == 2


def test_the_ticket_mail_carries_the_qr_code_and_calendar_entry(
    cli: Cli, ticket, isolated_settings: Path
):
    succeeded(cli("mail", "send"))
    (message,) = [m for m in mailbox(isolated_settings) if m["Subject"].startswith("Your ticket")]
    attachments = {part.get_filename(): part.get_content_type() for part in message.walk()}
    assert attachments["ticket-qr.png"] == "image/png"
    assert attachments["performance.ics"] == "text/calendar"
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    assert f"/t/{ticket.ticket_token}" in body.get_payload(decode=True).decode()


def test_send_with_nothing_queued(cli: Cli, database_url: str, isolated_settings: Path):
    result = succeeded(cli("mail", "send"))
    assert result.stdout == (
        f"Mail to {isolated_settings / 'mail'}: sent 0, will retry 0, gave up on 0.\n"
    )


def test_test_message_is_queued_and_delivered(
    cli: Cli, database_url: str, engine: Engine, isolated_settings: Path
):
    result = succeeded(cli("mail", "test", "me@example.org"))
    assert (result.stdout, result.stderr) == (
        "Delivered a test message to me@example.org; sent 1, will retry 0, gave up on 0.\n",
        "",
    )
    (message,) = mailbox(isolated_settings)
    assert (message["To"], message["Subject"]) == ("me@example.org", "azctl test message")
    assert count(engine, OutboxMessage, kind="test", status="sent") == 1


def test_test_refuses_an_address_that_is_not_one(cli: Cli, database_url: str, engine: Engine):
    with unchanged(engine):
        assert_error(
            cli("mail", "test", "me-at-example"), "address: 'me-at-example' is not an email address"
        )


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_watch_sends_over_smtp_until_stopped(ticket, engine: Engine, stop_signal: str):
    """`mail send --watch` as an operator runs it: its own process, stopped with Ctrl-C or by a
    service manager, cleanly, after recording what it sent."""
    with SMTPPeer() as peer:
        env = {**os.environ, "AZCTL_SMTP_URL": peer.url}
        with sigint_as_at_a_terminal():
            watcher = subprocess.Popen(
                [sys.executable, "-m", "azctl", "mail", "send", "--watch", "--interval", "0.2"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        try:
            received = peer.wait_for(2, timeout=60)
            # Mail queued while it watches goes out on a later round.
            with db.new_session(engine) as session:
                outbox.queue_test_message(session, to_address="late@example.org")
            received = peer.wait_for(3, timeout=30)
        finally:
            watcher.send_signal(getattr(signal, stop_signal))
            stdout, stderr = finish(watcher, timeout=30)
    assert watcher.returncode == 0, stderr
    assert sorted(str(message["To"]) for message in received) == [
        "giulia@example.org",
        "giulia@example.org",
        "late@example.org",
    ]
    # One line per round that sent something; the late message may join the first round, which
    # claims message after message until none is due.
    rounds = [
        re.fullmatch(r"sent (\d), will retry 0, gave up on 0", line) for line in stdout.splitlines()
    ]
    assert all(rounds), stdout
    assert sum(int(found[1]) for found in rounds) == 3
    assert stderr == (
        "Sending mail to SMTP every 0.2 s; Ctrl-C stops.\n"
        "Stopping after the message in hand; Ctrl-C again stops at once.\n"
        "Stopped.\n"
    )
    assert count(engine, OutboxMessage, status="sent") == 3


def test_send_and_test_over_smtp(cli: Cli, ticket, engine: Engine):
    with SMTPPeer(login=("box", "secret")) as peer:
        env = {"AZCTL_SMTP_URL": peer.url}
        sent = succeeded(cli("mail", "send", env=env))
        assert sent.stdout == "Mail to SMTP: sent 2, will retry 0, gave up on 0.\n"
        tested = succeeded(cli("mail", "test", "me@example.org", env=env))
        received = peer.wait_for(3)
    assert tested.stdout == (
        "Delivered a test message to me@example.org; sent 1, will retry 0, gave up on 0.\n"
    )
    [test_message] = [message for message in received if message["To"] == "me@example.org"]
    assert test_message["Subject"] == "azctl test message"
    assert "mail works" in test_message.get_body(("plain",)).get_content()
    assert "mail works" in test_message.get_body(("html",)).get_content()
    assert len(received) == 3


def test_test_with_a_wrong_password_fails_and_keeps_the_message(
    cli: Cli, database_url: str, engine: Engine
):
    with SMTPPeer(login=("box", "secret")) as peer:
        result = cli(
            "mail",
            "test",
            "me@example.org",
            env={"AZCTL_SMTP_URL": peer.url_with(user="box", password="guess")},
        )
        assert peer.messages == []
    assert result.exit_code == 1, describe(result)
    assert result.stderr.startswith(
        "Error: the test message to me@example.org could not be delivered"
        " (SMTPAuthenticationError: (535"
    )
    assert result.stderr.endswith("it stays queued and will be retried\n")
    assert count(engine, OutboxMessage, status="queued") == 1


def test_an_unreachable_smtp_server_leaves_the_mail_queued(cli: Cli, ticket, engine: Engine):
    result = succeeded(cli("mail", "send", env={"AZCTL_SMTP_URL": "smtp://127.0.0.1:1"}))
    assert result.stdout == "Mail to SMTP: sent 0, will retry 2, gave up on 0.\n"
    assert count(engine, OutboxMessage, status="queued") == 2


def test_test_fails_when_the_message_is_not_delivered(cli: Cli, database_url: str):
    result = cli("mail", "test", "me@example.org", env={"AZCTL_SMTP_URL": "smtp://127.0.0.1:1"})
    assert result.exit_code == 1, describe(result)
    assert result.stderr.startswith("Error: ")


def test_an_unusable_smtp_url_is_a_configuration_error(cli: Cli, database_url: str, engine: Engine):
    with unchanged(engine):
        result = cli("mail", "test", "me@example.org", env={"AZCTL_SMTP_URL": "http://mail"})
    assert result.exit_code == 2, describe(result)
    assert len(result.stderr.splitlines()) == 1


# --- claims: a sender killed, a sender stopped at once ----------------------------------------


class Watcher:
    """`azctl mail send --watch` in a process of its own, its stderr read line by line; killed
    on the way out if it is still running."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "azctl", "mail", "send", "--watch", "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line.rstrip("\n"))

    def next_line(self, timeout: float = 60) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line on stderr in {timeout:g} s") from None

    def rest(self) -> list[str]:
        """The lines not read yet, once the process has ended and its stderr is closed."""
        self._reader.join(timeout=30)
        return list(self._lines.queue)

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)


def queue_notes(engine: Engine, count: int) -> list[int]:
    with db.new_session(engine) as session:
        return [
            outbox.queue_test_message(session, to_address=f"reader{number}@example.org").id or 0
            for number in range(count)
        ]


def row(engine: Engine, message_id: int) -> OutboxMessage:
    with db.new_session(engine) as session:
        return outbox.get_message(session, message_id=message_id)


def outbox_ids(received: list[Message]) -> list[int]:
    """The outbox rows that received mail was made from, by its Message-ID."""
    found = [re.fullmatch(r"<azctl\.(\d+)\..*>", str(m["Message-ID"])) for m in received]
    assert all(found), [m["Message-ID"] for m in received]
    return sorted(int(match[1]) for match in found if match)


def test_a_sender_killed_mid_delivery_leaves_the_message_to_another_after_the_lease(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """Killed while the server holds its message, a sender records nothing; its claim's lease
    runs out and the next sender delivers the message, once."""
    with SMTPPeer(delay=60) as peer:
        [message_id] = queue_notes(engine, 1)
        env = {**os.environ, "AZCTL_SMTP_URL": peer.url, "AZCTL_MAIL_LEASE": "4s"}
        with Watcher(env) as watcher:
            assert peer.receiving.wait(timeout=60), "the watcher never reached the server"
            watcher.process.kill()
            watcher.process.wait(timeout=30)
        killed = row(engine, message_id)
        assert (killed.status, killed.attempts) == ("sending", 0)
        assert killed.claim_id and killed.claimed_until

        peer.delay = 0
        monkeypatch.setenv("AZCTL_SMTP_URL", peer.url)
        reload_settings()
        deadline = time.monotonic() + 60
        while not sender.send_once().sent:
            assert time.monotonic() < deadline, "the message was not delivered after its lease"
            time.sleep(0.1)
        received = peer.wait_for(1)
        assert outbox_ids(received) == [message_id]
    delivered = row(engine, message_id)
    assert (delivered.status, delivered.attempts, delivered.claim_id) == ("sent", 1, None)


def test_ctrl_c_twice_stops_at_once_and_puts_the_claim_back(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    """The first Ctrl-C waits for the message in hand; on a slow server the operator presses
    it again, and the message the watcher claimed is queued again at once, not left leased."""
    with SMTPPeer(delay=60) as peer:
        held, waiting = queue_notes(engine, 2)
        env = {**os.environ, "AZCTL_SMTP_URL": peer.url, "AZCTL_MAIL_LEASE": "10m"}
        with Watcher(env) as watcher:
            assert watcher.next_line() == "Sending mail to SMTP every 0.2 s; Ctrl-C stops."
            assert peer.receiving.wait(timeout=60), "the watcher never reached the server"
            assert row(engine, held).status == "sending"
            watcher.process.send_signal(signal.SIGINT)
            assert watcher.next_line() == (
                "Stopping after the message in hand; Ctrl-C again stops at once."
            )
            watcher.process.send_signal(signal.SIGINT)
            assert watcher.process.wait(timeout=30) == 0
            assert watcher.rest() == ["Stopped at once; 1 unsent put back in the queue."]
        for message_id in (held, waiting):
            message = row(engine, message_id)
            assert (message.status, message.claim_id, message.claimed_until) == (
                "queued",
                None,
                None,
            )
            assert (message.attempts, message.last_error) == (0, None)

        peer.delay = 0
        monkeypatch.setenv("AZCTL_SMTP_URL", peer.url)
        reload_settings()
        assert sender.send_once().sent == 2
        # The interrupted delivery never finished at the server: each message arrives once.
        assert outbox_ids(peer.wait_for(2)) == [held, waiting]
