"""Seats: how many are left, and changing the room without breaking what is confirmed.

Availability = room capacity + additional seats - manually occupied seats - confirmed party sizes
- party sizes of open waiting-list offers (DESIGN §3, §8). Only confirmed reservations and open
offers (entries `offered`, seats held for the party they were offered to) hold seats.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from azctl import db, errors
from azctl.models import CheckIn, Performance, Reservation, ReservationStatus, utcnow
from azctl.models.waitlist import WaitlistEntry, WaitlistStatus
from azctl.services import validation
from azctl.services.words import plural


def confirmed_seats_of(performance_id: object) -> sa.ScalarSelect[int]:
    """Σ party_size of confirmed reservations, as a subquery (`performance_id` may be a column,
    even `Reservation.performance_id`: the reservations counted are an alias of their own)."""
    counted = aliased(Reservation)
    return (
        select(sa.func.coalesce(sa.func.sum(counted.party_size), 0))
        .where(
            counted.performance_id == performance_id,
            counted.status == ReservationStatus.CONFIRMED,
        )
        .scalar_subquery()
    )


def held_seats_of(performance_id: object) -> sa.ScalarSelect[int]:
    """Σ party_size of open waiting-list offers, as a subquery: seats held for the party they
    were offered to until the offer is accepted (they become confirmed), lapses or is left."""
    held = aliased(WaitlistEntry)
    return (
        select(sa.func.coalesce(sa.func.sum(held.party_size), 0))
        .where(held.performance_id == performance_id, held.status == WaitlistStatus.OFFERED)
        .scalar_subquery()
    )


def checked_in_seats_of(performance_id: object) -> sa.ScalarSelect[int]:
    """Σ party_size of checked-in reservations, as a subquery."""
    return (
        select(sa.func.coalesce(sa.func.sum(Reservation.party_size), 0))
        .join(CheckIn, CheckIn.reservation_id == Reservation.id)  # type: ignore[arg-type]
        .where(CheckIn.performance_id == performance_id)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class SeatCounts:
    """One performance's seats at one moment."""

    room_capacity: int
    additional_seats: int
    manually_occupied_seats: int
    confirmed_seats: int
    checked_in_seats: int
    # Seats held by open waiting-list offers: not confirmed yet, but not free either.
    held_seats: int = 0

    @property
    def total_seats(self) -> int:
        return self.room_capacity + self.additional_seats

    @property
    def available_seats(self) -> int:
        return _free(
            self.total_seats, self.manually_occupied_seats, self.confirmed_seats + self.held_seats
        )

    @property
    def still_to_come_seats(self) -> int:
        return max(0, self.confirmed_seats - self.checked_in_seats)


def _free(total: int, occupied: int, confirmed: int) -> int:
    return max(0, total - occupied - confirmed)


def available_seats(performance: Performance, *, confirmed_seats: int, held_seats: int = 0) -> int:
    """The seats a booking may still take, given the confirmed and held seats just recounted."""
    return _free(
        performance.room_capacity + performance.additional_seats,
        performance.manually_occupied_seats,
        confirmed_seats + held_seats,
    )


def seat_counts(session: Session, *, performance: Performance) -> SeatCounts:
    confirmed, checked_in, held = session.exec(
        select(
            confirmed_seats_of(performance.id),
            checked_in_seats_of(performance.id),
            held_seats_of(performance.id),
        )
    ).one()
    return SeatCounts(
        room_capacity=performance.room_capacity,
        additional_seats=performance.additional_seats,
        manually_occupied_seats=performance.manually_occupied_seats,
        confirmed_seats=int(confirmed),
        checked_in_seats=int(checked_in),
        held_seats=int(held),
    )


def change_capacity(
    session: Session,
    *,
    performance_id: int,
    room_capacity: int | None = None,
    additional_seats: int | None = None,
    manually_occupied_seats: int | None = None,
    occupy: int | None = None,
) -> SeatCounts:
    """Set any of the three seat numbers, or move manually occupied seats by `occupy` (± walk-ins).

    Runs under the performance lock, so no confirmation slips in between the check and the
    change; a change that leaves fewer seats than are confirmed is refused and changes nothing.
    """
    if manually_occupied_seats is not None and occupy is not None:
        raise errors.InvalidInput("occupy", "give either --manual or --occupy, not both")
    for field, value in (
        ("capacity", room_capacity),
        ("additional", additional_seats),
        ("manual", manually_occupied_seats),
    ):
        if value is not None:
            validation.seats(field, value)
    if occupy is not None:
        _check_occupy(occupy)
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        return _set_seats(
            session,
            performance,
            room_capacity=room_capacity,
            additional_seats=additional_seats,
            manually_occupied_seats=manually_occupied_seats,
            occupy=occupy,
        )


def occupy_seats(session: Session, *, performance: Performance, occupy: int) -> SeatCounts:
    """Move a performance's manually occupied seats by `occupy`, inside the caller's `db.write`
    with the performance already locked: for a use case that writes more beside the seats."""
    _check_occupy(occupy)
    return _set_seats(session, performance, occupy=occupy)


def _check_occupy(occupy: int) -> None:
    validation.whole_number("occupy", occupy)
    if abs(occupy) > validation.MAX_SEATS:
        raise errors.InvalidInput("occupy", f"occupy: {occupy} is more seats than any room")


def _set_seats(
    session: Session,
    performance: Performance,
    *,
    room_capacity: int | None = None,
    additional_seats: int | None = None,
    manually_occupied_seats: int | None = None,
    occupy: int | None = None,
) -> SeatCounts:
    """The change itself, on a performance the caller has locked: refused whole if the seats
    would not hold what is confirmed and occupied."""
    counts = seat_counts(session, performance=performance)
    new_capacity = counts.room_capacity if room_capacity is None else room_capacity
    new_additional = counts.additional_seats if additional_seats is None else additional_seats
    new_manual = counts.manually_occupied_seats
    if manually_occupied_seats is not None:
        new_manual = manually_occupied_seats
    if occupy is not None:
        new_manual += occupy
    _check_fits(
        new_capacity,
        new_additional,
        new_manual,
        counts.confirmed_seats + counts.held_seats,
        occupy,
        held=counts.held_seats,
    )
    performance.room_capacity = new_capacity
    performance.additional_seats = new_additional
    performance.manually_occupied_seats = new_manual
    performance.updated_at = utcnow()
    session.flush()
    return seat_counts(session, performance=performance)


def _check_fits(
    capacity: int, additional: int, manual: int, taken: int, occupy: int | None, *, held: int
) -> None:
    """Refused: fewer seats than are `taken` (confirmed, and `held` by open waiting-list
    offers) and occupied."""
    confirmed = taken - held
    total = capacity + additional
    if manual < 0:
        occupied = manual - (occupy or 0)
        raise errors.CapacityConflict(
            f"cannot free {plural(-(occupy or 0), 'seat')}:"
            f" only {plural(occupied, 'is', 'are')} occupied"
        )
    if manual + confirmed + held > total:
        free = max(0, total - confirmed - held - (manual - (occupy or 0)))
        if occupy:
            raise errors.CapacityConflict(
                f"cannot occupy {plural(occupy, 'more seat')}:"
                f" only {plural(free, 'is', 'are')} free"
            )
        held_part = f", {held} held by waiting-list offers" if held else ""
        raise errors.CapacityConflict(
            f"{capacity} + {additional} additional seats would not hold the {confirmed} confirmed"
            f"{held_part} and {manual} manually occupied seats"
        )
