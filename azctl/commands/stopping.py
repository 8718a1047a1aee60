"""Running a loop that claims mail (`mail send --watch`, `worker`) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from azctl.commands.output import stderr

if TYPE_CHECKING:
    from azctl.services.outbox import HeldClaims

Loop = Callable[[threading.Event, "HeldClaims"], None]


def run_until_stopped(loop: Loop, *, name: str, in_hand: str) -> int | None:
    """Run `loop(stop, held)` in a thread until it ends, or until Ctrl-C or SIGTERM; returns
    None, or after a second stop how many claimed messages were put back in the queue.

    The first stop lets the loop finish `in_hand` and record it, rather than leave it leased as
    if this process had died. The second stops at once: the loop's thread is left to die with
    the process, and what it claimed but has not delivered is handed back so that another
    sender need not wait out the lease. The signals only count here, to be acted on between
    waits: an exception thrown wherever the main thread happens to be (inside a print, say)
    could leave it half done.
    """
    from azctl.services import outbox, sender

    stop = threading.Event()
    finished = threading.Event()
    held = outbox.HeldClaims()
    stops = 0

    def run() -> None:
        try:
            loop(stop, held)
        finally:
            finished.set()

    def count(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stops
        stops += 1

    threading.Thread(target=run, name=name, daemon=True).start()
    # Ctrl-C, and a service manager's stop, alike.
    previous = {number: signal.signal(number, count) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not finished.wait(0.1):
            if stops >= 2:
                break
            if stops and not stop.is_set():
                stop.set()
                stderr.print(f"Stopping after {in_hand}; Ctrl-C again stops at once.", markup=False)
        else:
            return None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return sender.hand_back(held)  # a third Ctrl-C, if this hangs, aborts


def report_stopped(handed_back: int | None) -> None:
    if handed_back is None:
        stderr.print("Stopped.")
    else:
        stderr.print(f"Stopped at once; {handed_back} unsent put back in the queue.", markup=False)
