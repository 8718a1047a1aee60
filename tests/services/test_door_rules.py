"""The rules the door screen asks the services for: a reference told from a token, a search that
folds accents both ways, a manual check-in judged before staff are asked, and walk-in seats that
are logged and kept to the check-in window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from azctl import db, errors
from azctl.models import Performance, ScanLog
from azctl.services import booking, checkin, checkin_lists, reservations, times, walkins
from azctl.services.checkin import ScanResult
from tests.services.helpers import fresh, refused


def scan_logs(engine) -> list[ScanLog]:
    with db.new_session(engine) as session:
        return list(session.exec(select(ScanLog).order_by(col(ScanLog.id))))


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("AZ-26PVX8", "AZ-26PVX8"),
        ("az-26pvx8", "AZ-26PVX8"),
        (" AZ 26PVX8 ", "AZ-26PVX8"),
        ("az26pvx8", "AZ-26PVX8"),
        ("a z - 2 6 p v x 8", "AZ-26PVX8"),
        ("AZ-O1LI23", "AZ-011123"),  # letters misread for digits, as tokens read them
    ],
)
def test_a_typed_reference_is_read_whatever_its_case_and_spaces(typed, reference):
    assert reservations.parse_reference(typed) == reference


@pytest.mark.parametrize(
    "typed",
    [
        "Y12Q8STV9TS6S3Z0B9PC9EZTMRHK9WNY",  # a token (fixed: parallel workers collect alike)
        "https://teatro.example/t/WR0RNZ49S18DVCE76CYDQ0RGECFKEBNJ",
        "AZ-26PVX",  # too short
        "AZ-26PVX89",  # too long
        "AZ-26PVU8",  # U is not in the alphabet
        "XY-26PVX8",
        "26PVX8",  # a bare code could be anything typed by mistake
        "",
    ],
)
def test_a_token_or_anything_else_is_not_a_reference(typed):
    assert reservations.parse_reference(typed) is None


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Françoise Çelik", "francoise celik"),
        ("ÇELİK", "celik"),
        ("Strauß", "strauss"),
        ("Ñoño", "nono"),
        ("AZ-26PVX8", "az-26pvx8"),
    ],
)
def test_folding_drops_case_and_accents(text, folded):
    assert reservations.fold(text) == folded


def names(rows) -> list[str]:
    return [row.reservation.name for row in rows]


def test_a_search_folds_accents_both_ways_on_both_databases(session, make_performance, book):
    performance = make_performance()
    book(performance, name="Françoise Çelik", email="fc@example.org")
    book(performance, name="Ayse Celik", email="ayse@example.org")
    book(performance, name="Zoë Renée", email="zoe@example.org")

    def found(text: str) -> list[str]:
        return names(
            reservations.list_reservations(session, performance_id=performance.id, search=text)
        )

    assert found("celik") == ["Ayse Celik", "Françoise Çelik"]
    assert found("çelik") == ["Ayse Celik", "Françoise Çelik"]
    assert found("CELİK") == ["Ayse Celik", "Françoise Çelik"]
    assert found("francoise") == ["Françoise Çelik"]
    assert found("franç") == ["Françoise Çelik"]
    assert found("zoe renee") == ["Zoë Renée"]
    assert found("example.org") == ["Ayse Celik", "Françoise Çelik", "Zoë Renée"]
    assert found("zebulon") == []


def test_a_search_keeps_the_order_and_the_limit_over_many_matches(
    session, make_performance, book, monkeypatch
):
    """More matches than one query loads by id: the order and the limit hold across them."""
    monkeypatch.setattr(reservations, "_IDS_PER_QUERY", 4)
    performance = make_performance(capacity=50)
    for number in (7, 3, 11, 0, 9, 1, 5, 10, 2, 8, 4, 6):
        book(performance, 1, name=f"Çelik {number:02d}", email=f"c{number}@example.org")
    book(performance, 1, name="Someone Else")

    every = reservations.list_reservations(session, performance_id=performance.id, search="celik")
    assert names(every) == [f"Çelik {number:02d}" for number in range(12)]
    first = reservations.list_reservations(session, search="CELIK 1", limit=2)
    assert names(first) == ["Çelik 10", "Çelik 11"]


def test_a_manual_check_in_that_would_be_admitted_is_not_refused_and_writes_nothing(
    session, engine, make_performance, confirmed
):
    performance = make_performance()
    ticket = confirmed(performance, 2)
    refusal = checkin.refusal_by_hand(
        session, reference=ticket.reservation.reference.lower(), performance_id=performance.id
    )
    assert refusal is None
    assert scan_logs(engine) == []


def test_refusals_by_hand_are_the_scans_refusals_and_are_logged(
    session, engine, make_performance, book, confirmed
):
    door = make_performance()
    other_night = make_performance(starts_in=timedelta(days=1))
    pending = book(door, 2).reservation.reference
    elsewhere = confirmed(other_night, 2).reservation.reference
    already = confirmed(door, 2)
    checkin.scan(session, text=already.ticket_token, performance_id=door.id)

    def refusal(reference: str) -> ScanResult:
        outcome = checkin.refusal_by_hand(session, reference=reference, performance_id=door.id)
        assert outcome is not None
        return outcome.result

    assert refusal(pending) is ScanResult.NOT_CONFIRMED
    assert refusal(elsewhere) is ScanResult.WRONG_PERFORMANCE
    assert refusal(already.reservation.reference) is ScanResult.ALREADY_CHECKED_IN
    assert refusal("AZ-222222") is ScanResult.UNKNOWN_TOKEN
    logged = [(log.result, log.source) for log in scan_logs(engine)][1:]
    assert logged == [
        ("not_confirmed", "manual"),
        ("wrong_performance", "manual"),
        ("already_checked_in", "manual"),
        ("unknown_token", "manual"),
    ]


def test_walk_in_seats_are_sold_given_back_and_listed_with_the_scans(
    session, engine, make_performance, anna
):
    performance = make_performance(capacity=3)
    sold = walkins.change_walk_ins(session, performance_id=performance.id, change=1, staff=anna)
    assert (sold.manually_occupied_seats, sold.available_seats) == (1, 2)
    walkins.change_walk_ins(session, performance_id=performance.id, change=-1, staff=anna)

    recent = checkin_lists.recent_scans(session, performance_id=performance.id)
    assert [(row.result, row.source, row.staff, row.reference) for row in recent] == [
        (walkins.GIVEN_BACK, walkins.SOURCE, "anna", None),
        (walkins.SOLD, walkins.SOURCE, "anna", None),
    ]
    assert fresh(engine, Performance, performance.id).manually_occupied_seats == 0


@pytest.mark.parametrize(
    ("starts_in", "why"),
    [(timedelta(days=10), "the door opens at"), (-timedelta(hours=5), "the door closed at")],
)
def test_walk_ins_outside_the_check_in_window_are_sold_only_anyway(
    starts_in, why, session, engine, make_performance
):
    performance = make_performance(starts_in=starts_in)
    with refused(engine, errors.InvalidState, "invalid_state") as refusal:
        walkins.change_walk_ins(session, performance_id=performance.id, change=1)
    assert why in refusal.value.message
    assert f"(now {times.short_local(times.now_utc())[:-6]}" in refusal.value.message

    walkins.change_walk_ins(session, performance_id=performance.id, change=1, anyway=True)
    assert fresh(engine, Performance, performance.id).manually_occupied_seats == 1
    walkins.change_walk_ins(session, performance_id=performance.id, change=-1)
    assert fresh(engine, Performance, performance.id).manually_occupied_seats == 0


def test_no_walk_ins_for_a_cancelled_performance_nor_beyond_the_room(
    session, engine, make_performance
):
    full = make_performance(capacity=1, manual=1)
    with refused(engine, errors.CapacityConflict, "capacity_conflict"):
        walkins.change_walk_ins(session, performance_id=full.id, change=1)
    cancelled = make_performance(starts_in=timedelta(hours=3))
    booking.cancel_performance(session, performance_id=cancelled.id)
    with refused(engine, errors.BookingClosed, "booking_closed"):
        walkins.change_walk_ins(session, performance_id=cancelled.id, change=1, anyway=True)
    with refused(engine, errors.InvalidInput, "invalid_input"):
        walkins.change_walk_ins(session, performance_id=full.id, change=0)
    assert scan_logs(engine) == []
