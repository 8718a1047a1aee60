"""Taking a booking's locks in the agreed order: its performance, then the reservation row.

Every write that changes a booking starts here, before it writes anything that references the
reservation (tokens, mail, check-ins): such an insert takes a key-share lock on the reservation
row, and one taken before the performance lock is how two confirmations of one link deadlocked.
See docs/architecture.md, "Lock order".
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from azctl import db, errors
from azctl.models import Performance, Reservation, ReservationToken, TokenPurpose
from azctl.services import tokens
from azctl.services.reservations import get_reservation

# Built once, with the token as a parameter: a rush runs these thousands of times, and building
# a statement costs Python more than the database takes to answer it.
BY_TOKEN = (
    ReservationToken.token_hash == sa.bindparam("token_hash"),
    ReservationToken.purpose == sa.bindparam("purpose"),
)
TOKEN_ROW = (
    select(ReservationToken, Reservation)
    .join(Reservation, Reservation.id == ReservationToken.reservation_id)  # type: ignore[arg-type]
    .where(*BY_TOKEN)
    .execution_options(populate_existing=True)
)
LOCKED_TOKEN_ROW = TOKEN_ROW.with_for_update()
_PERFORMANCE_OF_TOKEN = (
    select(Reservation.performance_id)
    .join(ReservationToken, ReservationToken.reservation_id == Reservation.id)  # type: ignore[arg-type]
    .where(*BY_TOKEN)
    .scalar_subquery()
)
# A booking moved to another performance while we waited is looked up again; more than this
# many moves during one wait is not a thing staff do.
_ATTEMPTS = 3


def token_params(raw: str, purpose: TokenPurpose) -> dict[str, str]:
    """The parameters that find a typed or scanned token's row, or `invalid_token`."""
    canonical = tokens.parse_scanned(raw)
    if canonical is None:
        raise errors.InvalidToken("this link is not valid")
    return {"token_hash": tokens.hash_token(canonical), "purpose": purpose}


def token_row(
    session: Session, params: dict[str, str], *, lock: bool = False
) -> tuple[ReservationToken, Reservation]:
    """A link's token and booking (locked if asked: only after `lock_performance_of_token`)."""
    statement = LOCKED_TOKEN_ROW if lock else TOKEN_ROW
    row = session.exec(statement, params=params).first()  # type: ignore[call-overload]
    if row is None:
        raise errors.InvalidToken("this link is not valid")
    return row


def lock_performance_of_token(session: Session, params: dict[str, str]) -> Performance:
    """Find and lock, in one statement, the performance a token's booking is for: the lock to
    hold before reading the booking itself."""
    performance = db.lock_performance_where(
        session, Performance.id == _PERFORMANCE_OF_TOKEN, params=params
    )
    if performance is None:
        raise errors.InvalidToken("this link is not valid")
    return performance


def lock_booking(
    session: Session,
    *,
    reference: str,
    shared: bool = False,
    also: Iterable[int] = (),
    performance_id: int | None = None,
) -> tuple[Reservation, dict[int, Performance]]:
    """Lock a booking by reference: its performance (with `also`, in ascending id), then its row.

    Returns the reservation, fresh, and the locked performances by id. `shared` is for check-in
    (see `db.lock_performances`); `performance_id`, where the caller has just read it, saves a
    look-up. Should the booking have moved to another performance while we waited for the lock,
    the locks are taken again for where it is now.
    """
    if performance_id is None:
        performance_id = get_reservation(session, reference=reference).performance_id
    for _ in range(_ATTEMPTS):
        locked = db.lock_performances(session, [performance_id, *also], shared=shared)
        reservation = get_reservation(session, reference=reference, lock=True)
        if reservation.performance_id in locked:
            return reservation, locked
        performance_id = reservation.performance_id
    raise errors.Unavailable("the booking kept moving while it was being changed; try again")
