"""`azctl worker`: the work that is due, done every few seconds (or once, for cron)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from azctl import errors
from azctl.commands.output import say, stderr
from azctl.commands.stopping import report_stopped, run_until_stopped

if TYPE_CHECKING:
    from azctl.services import worker as service


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run one round, print what it did, and exit (cron).")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between rounds.", min=0.1, max=3600)
    ] = 5.0,
) -> None:
    """Do the work that is due: send mail, expire lapsed pendings, erase data past retention.

    Runs a round every few seconds until Ctrl-C or SIGTERM; any number of workers may run at
    once, on any number of hosts. Example: azctl worker --once
    """
    from azctl import db
    from azctl.services import worker as service

    if once:
        report = service.run_round(db.get_engine())
        say(f"Worker round: {report.describe() or 'nothing to do'}.")
        if report.failed:
            raise errors.Unavailable(
                "; ".join(f"{name} failed: {error}" for name, error in report.failed.items())
            )
        return
    db.get_engine()  # a database that is not there or not migrated stops us now, not every round
    stderr.print(f"Working every {interval:g} s; Ctrl-C stops.", markup=False)
    report_stopped(
        run_until_stopped(
            lambda stop, held: service.run_worker(
                stop=stop, interval=interval, on_report=_show, held=held
            ),
            name="azctl-worker",
            in_hand="the work in hand",
        )
    )


def _show(report: service.RoundReport) -> None:
    if report.failed:
        stderr.print(f"Worker round: {report.describe()}; trying again.", markup=False)
    else:
        say(f"Worker round: {report.describe()}.")
