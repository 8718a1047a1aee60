"""Seats: the availability formula, CHECK constraints, capacity changes and walk-ins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from azctl import errors
from azctl.services import booking, capacity, reports
from tests.services.helpers import performance_row, refused, seats


def test_availability_counts_only_confirmed_reservations(session, engine, make_performance, book):
    performance = make_performance(capacity=20, additional=5, manual=3)
    first = book(performance, 4)
    second = book(performance, 2)
    booking.confirm_booking(session, token=first.confirm_token)
    booking.confirm_booking(session, token=second.confirm_token)
    book(performance, 7)  # pending: interest, not a promise
    cancelled = book(performance, 1)
    booking.confirm_booking(session, token=cancelled.confirm_token)
    booking.cancel_by_token(session, token=cancelled.cancel_token)

    counts = seats(engine, performance.id)
    assert counts.confirmed_seats == 6
    assert counts.total_seats == 25
    assert counts.available_seats == 20 + 5 - 3 - 6
    assert counts.checked_in_seats == 0
    assert counts.still_to_come_seats == 6


def test_seat_counts_and_summary_agree(session, engine, make_performance, confirmed):
    performance = make_performance(capacity=12, additional=2, manual=1)
    confirmed(performance, 3)
    direct = capacity.seat_counts(session, performance=performance)
    summary = reports.performance_summary(session, performance_id=performance.id)
    assert direct == summary.seats
    assert summary.as_dict()["available_seats"] == 12 + 2 - 1 - 3


IMPOSSIBLE_SEATS = [
    ("room_capacity = -1", "room_capacity"),
    ("additional_seats = -1", "additional_seats"),
    ("manually_occupied_seats = -1", "manually_occupied_seats"),
    ("manually_occupied_seats = room_capacity + additional_seats + 1", "manually_occupied_seats"),
    ("room_capacity = 0, additional_seats = 0", "room_capacity"),
    ("checkin_opens_before_minutes = -1", "checkin_opens_before_minutes"),
    ("checkin_closes_after_minutes = -1", "checkin_closes_after_minutes"),
]


def test_check_constraints_refuse_impossible_seat_numbers_written_directly(
    engine, make_performance, subtests
):
    performance = make_performance(capacity=10, additional=2, manual=3)
    for assignment, column in IMPOSSIBLE_SEATS:
        with subtests.test(assignment=assignment):
            before = getattr(performance_row(engine, performance.id), column)
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(
                    sa.text(f"UPDATE performance SET {assignment} WHERE id = :id"),
                    {"id": performance.id},
                )
            assert getattr(performance_row(engine, performance.id), column) == before


def test_capacity_can_be_raised_and_lowered_down_to_the_confirmed_seats(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=10)
    confirmed(performance, 4)
    confirmed(performance, 2)
    counts = capacity.change_capacity(session, performance_id=performance.id, room_capacity=30)
    assert (counts.total_seats, counts.available_seats) == (30, 24)
    counts = capacity.change_capacity(session, performance_id=performance.id, room_capacity=6)
    assert counts.available_seats == 0
    assert performance_row(engine, performance.id).room_capacity == 6


def test_capacity_change_below_confirmed_is_refused_and_changes_nothing(
    session, engine, make_performance, confirmed, subtests
):
    performance = make_performance(capacity=8, additional=2)
    confirmed(performance, 4)
    confirmed(performance, 2)
    for change in (
        {"room_capacity": 3},
        {"room_capacity": 0},
        {"additional_seats": 0, "room_capacity": 5},
        {"manually_occupied_seats": 5},
    ):
        with subtests.test(change=change):
            with refused(engine, errors.CapacityConflict, "capacity_conflict") as info:
                capacity.change_capacity(session, performance_id=performance.id, **change)
            assert "6 confirmed" in info.value.message
    stored = performance_row(engine, performance.id)
    assert (stored.room_capacity, stored.additional_seats, stored.manually_occupied_seats) == (
        8,
        2,
        0,
    )
    assert seats(engine, performance.id).available_seats == 4


def test_additional_seats_cut_is_refused_when_confirmed_sit_in_them(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=4, additional=4)
    confirmed(performance, 3)
    confirmed(performance, 3)
    with refused(engine, errors.CapacityConflict, "capacity_conflict"):
        capacity.change_capacity(session, performance_id=performance.id, additional_seats=1)
    counts = capacity.change_capacity(session, performance_id=performance.id, additional_seats=2)
    assert (counts.total_seats, counts.available_seats) == (6, 0)


def test_occupy_walk_ins_takes_and_frees_seats(session, engine, make_performance, confirmed):
    performance = make_performance(capacity=10, manual=1)
    confirmed(performance, 3)
    counts = capacity.change_capacity(session, performance_id=performance.id, occupy=+2)
    assert (counts.manually_occupied_seats, counts.available_seats) == (3, 4)
    counts = capacity.change_capacity(session, performance_id=performance.id, occupy=-3)
    assert (counts.manually_occupied_seats, counts.available_seats) == (0, 7)
    counts = capacity.change_capacity(session, performance_id=performance.id, occupy=7)
    assert counts.available_seats == 0
    assert performance_row(engine, performance.id).manually_occupied_seats == 7


def test_occupying_more_than_is_free_is_refused_with_the_free_count(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=10, manual=2)
    confirmed(performance, 5)
    with refused(engine, errors.CapacityConflict, "capacity_conflict") as info:
        capacity.change_capacity(session, performance_id=performance.id, occupy=4)
    assert "only 3 are free" in info.value.message
    assert performance_row(engine, performance.id).manually_occupied_seats == 2


def test_freeing_more_walk_ins_than_are_occupied_is_refused(session, engine, make_performance):
    performance = make_performance(capacity=10, manual=2)
    with refused(engine, errors.CapacityConflict, "capacity_conflict") as info:
        capacity.change_capacity(session, performance_id=performance.id, occupy=-3)
    assert "only 2 are occupied" in info.value.message
    assert performance_row(engine, performance.id).manually_occupied_seats == 2


def test_invalid_capacity_input_is_refused(session, engine, make_performance, subtests):
    performance = make_performance(capacity=10)
    for change, field in (
        ({"manually_occupied_seats": 1, "occupy": 1}, "occupy"),
        ({"room_capacity": -1}, "capacity"),
        ({"additional_seats": -2}, "additional"),
        ({"manually_occupied_seats": -1}, "manual"),
        ({"room_capacity": "12"}, "capacity"),
    ):
        with subtests.test(change=change):
            with refused(engine, errors.InvalidInput, "invalid_input") as info:
                capacity.change_capacity(session, performance_id=performance.id, **change)
            assert info.value.field == field


def test_capacity_change_of_unknown_performance_is_not_found(session, engine):
    with refused(engine, errors.NotFound, "not_found"):
        capacity.change_capacity(session, performance_id=77, room_capacity=5)


def test_walk_ins_leave_no_seats_for_a_new_booking(session, engine, make_performance, book):
    performance = make_performance(capacity=6)
    capacity.change_capacity(session, performance_id=performance.id, occupy=5)
    with refused(engine, errors.NotEnoughSeats, "not_enough_seats") as info:
        book(performance, 2)
    assert info.value.details["available"] == 1


def test_walk_ins_after_booking_make_the_confirmation_sold_out(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=6)
    submitted = book(performance, 3)
    capacity.change_capacity(session, performance_id=performance.id, occupy=4)
    with refused(engine, errors.SoldOut, "sold_out") as info:
        booking.confirm_booking(session, token=submitted.confirm_token)
    assert info.value.details["available"] == 2


def test_occupy_must_be_a_whole_number(session, engine, make_performance):
    performance = make_performance(capacity=10)
    for walk_ins in (0.5, True, "2"):
        with refused(engine, errors.InvalidInput, "invalid_input") as info:
            capacity.change_capacity(session, performance_id=performance.id, occupy=walk_ins)
        assert info.value.field == "occupy"
