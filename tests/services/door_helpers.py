"""Helpers for the door tests: rows and door counts read afresh, and a door's journal uploaded
as the door screen uploads it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from azctl import db
from azctl.models import Performance, Staff
from azctl.services import checkin_offline, door_copy
from azctl.services.checkin import ScanOutcome
from azctl.services.door_counts import Conflict, DoorCounts, conflicts, door_counts


def rows(engine: Engine, model: type[SQLModel], **where: Any) -> list[Any]:
    """The rows of `model` matching `where`, as committed, in id order."""
    with db.new_session(engine) as session:
        statement = select(model).order_by(col(model.id))  # type: ignore[attr-defined]
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return list(session.exec(statement))


def counts(engine: Engine, performance: Performance) -> DoorCounts:
    with db.new_session(engine) as session:
        return door_counts(session, performance_id=performance.id)  # type: ignore[arg-type]


def clashes(engine: Engine, performance: Performance) -> list[Conflict]:
    with db.new_session(engine) as session:
        return conflicts(session, performance_id=performance.id)  # type: ignore[arg-type]


def upload(
    engine: Engine, copy: door_copy.DoorCopy, staff: Staff | None = None
) -> list[ScanOutcome]:
    """What the door screen does once the database is back: each journalled pass in a
    transaction of its own."""
    answers = []
    for entry in copy.journal:
        with db.new_session(engine) as session:
            answers.append(
                checkin_offline.record_offline(
                    session,
                    performance_id=copy.door.performance_id,
                    nonce=entry.nonce,
                    passed_at=entry.passed_at,
                    token_hash=entry.token_hash,
                    reference=entry.reference,
                    door=entry.door,
                    direction=entry.direction,
                    staff=staff,
                )
            )
    return answers
