"""Finding reservations: by reference, by performance, by what staff type into a search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import (
    CheckIn,
    Performance,
    Reservation,
    ReservationStatus,
    ReservationToken,
    Show,
    TokenPurpose,
    Venue,
)
from azctl.services import times, tokens

REFERENCE_PREFIX = "AZ-"


def normalise_reference(reference: str) -> str:
    """`az-7kq4m2`, `7KQ4M2` and ` AZ-7KQ4M2 ` all name `AZ-7KQ4M2`."""
    cleaned = reference.strip().upper()
    return cleaned if cleaned.startswith(REFERENCE_PREFIX) else REFERENCE_PREFIX + cleaned


def get_reservation(session: Session, *, reference: str, lock: bool = False) -> Reservation:
    """A reservation by its reference, fresh from the database (locked if asked)."""
    statement = (
        select(Reservation)
        .where(Reservation.reference == normalise_reference(reference))
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    reservation = session.exec(statement).first()
    if reservation is None:
        raise errors.NotFound(f"no reservation with reference {reference!r}")
    return reservation


def reservation_of_link(
    session: Session, *, token: str, purpose: TokenPurpose
) -> Reservation | None:
    """The booking an emailed link was made for, in whatever state it is now, or None when the
    text is no such link or one a newer mail replaced: for a page that tells a visitor what
    became of a link that no longer works, never to act on it."""
    canonical = tokens.parse_scanned(token)
    if canonical is None:
        return None
    statement = (
        select(Reservation)
        .join(ReservationToken, ReservationToken.reservation_id == Reservation.id)  # type: ignore[arg-type]
        .where(
            ReservationToken.token_hash == tokens.hash_token(canonical),
            ReservationToken.purpose == purpose,
            col(ReservationToken.revoked_at).is_(None),
        )
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


@dataclass(frozen=True)
class ReservationRow:
    """A reservation with what staff need beside it: its performance and check-in."""

    reservation: Reservation
    show: Show
    venue: Venue
    performance: Performance
    checked_in_at: datetime | None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "reference",
        "status",
        "checked_in",
        "checked_in_at",
        "name",
        "email",
        "phone",
        "party_size",
        "notes",
        "performance_id",
        "show",
        "starts_at",
        "created_at",
        "confirmed_at",
        "expires_at",
        "cancelled_at",
    )

    def as_dict(self) -> dict[str, Any]:
        reservation = self.reservation
        return {
            "reference": reservation.reference,
            "status": reservation.status,
            "checked_in": self.checked_in_at is not None,
            "checked_in_at": times.iso_local(self.checked_in_at),
            "name": reservation.name,
            "email": reservation.email,
            "phone": reservation.phone,
            "party_size": reservation.party_size,
            "notes": reservation.notes,
            "performance_id": reservation.performance_id,
            "show": self.show.slug,
            "starts_at": times.iso_local(self.performance.starts_at),
            "created_at": times.iso_local(reservation.created_at),
            "confirmed_at": times.iso_local(reservation.confirmed_at),
            "expires_at": times.iso_local(reservation.expires_at),
            "cancelled_at": times.iso_local(reservation.cancelled_at),
        }


def list_reservations(
    session: Session,
    *,
    performance_id: int | None = None,
    status: str | None = None,
    search: str | None = None,
    reference: str | None = None,
    limit: int | None = None,
) -> list[ReservationRow]:
    """Reservations, newest performance first then by name; `search` matches name, email or
    reference, in any case."""
    statement = (
        select(Reservation, Show, Venue, Performance, CheckIn.checked_in_at)
        .join(Performance, Performance.id == Reservation.performance_id)  # type: ignore[arg-type]
        .join(Show, Show.id == Performance.show_id)  # type: ignore[arg-type]
        .join(Venue, Venue.id == Performance.venue_id)  # type: ignore[arg-type]
        .outerjoin(CheckIn, CheckIn.reservation_id == Reservation.id)  # type: ignore[arg-type]
        .order_by(col(Performance.starts_at).desc(), col(Reservation.name), col(Reservation.id))
        .execution_options(populate_existing=True)
    )
    if performance_id is not None:
        if session.get(Performance, performance_id) is None:
            raise errors.NotFound(f"no performance with id {performance_id}")
        statement = statement.where(Reservation.performance_id == performance_id)
    if status is not None:
        if status not in set(ReservationStatus):
            known = ", ".join(ReservationStatus)
            raise errors.InvalidInput("status", f"status must be one of {known}, got {status!r}")
        statement = statement.where(Reservation.status == status)
    if reference is not None:
        statement = statement.where(Reservation.reference == normalise_reference(reference))
    if search and search.strip():
        escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        needle = f"%{escaped}%"
        statement = statement.where(
            col(Reservation.name).ilike(needle, escape="\\")
            | col(Reservation.email).ilike(needle, escape="\\")
            | col(Reservation.reference).ilike(needle, escape="\\")
        )
    if limit is not None:
        statement = statement.limit(limit)
    return [ReservationRow(*row) for row in session.exec(statement)]


def reservation_row(session: Session, *, reference: str) -> ReservationRow:
    rows = list_reservations(session, reference=reference)
    if not rows:
        raise errors.NotFound(f"no reservation with reference {reference!r}")
    return rows[0]
