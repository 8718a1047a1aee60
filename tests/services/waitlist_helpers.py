"""Helpers for the waiting-list tests: join a sold-out house, read the offers the worker mailed."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db
from azctl.models import Performance, WaitlistEntry
from azctl.services import waitlist
from tests.services.helpers import messages

_numbers = count(1)


def join(session: Session, performance: Performance, party_size: int = 2, **fields: Any):
    number = next(_numbers)
    assert performance.id is not None
    return waitlist.join(
        session,
        performance_id=performance.id,
        name=fields.pop("name", f"Waiting {number}"),
        email=fields.pop("email", f"waiting{number}@example.org"),
        party_size=party_size,
        **fields,
    )


def offer_token(engine: Engine, reference: str) -> str:
    """The raw token of the newest offer mailed for the entry `reference`."""
    found = [
        m for m in messages(engine, kind="waitlist_offer") if m.context["reference"] == reference
    ]
    assert found, f"no offer was mailed to {reference}"
    return str(found[-1].context["offer_token"])


def entry(engine: Engine, reference: str) -> WaitlistEntry:
    with db.new_session(engine) as session:
        return waitlist.entries.get_entry(session, reference=reference)


def statuses(engine: Engine, joined: list[Any]) -> list[str]:
    return [entry(engine, j.entry.reference).status for j in joined]


SoldOut = Callable[..., Performance]
