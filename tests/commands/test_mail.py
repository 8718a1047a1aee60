"""`azctl mail send|test`: the outbox delivered as .eml files into the data dir."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from azctl import db
from azctl.models import OutboxMessage
from azctl.services import outbox
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
    assert stdout == "sent 2, will retry 0, gave up on 0\nsent 1, will retry 0, gave up on 0\n"
    assert stderr == "Sending mail to SMTP every 0.2 s; Ctrl-C stops.\nStopped.\n"
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
