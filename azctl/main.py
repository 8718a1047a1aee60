"""The composition root: the `azctl` command, its sub-apps, and the one place errors are shown.

Only this module joins the front ends; they never import one another.

`azctl --help` should answer at once, so nothing here or in `azctl.commands` loads the database
layer, the settings or a front end's library at import: each command loads what it uses when
it runs (tests/commands/test_startup.py holds that line).
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Any

import typer

from azctl import errors
from azctl.commands import (
    checkin,
    database,
    demo,
    mail,
    output,
    perf,
    report,
    res,
    show,
    staff,
    venue,
    waitlist,
    worker,
)
from azctl.ids import MAX_ID

# Raised by a group called without a command, carrying the group's help; it lives beside the
# BadParameter this Typer ships (its own copy of Click, or Click itself in older versions).
_NoArgsIsHelp = getattr(sys.modules[typer.BadParameter.__module__], "NoArgsIsHelpError", None)


class AzctlGroup(typer.core.TyperGroup):
    """Turns every error into one line on stderr: exit 1 for a refusal, 2 for usage or
    configuration. Nothing else reaches the user as a traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            outcome = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:  # Click's usage errors, as Typer ships them
            outcome = exc.exit_code
            message = exc.format_message().strip()
            if _NoArgsIsHelp is not None and isinstance(exc, _NoArgsIsHelp):
                typer.echo(message)  # a noun without a verb: its help, and exit 2
            elif message:
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
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            output.stderr.print(f"Error: cannot use{where}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            if _is_configuration_error(exc):
                output.stderr.print(f"Configuration error: {_problems(exc)}", markup=False)
                raise typer.Exit(2) from None
            if _is_unreachable_database(exc):
                reason = str(exc.orig or exc).strip().splitlines()[0]  # type: ignore[attr-defined]
                output.stderr.print(f"Error: the database is unavailable: {reason}", markup=False)
                raise typer.Exit(1) from None
            raise


# The settings' and the database's errors are recognised without importing pydantic or SQLAlchemy
# here: a process that never loaded them cannot have raised one.
def _is_configuration_error(exc: Exception) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(exc, pydantic.ValidationError)


def _is_unreachable_database(exc: Exception) -> bool:
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_errors is not None and isinstance(exc, sqlalchemy_errors.OperationalError)


def _problems(exc: Any) -> str:
    """`AZCTL_TIMEZONE: unknown time zone 'Mars/Olympus'`: each bad setting by its variable, in
    the words its check raised (pydantic's `Value error, ` before them says nothing to a person)."""
    return "; ".join(
        f"AZCTL_{'_'.join(str(part) for part in error['loc']).upper()}:"
        f" {error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors()
    )


app = typer.Typer(
    cls=AzctlGroup,
    name="azctl",
    help="azctl: the box office of a small theatre company.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Click's plain help: Rich's help panels would load Markdown and traceback rendering on
    # every `--help`, several times the cost of everything else it runs.
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(wanted: bool) -> None:
    if wanted:
        output.say(f"azctl {_version()}")
        raise typer.Exit()


def _version() -> str:
    """The installed distribution's version (what pip shows), else the package's own."""
    from importlib import metadata

    try:
        return metadata.version("azctl")
    except metadata.PackageNotFoundError:
        from azctl import __version__

        return __version__


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print azctl's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Venues, shows, performances, reservations, the door and mail, from the shell.

    Settings come from AZCTL_* environment variables; with none set, data lives in a SQLite
    file in your user data dir and mail is written as .eml files beside it.
    """
    # Each invocation reads the environment afresh (CliRunner changes it between calls). The
    # settings and the engines are forgotten only if loaded: a process that has not loaded
    # them has nothing to forget, and `--help` must not pay to load them.
    settings = sys.modules.get("azctl.settings")
    if settings is not None:
        settings.get_settings.cache_clear()
    database = sys.modules.get("azctl.db")
    if database is not None:
        database.dispose_engines()


app.add_typer(database.app, name="db")
app.add_typer(venue.app, name="venue")
app.add_typer(show.app, name="show")
app.add_typer(perf.app, name="perf")
app.add_typer(res.app, name="res")
app.add_typer(waitlist.app, name="waitlist")
app.add_typer(checkin.app, name="checkin")
app.add_typer(staff.app, name="staff")
app.add_typer(mail.app, name="mail")
app.command("report")(report.report)


def _checked_bind(value: str) -> str:
    """HOST:PORT (an IPv6 host in brackets, `[::1]:8000`) or `unix:PATH`, checked here so that
    a typo is one usage line rather than gunicorn's traceback."""
    if value.startswith("unix:") and len(value) > len("unix:"):
        return value
    host, _colon, port = value.rpartition(":")
    if not host or not re.fullmatch(r"[0-9]{1,5}", port):
        raise typer.BadParameter(f"expected HOST:PORT (e.g. 127.0.0.1:8000), got {value!r}")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise typer.BadParameter(f"write an IPv6 host in brackets, e.g. [::1]:8000, got {value!r}")
    if not 1 <= int(port) <= 65535:
        raise typer.BadParameter(f"port {int(port)} is not between 1 and 65535")
    return value


@app.command("serve")
def serve(
    bind: Annotated[
        str, typer.Option(help="HOST:PORT to listen on.", callback=_checked_bind)
    ] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.", min=1, max=64)] = 2,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            "--with-mailer",
            help="Also run `azctl worker` (mail, expiries, retention…) beside gunicorn;"
            " --with-mailer is the older name.",
        ),
    ] = False,
) -> None:
    """Serve the public booking endpoint with gunicorn.

    Example: AZCTL_PUBLIC_URL=https://tickets.example.org azctl serve --bind 0.0.0.0:8000
    --workers 4 --with-worker
    """
    from azctl.http import server

    server.serve(bind=bind, workers=workers, with_worker=with_worker)


@app.command("tui")
def tui(
    perf: Annotated[
        int | None,
        typer.Option("--perf", help="Open the door screen of this performance.", min=1, max=MAX_ID),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Staff username recorded on check-ins.")
    ] = None,
    door_name: Annotated[
        str | None,
        typer.Option(
            "--door", help="This entrance's name, recorded on every scan (default: main)."
        ),
    ] = None,
) -> None:
    """Open the door screen: scan tickets, manual check-in, walk-in seats, live counts; F6 turns
    scans into exits for the interval. Keeps admitting from a local copy if the database drops.

    Example: azctl tui --perf 12 --as anna --door side
    """
    from azctl.tui import app as door

    door.run(performance_id=perf, staff_username=as_user, door=door_name)


app.command("demo")(demo.demo)
app.command("worker")(worker.worker)


def main() -> None:
    app()
