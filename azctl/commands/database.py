"""`azctl db`: the schema, which Alembic owns."""

from __future__ import annotations

import typer

from azctl.commands.output import JsonOption, emit_record, say

app = typer.Typer(help="Database: upgrade the schema, show its status.", no_args_is_help=True)


def _url_for_display() -> str:
    import sqlalchemy as sa

    from azctl.settings import get_settings

    return sa.make_url(get_settings().effective_database_url).render_as_string(hide_password=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the schema or migrate it to this version's newest revision.

    Example: AZCTL_DATABASE_URL=postgresql+psycopg://azctl@db/azctl azctl db upgrade
    """
    from azctl import db
    from azctl.settings import get_settings

    engine = db.create_engine(get_settings().effective_database_url)
    try:
        before = db.current_revision(engine)
        after = db.migrate(engine)
    finally:
        engine.dispose()
    if before == after:
        say(f"{_url_for_display()} is up to date at revision {after}.")
    else:
        say(f"{_url_for_display()} upgraded from {before or 'empty'} to revision {after}.")


@app.command("status")
def status(
    as_json: JsonOption = False,
) -> None:
    """Show which database is in use, its schema revision and the outbox.

    Example: azctl db status --json
    """
    from azctl import db
    from azctl.services import outbox
    from azctl.settings import get_settings

    engine = db.create_engine(get_settings().effective_database_url)
    try:
        current = db.current_revision(engine)
        head = db.head_revision()
        record: dict[str, object] = {
            "database": _url_for_display(),
            "revision": current,
            "head": head,
            "up_to_date": current == head,
        }
        if current == head:
            with db.session_scope(engine) as session:
                record["outbox"] = outbox.outbox_counts(session)
    finally:
        engine.dispose()
    emit_record(record, key="database", as_json=as_json)
