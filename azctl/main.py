"""The composition root: the `azctl` command, its sub-apps, and the one place errors are shown.

Only this module joins the front ends; they never import one another.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from azctl import db, errors
from azctl.commands import checkin, database, demo, mail, output, perf, res, show, staff, venue
from azctl.models import MAX_ID
from azctl.settings import reload_settings


class AzctlGroup(typer.core.TyperGroup):
    """Turns every error into one line on stderr: exit 1 for a refusal, 2 for usage or
    configuration. Nothing else reaches the user as a traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            outcome = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:  # Click's usage errors, as Typer ships them
            outcome = exc.exit_code
            message = exc.format_message().strip()
            # A noun without a verb has already had its help printed, and carries no message.
            if message:
                output.stderr.print(f"Error: {message}", markup=False)
        except typer.Abort:
            output.stderr.print("Aborted.")
            outcome = 1
        if not standalone_mode:
            return outcome
        sys.exit(outcome if isinstance(outcome, int) else 0)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # Bytes in a shell argument that are not UTF-8 reach Python as lone surrogates, which no
        # database driver can send: refused here, for every command, before anything runs.
        for arg in args:
            try:
                arg.encode()
            except UnicodeEncodeError:
                raise typer.BadParameter(f"{arg!r} is not UTF-8 text") from None
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.AzctlError as exc:
            output.stderr.print(f"Error: {exc.message}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(
                f"AZCTL_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
                for error in exc.errors()
            )
            output.stderr.print(f"Configuration error: {problems}", markup=False)
            raise typer.Exit(2) from None
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            output.stderr.print(f"Error: the database is unavailable: {reason}", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            output.stderr.print(f"Error: cannot use{where}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=AzctlGroup,
    name="azctl",
    help="azctl: the box office of a small theatre company.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root() -> None:
    """Venues, shows, performances, reservations, the door and mail, from the shell.

    Settings come from AZCTL_* environment variables; with none set, data lives in a SQLite
    file in your user data dir and mail is written as .eml files beside it.
    """
    # Each invocation reads the environment afresh (CliRunner changes it between calls).
    reload_settings()
    db.dispose_engines()


app.add_typer(database.app, name="db")
app.add_typer(venue.app, name="venue")
app.add_typer(show.app, name="show")
app.add_typer(perf.app, name="perf")
app.add_typer(res.app, name="res")
app.add_typer(checkin.app, name="checkin")
app.add_typer(staff.app, name="staff")
app.add_typer(mail.app, name="mail")


@app.command("serve")
def serve(
    bind: Annotated[str, typer.Option(help="HOST:PORT to listen on.")] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.", min=1, max=64)] = 2,
    with_mailer: Annotated[
        bool, typer.Option("--with-mailer", help="Also send the outbox from this process group.")
    ] = False,
) -> None:
    """Serve the public booking endpoint with gunicorn.

    Example: AZCTL_PUBLIC_URL=https://tickets.example.org azctl serve --bind 0.0.0.0:8000
    --workers 4 --with-mailer
    """
    from azctl.http import server

    server.serve(bind=bind, workers=workers, with_mailer=with_mailer)


@app.command("tui")
def tui(
    perf: Annotated[
        int | None,
        typer.Option("--perf", help="Open the door screen of this performance.", min=1, max=MAX_ID),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Staff username recorded on check-ins.")
    ] = None,
) -> None:
    """Open the door screen: scan tickets, manual check-in, walk-in seats, live counts.

    Example: azctl tui --perf 12 --as anna
    """
    from azctl.tui import app as door

    door.run(performance_id=perf, staff_username=as_user)


app.command("demo")(demo.demo)


def main() -> None:
    app()
