"""One place that hears of a worker that failed on a bug, so that the door never closes on one.

Every worker runs with `exit_on_error=False`; its failure is reported by the screen that ran it
to the app, which shows it in red and logs it, and the door goes on scanning.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState


class WorkerFailed(Message):
    """A worker ended on an exception that is not a domain refusal: a bug, to show and log."""

    def __init__(self, description: str, error: BaseException) -> None:
        super().__init__()
        self.description = description
        self.error = error


class ReportsWorkerErrors(Screen[Any]):
    """A screen whose workers' failures reach the app (a worker's state is not bubbled)."""

    @on(Worker.StateChanged)
    def report_worker_error(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.app.post_message(WorkerFailed(worker.description or worker.name, worker.error))
