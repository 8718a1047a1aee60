"""`azctl mail`: delivering the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from azctl import errors
from azctl.commands.output import say, stderr
from azctl.commands.stopping import report_stopped, run_until_stopped

if TYPE_CHECKING:
    from azctl.services import outbox

app = typer.Typer(help="Mail: send the outbox, send a test message.", no_args_is_help=True)


def _describe(report: outbox.SendReport) -> str:
    text = f"sent {report.sent}, will retry {report.retrying}, gave up on {report.failed}"
    if report.lost:
        text += f", {report.lost} taken over by another sender"
    return text


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
    from azctl import db
    from azctl.services import sender
    from azctl.settings import get_settings

    settings = get_settings()
    where = "SMTP" if settings.smtp_url else str(settings.effective_mail_dir)
    if not watch:
        say(f"Mail to {where}: {_describe(sender.send_once())}.")
        return
    db.get_engine()  # a database that is not there or not migrated stops us now, not every round
    stderr.print(f"Sending mail to {where} every {interval:g} s; Ctrl-C stops.", markup=False)
    report_stopped(
        run_until_stopped(
            lambda stop, held: sender.run_sender(
                stop=stop, interval=interval, on_report=_show, held=held
            ),
            name="azctl-mail-sender",
            in_hand="the message in hand",
        )
    )


def _show(report: outbox.SendReport) -> None:
    if report.error:
        stderr.print(f"Mail not sent, trying again: {report.error}", markup=False)
    else:
        say(_describe(report))


@app.command("test")
def test(address: Annotated[str, typer.Argument(help="Where to send the test message.")]) -> None:
    """Queue a test message to ADDRESS and deliver the outbox now.

    Example: azctl mail test me@example.org
    """
    from azctl import db
    from azctl.models import OutboxStatus
    from azctl.services import outbox, sender

    with db.session_scope() as session:
        message = outbox.queue_test_message(session, to_address=address)
    report = sender.send_once()
    with db.session_scope() as session:
        delivered = outbox.get_message(session, message_id=message.id or 0)
    if delivered.status != OutboxStatus.SENT:
        raise errors.Unavailable(
            f"the test message to {address} could not be delivered ({delivered.last_error});"
            " it stays queued and will be retried"
        )
    say(f"Delivered a test message to {address}; {_describe(report)}.")
