"""The CLI takes every address the shared rule takes (DESIGN §3): `azctl mail test`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from azctl.models import OutboxMessage
from tests.commands.helpers import Cli, count, succeeded
from tests.commands.test_mail import mailbox


def test_mail_test_takes_an_address_with_an_apostrophe(
    cli: Cli, database_url: str, engine: Engine, isolated_settings: Path
):
    result = succeeded(cli("mail", "test", "o'brien@example.org"))
    assert result.stdout.startswith("Delivered a test message to o'brien@example.org;")
    (message,) = mailbox(isolated_settings)
    assert message["To"] == "o'brien@example.org"
    assert count(engine, OutboxMessage, kind="test", status="sent") == 1
