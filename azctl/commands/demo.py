"""`azctl demo`: a sample season, and where it went."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from azctl.commands.output import say

if TYPE_CHECKING:
    from azctl.settings import Settings


def _database(settings: Settings) -> str:
    """The database's URL as a newcomer can use it, without its password."""
    import sqlalchemy as sa

    return sa.make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _mail(settings: Settings) -> str:
    if settings.smtp_url:
        parts = urlsplit(settings.smtp_url)
        where = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        return f"azctl mail send (delivers it by SMTP to {where})"
    return (
        f"azctl mail send (writes each message as an .eml file into {settings.effective_mail_dir})"
    )


def demo() -> None:
    """Fill the database with a sample season and print what was made and where.

    Example: azctl demo && azctl perf list
    """
    from azctl import db
    from azctl.services import demo as demo_service
    from azctl.settings import get_settings

    settings = get_settings()
    with db.session_scope() as session:
        report = demo_service.load_demo(session)
    if report.already_loaded:
        where = _database(settings)
        say(f"The demo season is already loaded in {where}; `azctl perf list` shows it.")
        return
    for line in report.lines:
        say(line)
    say("")
    say(f"Database:         {_database(settings)}")
    say(f"Tonight's door:   azctl perf show {report.tonight_id}")
    say(
        f"Scan a ticket:    azctl checkin scan {report.ticket_token}"
        f" --perf {report.tonight_id} --as anna"
    )
    say(f"Anna's API token: {report.staff_token} (shown once)")
    say(f"Queued mail:      {_mail(settings)}")
