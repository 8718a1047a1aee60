"""POST /api/checkins: a staff scan at the door, every result of `services/checkin.py`, a ScanLog
row for each attempt, and never the visitor's name, email, phone or notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from azctl import db
from azctl.models import CheckIn, ScanLog
from azctl.services import booking, staff, times, tokens
from azctl.settings import get_settings
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import assert_no_personal_data, assert_problem


@pytest.fixture
def scan(client, bearer):
    """Scans `token` at the door of `performance_id`, as Anna unless other headers are given.

    Whatever the result, the answer must not show the visitor's name, email, phone or notes.
    """

    def post(token, performance_id, *, headers=bearer):
        result = client.simulate_post(
            "/api/checkins",
            json={"token": token, "performance_id": performance_id},
            headers=headers,
        )
        assert_no_personal_data(result.text)
        return result

    return post


def scan_results(engine) -> list[tuple[str, int | None, str | None]]:
    """Each ScanLog row as (result, reservation id, staff username)."""
    with db.new_session(engine) as session:
        rows = session.exec(select(ScanLog).order_by(col(ScanLog.id))).all()
        usernames = {member.id: member.username for member in staff.list_staff(session)}
        return [(row.result, row.reservation_id, usernames.get(row.staff_id)) for row in rows]


def test_a_valid_ticket_is_admitted_with_only_what_the_door_needs(
    engine, scan, performance, visitor_ticket
):
    ticket = visitor_ticket(performance, 3)

    result = scan(ticket.ticket_token, performance.id)

    assert result.status_code == 201
    assert result.headers["Content-Type"] == "application/json"
    answer = result.json
    assert answer["result"] == "ok"
    assert answer["message"] == f"ADMIT 3: {ticket.reservation.reference}"
    assert (answer["reference"], answer["party_size"]) == (ticket.reservation.reference, 3)
    assert answer["performance_id"] == performance.id
    assert answer["performance"].startswith("Open Show, ")
    assert answer["checked_in_by"] == "anna"
    assert times.parse_iso(answer["checked_in_at"]) <= times.now_utc()
    assert count_rows(engine, CheckIn) == 1
    assert scan_results(engine) == [("ok", ticket.reservation.id, "anna")]


def test_the_ticket_url_from_the_qr_code_is_a_token_too(scan, performance, visitor_ticket):
    ticket = visitor_ticket(performance)
    url = f"{get_settings().public_url}/t/{ticket.ticket_token}"
    assert scan(f"  {url.lower()}\n", performance.id).status_code == 201


def test_a_second_scan_is_already_checked_in_saying_when_and_by_whom(
    engine, scan, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    first = scan(ticket.ticket_token, performance.id).json

    problem = assert_problem(scan(ticket.ticket_token, performance.id), 409, "already_checked_in")

    assert (problem["checked_in_at"], problem["checked_in_by"]) == (
        first["checked_in_at"],
        "anna",
    )
    assert problem["reference"] == ticket.reservation.reference
    assert "ALREADY CHECKED IN" in problem["detail"]
    assert count_rows(engine, CheckIn) == 1
    assert [row[0] for row in scan_results(engine)] == ["ok", "already_checked_in"]


def test_an_unknown_ticket_is_unknown_token_and_logged(engine, scan, performance, subtests):
    unknown = [tokens.new_token(), "not a ticket", "https://x/t/"]
    for token in unknown:
        with subtests.test(token=token):
            problem = assert_problem(scan(token, performance.id), 404, "unknown_token")
            assert problem.get("reference") is None
    assert scan_results(engine) == [("unknown_token", None, "anna")] * len(unknown)
    assert count_rows(engine, CheckIn) == 0


def test_a_confirmation_token_at_the_door_is_unknown(scan, performance, visitor_booking):
    submitted = visitor_booking(performance)
    assert_problem(scan(submitted.confirm_token, performance.id), 404, "unknown_token")


def test_a_ticket_replaced_by_a_resent_one_is_unknown(
    session, engine, scan, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.resend(session, reference=ticket.reservation.reference)
    assert_problem(scan(ticket.ticket_token, performance.id), 404, "unknown_token")
    assert count_rows(engine, CheckIn) == 0


def test_a_ticket_for_another_performance_names_the_right_one(
    engine, scan, make_performance, visitor_ticket
):
    tonight = make_performance()
    tomorrow = make_performance(starts_in=timedelta(days=1))
    ticket = visitor_ticket(tomorrow)

    problem = assert_problem(scan(ticket.ticket_token, tonight.id), 422, "wrong_performance")

    assert problem["performance_id"] == tomorrow.id
    assert problem["performance"] == f"Open Show, {times.short_local(tomorrow.starts_at)}"
    assert scan_results(engine) == [("wrong_performance", ticket.reservation.id, "anna")]
    assert count_rows(engine, CheckIn) == 0


def test_a_cancelled_bookings_ticket_is_not_confirmed(
    session, engine, scan, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.cancel_reservation(session, reference=ticket.reservation.reference)

    problem = assert_problem(scan(ticket.ticket_token, performance.id), 422, "not_confirmed")

    assert problem["reference"] == ticket.reservation.reference
    assert "cancelled" in problem["detail"]
    assert scan_results(engine) == [("not_confirmed", ticket.reservation.id, "anna")]


def test_a_ticket_of_a_cancelled_performance_says_so(
    session, engine, scan, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.cancel_performance(session, performance_id=performance.id)
    assert_problem(scan(ticket.ticket_token, performance.id), 422, "performance_cancelled")
    assert scan_results(engine) == [("performance_cancelled", ticket.reservation.id, "anna")]


@pytest.mark.parametrize(
    ("starts_in", "code"), [(timedelta(days=2), "too_early"), (timedelta(hours=-5), "too_late")]
)
def test_outside_the_door_window_gives_the_window_and_the_time_now(
    engine, scan, make_performance, visitor_ticket, starts_in, code
):
    performance = make_performance(starts_in=starts_in)
    ticket = visitor_ticket(performance, at=performance.starts_at - timedelta(hours=6))

    problem = assert_problem(scan(ticket.ticket_token, performance.id), 422, code)

    opens, closes = (
        times.parse_iso(problem[key]) for key in ("window_opens_at", "window_closes_at")
    )
    assert (opens, closes) == (
        performance.starts_at - timedelta(hours=3),
        performance.starts_at + timedelta(hours=4),
    )
    now = times.parse_iso(problem["now"])
    assert now < opens if code == "too_early" else now > closes
    assert scan_results(engine) == [(code, ticket.reservation.id, "anna")]
    assert count_rows(engine, CheckIn) == 0


def test_an_unknown_door_is_not_found(engine, scan, performance, visitor_ticket):
    ticket = visitor_ticket(performance)
    with unchanged(engine):
        assert_problem(scan(ticket.ticket_token, performance.id + 100), 404, "not_found")


def test_without_a_valid_staff_token_the_scan_is_unauthorized(
    engine, scan, performance, visitor_ticket, staff_token, subtests
):
    ticket = visitor_ticket(performance)
    refused = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {tokens.new_token()}"},
        {"Authorization": "Basic YW5uYTpzZWNyZXQ="},
        {"Authorization": f"Basic {staff_token}"},
        {"Authorization": staff_token},
    ]
    with unchanged(engine):
        for headers in refused:
            with subtests.test(headers=headers):
                result = scan(ticket.ticket_token, performance.id, headers=headers)
                assert_problem(result, 401, "unauthorized")
                assert result.headers["WWW-Authenticate"] == 'Bearer realm="azctl"'


def test_a_disabled_staff_members_token_is_unauthorized(
    session, engine, scan, performance, visitor_ticket, bearer
):
    ticket = visitor_ticket(performance)
    staff.disable_staff(session, username="anna")
    with unchanged(engine):
        assert_problem(
            scan(ticket.ticket_token, performance.id, headers=bearer), 401, "unauthorized"
        )


def test_the_bearer_scheme_is_case_insensitive(scan, performance, visitor_ticket, staff_token):
    ticket = visitor_ticket(performance)
    headers = {"Authorization": f"bearer {staff_token}"}
    assert scan(ticket.ticket_token, performance.id, headers=headers).status_code == 201


BAD_SCANS = [
    {"token": "x"},
    {"performance_id": 1},
    {"token": "x", "performance_id": "1"},
    {"token": "x", "performance_id": 0},
    {"token": "x", "performance_id": 2**31},
    {"token": "", "performance_id": 1},
    {"token": "x" * 501, "performance_id": 1},
    {"token": ["x"], "performance_id": 1},
    {"token": "x", "performance_id": 1, "staff": "anna"},
]


def test_a_bad_scan_request_is_422_and_logs_nothing(engine, client, bearer, subtests):
    with unchanged(engine):
        for body in BAD_SCANS:
            with subtests.test(body=body):
                result = client.simulate_post("/api/checkins", json=body, headers=bearer)
                assert_problem(result, 422, "invalid_input")
