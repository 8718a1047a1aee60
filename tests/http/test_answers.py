"""What every answer shares: security headers on JSON, pages, images and errors alike, and the
problem+json shape for every error, Falcon's own (unknown path, wrong method) included."""

from __future__ import annotations

from falcon.testing import TestClient

from azctl.http.app import get_app
from azctl.services import tokens
from tests.http.helpers import (
    assert_page,
    assert_problem,
    assert_security_headers,
    booking_body,
    post_form,
)


def test_every_kind_of_answer_carries_the_security_headers(
    client, performance, visitor_booking, visitor_ticket, bearer
):
    submitted = visitor_booking(performance)
    ticket = visitor_ticket(performance).ticket_token
    answers = {
        "json": client.simulate_get("/api/shows"),
        "openapi": client.simulate_get("/openapi.json"),
        "page": client.simulate_get(f"/confirm/{submitted.confirm_token}"),
        "redirect": post_form(client, f"/confirm/{submitted.confirm_token}"),
        "forged": client.simulate_post(f"/cancel/{submitted.cancel_token}"),
        "ticket": client.simulate_get(f"/t/{ticket}"),
        "png": client.simulate_get(f"/t/{ticket}.png"),
        "svg": client.simulate_get(f"/t/{ticket}.svg"),
        "accepted": client.simulate_post(
            f"/api/performances/{performance.id}/reservations", json=booking_body()
        ),
        "admitted": client.simulate_post(
            "/api/checkins",
            json={"token": ticket, "performance_id": performance.id},
            headers=bearer,
        ),
        "problem": client.simulate_post("/api/confirmations", json={}),
        "error page": client.simulate_get(f"/t/{tokens.new_token()}"),
        "unauthorized": client.simulate_post("/api/checkins", json={}),
        "no route": client.simulate_get("/nowhere"),
        "wrong method": client.simulate_put("/api/shows"),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "json": 200,
        "openapi": 200,
        "page": 200,
        "redirect": 303,
        "forged": 403,
        "ticket": 200,
        "png": 200,
        "svg": 200,
        "accepted": 202,
        "admitted": 201,
        "problem": 422,
        "error page": 404,
        "unauthorized": 401,
        "no route": 404,
        "wrong method": 405,
    }
    for answer in answers.values():
        assert_security_headers(answer)


UNKNOWN_PATHS = [
    "/shows",  # `/` is the season page (tests/http/test_season_pages.py)
    "/nowhere",
    "/api",
    "/api/shows/a/b",
    "/t",
    "/confirm",
    "/api/performances/1/x",
]
WRONG_METHODS = [
    ("POST", "/api/shows"),
    ("DELETE", "/api/shows/open-show"),
    ("PUT", "/api/performances/1"),
    ("GET", "/api/performances/1/reservations"),
    ("GET", "/api/confirmations"),
    ("GET", "/api/cancellations"),
    ("GET", "/api/checkins"),
    ("PATCH", "/health"),
    ("POST", "/openapi.json"),
    ("DELETE", "/confirm/ABC"),
    ("POST", "/t/ABC"),
]


def test_an_unknown_path_is_a_404_problem(client, subtests):
    for path in UNKNOWN_PATHS:
        with subtests.test(path=path):
            assert_problem(client.simulate_get(path), 404, "not_found")


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_an_unknown_path_asked_for_by_a_browser_is_a_page(client, subtests):
    """A visitor who mistypes an address reads a page in their language; a program that asks
    for JSON, or for anything (`*/*`), still gets problem+json."""
    for path in ["/nowhere", "/book/abc", "/t", "/api/shows/a/b"]:
        with subtests.test(path=path):
            page = assert_page(
                client.simulate_get(path, headers={"Accept": BROWSER}),
                404,
                "We could not find this page",
            )
            assert 'data-code="not_found"' in page
            for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
                answer = client.simulate_get(path, headers={"Accept": accept})
                assert_problem(answer, 404, "not_found")
    italian = client.simulate_get("/nowhere", headers={"Accept": BROWSER, "Accept-Language": "it"})
    assert_page(italian, 404, "Pagina non trovata")
    assert '<html lang="it">' in italian.text


def test_a_method_a_path_does_not_answer_is_a_405_problem(client, subtests):
    for method, path in WRONG_METHODS:
        with subtests.test(method=method, path=path):
            result = client.simulate_request(method, path)
            assert_problem(result, 405, "method_not_allowed")
            assert method not in result.headers["Allow"]


def test_a_trailing_slash_is_the_same_address(client, performance):
    assert client.simulate_get("/api/shows/").json == client.simulate_get("/api/shows").json


def test_the_gunicorn_entry_point_serves_the_configured_database(database_url, performance):
    result = TestClient(get_app()).simulate_get(f"/api/performances/{performance.id}")
    assert result.status_code == 200
    assert result.json["id"] == performance.id
