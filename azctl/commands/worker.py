"""`azctl worker`: the work that is due, done every few seconds (or once, for cron)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from azctl import errors
from azctl.commands.output import say, stderr

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
    handed_back = _run(interval)
    if handed_back is None:
        stderr.print("Stopped.")
    else:
        stderr.print(f"Stopped at once; {handed_back} unsent put back in the queue.", markup=False)


def _show(report: service.RoundReport) -> None:
    if report.failed:
        stderr.print(f"Worker round: {report.describe()}; trying again.", markup=False)
    else:
        say(f"Worker round: {report.describe()}.")


def _run(interval: float) -> int | None:
    """Run the worker loop until Ctrl-C or SIGTERM; returns None, or after a second one how
    many claimed messages were put back in the queue.

    As `azctl mail send --watch` does: the first stop lets the loop finish the piece of work in
    hand; the second stops at once, leaving the loop's thread to die with the process and
    handing back the mail it claimed but has not delivered. The signals only count here, to be
    acted on between waits.
    """
    from azctl.services import outbox
    from azctl.services import worker as service

    stop = threading.Event()
    finished = threading.Event()
    held = outbox.HeldClaims()
    stops = 0

    def loop() -> None:
        try:
            service.run_worker(stop=stop, interval=interval, on_report=_show, held=held)
        finally:
            finished.set()

    def count(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stops
        stops += 1

    threading.Thread(target=loop, name="azctl-worker", daemon=True).start()
    previous = {number: signal.signal(number, count) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not finished.wait(0.1):
            if stops >= 2:
                break
            if stops and not stop.is_set():
                stop.set()
                stderr.print(
                    "Stopping after the work in hand; Ctrl-C again stops at once.", markup=False
                )
        else:
            return None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return service.hand_back(held)  # a third Ctrl-C, if this hangs, aborts
