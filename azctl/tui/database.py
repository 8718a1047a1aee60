"""How the door's workers reach the database: a session per job, and one kind of failure.

Workers run in threads and a session must not be shared between threads, so every job gets a
session of its own. A lost or refused connection surfaces from SQLAlchemy in many shapes; it is
turned here into `errors.Unavailable`, so that a screen handles domain refusals and a database
that has gone away in one `except` and tells the two apart by type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from azctl import db, errors

Result = TypeVar("Result")


def in_session(job: Callable[[Session], Result]) -> Result:
    """Run `job` in a new session; a database that cannot be reached raises `Unavailable`."""
    try:
        with db.session_scope() as session:
            return job(session)
    except SQLAlchemyError as exc:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        raise errors.Unavailable(f"the database is unavailable: {reason}") from exc
