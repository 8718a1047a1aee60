"""POST /api/confirmations and /api/cancellations: the emailed tokens, used through the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from azctl.models import Reservation
from azctl.services import booking, catalog, checkin, times, tokens
from azctl.settings import reload_settings
from tests.helpers import unchanged
from tests.http.helpers import assert_problem
from tests.services.helpers import fresh, messages, tokens_of

PUBLIC_URL = "https://tickets.example.org"


@pytest.fixture
def public_url(monkeypatch):
    monkeypatch.setenv("AZCTL_PUBLIC_URL", PUBLIC_URL + "/")
    reload_settings()
    return PUBLIC_URL


def confirm(client, token):
    return client.simulate_post("/api/confirmations", json={"token": token})


def cancel(client, token):
    return client.simulate_post("/api/cancellations", json={"token": token})


def available(client, performance):
    return client.simulate_get(f"/api/performances/{performance.id}").json["available_seats"]


def test_confirming_answers_the_booking_and_its_ticket_url(
    engine, public_url, make_client, performance, visitor_booking
):
    client = make_client()
    submitted = visitor_booking(performance, 3)

    result = confirm(client, submitted.confirm_token)

    assert result.status_code == 200
    assert result.json["reference"] == submitted.reservation.reference
    assert (result.json["status"], result.json["party_size"]) == ("confirmed", 3)
    assert result.json["performance"] == {
        "id": performance.id,
        "show": "Open Show",
        "venue": "Teatro Studio",
        "starts_at": times.iso_local(performance.starts_at),
    }
    ticket = re.fullmatch(rf"{re.escape(public_url)}/t/([0-9A-Z]{{32}})", result.json["ticket_url"])
    assert ticket is not None
    [check_in_token] = tokens_of(engine, submitted.reservation.id, "check_in")
    assert check_in_token.token_hash == tokens.hash_token(ticket[1])
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"
    assert [m.kind for m in messages(engine)] == ["confirmation", "ticket"]
    assert available(client, performance) == 7


def test_a_token_in_another_spelling_confirms(client, performance, visitor_booking):
    submitted = visitor_booking(performance)
    spelled = "  " + "-".join(re.findall(".{1,8}", submitted.confirm_token.lower())) + " "
    assert confirm(client, spelled).status_code == 200


def test_an_unknown_token_is_invalid(engine, client, performance, visitor_booking, subtests):
    visitor_booking(performance)
    with unchanged(engine):
        for token in (tokens.new_token(), "nope", "x" * 200):
            with subtests.test(token=token):
                assert_problem(confirm(client, token), 404, "invalid_token")
                assert_problem(cancel(client, token), 404, "invalid_token")


def test_a_token_of_the_other_purpose_is_invalid(engine, client, performance, visitor_booking):
    submitted = visitor_booking(performance)
    with unchanged(engine):
        assert_problem(confirm(client, submitted.cancel_token), 404, "invalid_token")
        assert_problem(cancel(client, submitted.confirm_token), 404, "invalid_token")


def test_confirming_twice_is_token_used(engine, client, performance, visitor_booking):
    submitted = visitor_booking(performance)
    assert confirm(client, submitted.confirm_token).status_code == 200
    with unchanged(engine):
        assert_problem(confirm(client, submitted.confirm_token), 409, "token_used")


def test_an_expired_link_is_gone_and_the_booking_expires(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, at=times.now_utc() - timedelta(days=2))
    assert_problem(confirm(client, submitted.confirm_token), 410, "token_expired")
    assert fresh(engine, Reservation, submitted.reservation.id).status == "expired"
    assert available(client, performance) == 10


def test_a_party_that_no_longer_fits_is_sold_out_and_stays_pending(
    engine, client, make_performance, visitor_booking
):
    performance = make_performance(capacity=4)
    first = visitor_booking(performance, 3)
    second = visitor_booking(performance, 2)
    assert confirm(client, first.confirm_token).status_code == 200
    with unchanged(engine):
        problem = assert_problem(confirm(client, second.confirm_token), 409, "sold_out")
    assert problem["available"] == 1
    assert fresh(engine, Reservation, second.reservation.id).status == "pending"


def test_confirming_when_booking_has_closed_is_refused(
    session, engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    with unchanged(engine):
        assert_problem(confirm(client, submitted.confirm_token), 409, "booking_closed")


BAD_TOKEN_REQUESTS = [
    ({"json": {}}, 422, "invalid_input"),
    ({"json": {"token": 5}}, 422, "invalid_input"),
    ({"json": {"token": ""}}, 422, "invalid_input"),
    ({"json": {"token": "x" * 201}}, 422, "invalid_input"),
    ({"json": {"token": "x", "extra": 1}}, 422, "invalid_input"),
    ({"body": "{token", "content_type": "application/json"}, 400, "invalid_input"),
    ({"body": '["token"]', "content_type": "application/json"}, 400, "invalid_input"),
    ({"body": "token=x", "content_type": "text/plain"}, 415, "unsupported_media_type"),
]


def test_a_bad_token_request_is_refused(engine, client, subtests):
    with unchanged(engine):
        for path in ("/api/confirmations", "/api/cancellations"):
            for request, status, code in BAD_TOKEN_REQUESTS:
                with subtests.test(path=path, request=request):
                    assert_problem(client.simulate_post(path, **request), status, code)


def test_cancelling_a_confirmed_booking_frees_its_seats(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, 4)
    confirm(client, submitted.confirm_token)
    assert available(client, performance) == 6

    result = cancel(client, submitted.cancel_token)

    assert result.status_code == 200
    assert result.json["reference"] == submitted.reservation.reference
    assert result.json["status"] == "cancelled"
    assert result.json["message"]
    assert fresh(engine, Reservation, submitted.reservation.id).status == "cancelled"
    assert messages(engine)[-1].kind == "cancelled"
    assert available(client, performance) == 10


def test_cancelling_twice_is_token_used(engine, client, performance, visitor_booking):
    submitted = visitor_booking(performance)
    assert cancel(client, submitted.cancel_token).status_code == 200
    with unchanged(engine):
        assert_problem(cancel(client, submitted.cancel_token), 409, "token_used")
        assert_problem(confirm(client, submitted.confirm_token), 409, "token_used")


def test_cancelling_after_the_start_is_gone(
    session, engine, client, make_performance, visitor_booking
):
    started = make_performance(starts_in=timedelta(minutes=-30))
    booked_at = started.starts_at - timedelta(hours=1)
    submitted = visitor_booking(started, at=booked_at)
    booking.confirm_booking(session, token=submitted.confirm_token, now=booked_at)
    with unchanged(engine):
        assert_problem(cancel(client, submitted.cancel_token), 410, "token_expired")


def test_cancelling_after_check_in_is_refused(
    session, engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance)
    ticket = booking.confirm_booking(session, token=submitted.confirm_token)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    with unchanged(engine):
        assert_problem(cancel(client, submitted.cancel_token), 409, "invalid_state")
