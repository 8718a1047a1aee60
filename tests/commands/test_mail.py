"""`azctl mail send|test`: the outbox delivered as .eml files into the data dir."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine

import azctl.commands.mail as mail_command
from azctl.models import OutboxMessage
from tests.commands.helpers import Cli, assert_error, count, describe, succeeded
from tests.helpers import unchanged


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


def test_watch_sends_until_interrupted(
    cli: Cli, ticket, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
):
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mail_command, "time", SimpleNamespace(sleep=interrupt))
    result = succeeded(cli("mail", "send", "--watch", "--interval", "0.5"))
    assert result.stdout == "sent 2, will retry 0, gave up on 0\n"
    assert result.stderr == (
        f"Sending mail to {isolated_settings / 'mail'} every 0.5 s; Ctrl-C stops.\nStopped.\n"
    )
    assert len(mailbox(isolated_settings)) == 2


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
