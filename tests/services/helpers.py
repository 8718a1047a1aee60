"""Helpers for the service tests: read the database afresh, prove a refusal changed nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from azctl import db, errors
from azctl.models import OutboxMessage, Performance, ReservationToken
from azctl.services import reports
from azctl.services.capacity import SeatCounts
from tests.helpers import unchanged


@contextmanager
def refused(
    engine: Engine, error: type[errors.AzctlError], code: str
) -> Iterator[pytest.ExceptionInfo[errors.AzctlError]]:
    """Expect `error` with the stable `code`, and that not one row of the database changed."""
    with unchanged(engine), pytest.raises(error) as info:
        yield info
    assert info.value.code == code


def fresh(engine: Engine, model: type[SQLModel], ident: object) -> Any:
    """A row as the database has it now, read in a new session."""
    with db.new_session(engine) as session:
        return session.get(model, ident)


def seats(engine: Engine, performance_id: int) -> SeatCounts:
    with db.new_session(engine) as session:
        return reports.performance_summary(session, performance_id=performance_id).seats


def performance_row(engine: Engine, performance_id: int) -> Performance:
    return fresh(engine, Performance, performance_id)


def tokens_of(
    engine: Engine, reservation_id: int, purpose: str | None = None
) -> list[ReservationToken]:
    with db.new_session(engine) as session:
        statement = select(ReservationToken).where(
            ReservationToken.reservation_id == reservation_id
        )
        if purpose is not None:
            statement = statement.where(ReservationToken.purpose == purpose)
        return list(session.exec(statement.order_by(col(ReservationToken.id))))


def messages(
    engine: Engine, *, reservation_id: int | None = None, kind: str | None = None
) -> list[OutboxMessage]:
    with db.new_session(engine) as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if reservation_id is not None:
            statement = statement.where(OutboxMessage.reservation_id == reservation_id)
        if kind is not None:
            statement = statement.where(OutboxMessage.kind == kind)
        return list(session.exec(statement))


def stored_text(engine: Engine, *, skip: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Every value stored in every column of every table, as text (JSON as its dump)."""
    found: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is None or (table.name, column) in skip:
                        continue
                    if isinstance(value, dict | list):
                        found.append(json.dumps(value))
                    elif isinstance(value, datetime):
                        found.append(value.isoformat())
                    else:
                        found.append(str(value))
    return found
