"""`azctl mail`: delivering the outbox."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from azctl import db, errors
from azctl.commands.output import say, stderr
from azctl.models import OutboxStatus
from azctl.services import mail, outbox
from azctl.settings import get_settings

app = typer.Typer(help="Mail: send the outbox, send a test message.", no_args_is_help=True)


def _send_once(transport: outbox.Transport | None = None) -> outbox.SendReport:
    with db.session_scope() as session:
        return outbox.send_due(
            session, transport=transport or mail.transport_from_settings(), render=mail.render
        )


def _describe(report: outbox.SendReport) -> str:
    return f"sent {report.sent}, will retry {report.retrying}, gave up on {report.failed}"


@app.command("send")
def send(
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep sending as mail is queued, until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between looks at the outbox with --watch.", min=0.1)
    ] = 5.0,
) -> None:
    """Deliver queued mail: by SMTP if AZCTL_SMTP_URL is set, else as .eml files.

    Example: azctl mail send --watch
    """
    settings = get_settings()
    where = "SMTP" if settings.smtp_url else str(settings.effective_mail_dir)
    if not watch:
        say(f"Mail to {where}: {_describe(_send_once())}.")
        return
    stderr.print(f"Sending mail to {where} every {interval:g} s; Ctrl-C stops.")
    try:
        while True:
            report = _send_once()
            if report.sent or report.retrying or report.failed:
                say(_describe(report))
            time.sleep(interval)
    except KeyboardInterrupt:
        stderr.print("Stopped.")


@app.command("test")
def test(address: Annotated[str, typer.Argument(help="Where to send the test message.")]) -> None:
    """Queue a test message to ADDRESS and deliver the outbox now.

    Example: azctl mail test me@example.org
    """
    transport = mail.transport_from_settings()
    with db.session_scope() as session:
        message = outbox.queue_test_message(session, to_address=address)
    report = _send_once(transport)
    with db.session_scope() as session:
        delivered = outbox.get_message(session, message_id=message.id or 0)
    if delivered.status != OutboxStatus.SENT:
        raise errors.Unavailable(
            f"the test message to {address} could not be delivered ({delivered.last_error});"
            " it stays queued and will be retried"
        )
    say(f"Delivered a test message to {address}; {_describe(report)}.")
