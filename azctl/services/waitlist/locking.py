"""Finding and locking a waiting-list entry in the lock order: its performance, then the entry.

The entry and its tokens change with the seats (an open offer holds seats), so every write that
changes an entry takes its performance's row lock first, as a booking's writes do
(docs/architecture.md, "Lock order").
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from azctl import db, errors
from azctl.models import Performance, WaitlistEntry, WaitlistToken, WaitlistTokenPurpose
from azctl.services import tokens
from azctl.services.reservations import normalise_reference

_BY_TOKEN = (
    WaitlistToken.token_hash == sa.bindparam("token_hash"),
    WaitlistToken.purpose == sa.bindparam("purpose"),
)
TOKEN_ROW = (
    select(WaitlistToken, WaitlistEntry)
    .join(WaitlistEntry, WaitlistEntry.id == WaitlistToken.entry_id)  # type: ignore[arg-type]
    .where(*_BY_TOKEN)
    .execution_options(populate_existing=True)
)
_PERFORMANCE_OF_TOKEN = (
    select(WaitlistEntry.performance_id)
    .join(WaitlistToken, WaitlistToken.entry_id == WaitlistEntry.id)  # type: ignore[arg-type]
    .where(*_BY_TOKEN)
    .scalar_subquery()
)


def token_params(raw: str, purpose: WaitlistTokenPurpose) -> dict[str, str]:
    """The parameters that find a link's token row, or `invalid_token`."""
    canonical = tokens.parse_scanned(raw)
    if canonical is None:
        raise errors.InvalidToken("this link is not valid")
    return {"token_hash": tokens.hash_token(canonical), "purpose": purpose}


def token_row(
    session: Session, params: dict[str, str], *, lock: bool = False
) -> tuple[WaitlistToken, WaitlistEntry]:
    """A link's token and entry (locked if asked: only after its performance is locked)."""
    statement = TOKEN_ROW.with_for_update() if lock else TOKEN_ROW
    row = session.exec(statement, params=params).first()  # type: ignore[call-overload]
    if row is None:
        raise errors.InvalidToken("this link is not valid")
    return row


def lock_by_token(
    session: Session, params: dict[str, str]
) -> tuple[Performance, WaitlistToken, WaitlistEntry]:
    """Inside `db.write`: the performance of a link's entry, then the token and entry, locked."""
    performance = db.lock_performance_where(
        session, Performance.id == _PERFORMANCE_OF_TOKEN, params=params
    )
    if performance is None:
        raise errors.InvalidToken("this link is not valid")
    token, entry = token_row(session, params, lock=True)
    return performance, token, entry


def get_entry(session: Session, *, reference: str, lock: bool = False) -> WaitlistEntry:
    statement = (
        select(WaitlistEntry)
        .where(WaitlistEntry.reference == normalise_reference(reference))
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    entry = session.exec(statement).first()
    if entry is None:
        raise errors.NotFound(f"no waiting-list entry with reference {reference!r}")
    return entry


def lock_by_reference(session: Session, *, reference: str) -> tuple[Performance, WaitlistEntry]:
    """Inside `db.write`: an entry's performance, then the entry (entries never move)."""
    performance_id = get_entry(session, reference=reference).performance_id
    performance = db.lock_performance(session, performance_id)
    return performance, get_entry(session, reference=reference, lock=True)
