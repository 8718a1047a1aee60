"""Checks shared by the service and CLI tests, and the one way a test waits on a process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, AnyStr

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read on a connection of its own, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


@contextmanager
def unchanged(engine: Engine) -> Iterator[None]:
    """Assert that not one row of the database changed inside the block."""
    before = snapshot(engine)
    yield
    after = snapshot(engine)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"the tables {changed} changed"


def finish(
    process: subprocess.Popen[AnyStr], *, timeout: float
) -> tuple[AnyStr | None, AnyStr | None]:
    """Wait at most `timeout` seconds for `process` to end and return what it wrote (as
    `communicate()` does); past the deadline, kill it and fail the test with its output.

    A process started with `start_new_session=True` leads a group of its own, and the whole group
    is killed: a child it left behind would otherwise hold the pipes open and the test with them.
    """
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        stdout, stderr = process.communicate(timeout=10)
        raise AssertionError(
            f"{process.args!r} was still running after {timeout:g} s and was killed"
            f"\n--- stdout:\n{stdout!r}\n--- stderr:\n{stderr!r}"
        ) from None


def kill(process: subprocess.Popen[Any]) -> None:
    """SIGKILL `process`, and its group when it leads one; a process already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


@contextmanager
def sigint_as_at_a_terminal() -> Iterator[None]:
    """Children started inside the block get SIGINT at its default, as a program started from
    an interactive shell does, so Ctrl-C (SIGINT) stops them.

    A process started with SIGINT ignored keeps it ignored across exec, and Python honours that:
    a shell ignores SIGINT for the jobs it puts in the background, so they survive a Ctrl-C
    meant for the foreground. Run from such a shell, pytest would pass the ignored SIGINT on
    to the commands it starts. Setting a handler here (in the main thread; `preexec_fn` is not
    safe with the threads a test runs) makes exec give the child the default back.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
