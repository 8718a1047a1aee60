"""GET /openapi.json: an OpenAPI 3.1 document of every path the endpoint serves.

Beyond this module, every test's client checks that each status it was answered on a documented
path and method is declared there (tests/http/conftest.py).
"""

from __future__ import annotations

import pytest

from azctl.settings import reload_settings

DESIGN_PATHS = {
    "/": {"get"},
    "/shows/{slug}": {"get"},
    "/posters/{digest}": {"get", "head"},
    "/health": {"get", "head"},
    "/api/shows": {"get"},
    "/api/shows/{slug}": {"get"},
    "/api/performances/{performance_id}": {"get"},
    "/api/performances/{performance_id}/reservations": {"post"},
    "/api/performances/{performance_id}/waitlist": {"post"},
    "/api/offers": {"post"},
    "/api/confirmations": {"post"},
    "/api/cancellations": {"post"},
    "/api/checkins": {"post"},
    "/book/{performance_id}": {"get", "post"},
    "/booked/{receipt}": {"get"},
    "/waitlist/{performance_id}": {"get", "post"},
    "/waitlisted/{receipt}": {"get"},
    "/offer/{token}": {"get", "post"},
    "/leave/{token}": {"get", "post"},
    "/confirm/{token}": {"get", "post"},
    "/cancel/{token}": {"get", "post"},
    "/t/{ticket}": {"get"},
    "/t/{ticket}/cancel": {"get", "post"},
    "/openapi.json": {"get"},
}


@pytest.fixture
def document(client):
    result = client.simulate_get("/openapi.json")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"
    return result.json


def test_it_is_openapi_3_1_describing_every_path_of_the_design(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert {path: set(methods) for path, methods in document["paths"].items()} == DESIGN_PATHS


def test_errors_are_declared_as_problems_and_answers_by_their_models(document):
    booking = document["paths"]["/api/performances/{performance_id}/reservations"]["post"]
    assert booking["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BookingRequest"
    }
    problem = booking["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    for reference in _references(document["paths"]):
        assert reference.removeprefix("#/components/schemas/") in schemas


def _references(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_the_scan_needs_the_staff_bearer_token(document):
    assert document["paths"]["/api/checkins"]["post"]["security"] == [{"staffToken": []}]
    assert document["components"]["securitySchemes"]["staffToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_it_follows_the_settings(monkeypatch, make_client):
    monkeypatch.setenv("AZCTL_MAX_PARTY_SIZE", "5")
    monkeypatch.setenv("AZCTL_PUBLIC_URL", "https://tickets.example.org")
    reload_settings()
    document = make_client().simulate_get("/openapi.json").json
    party_size = document["components"]["schemas"]["BookingRequest"]["properties"]["party_size"]
    assert (party_size["minimum"], party_size["maximum"]) == (1, 5)
    assert document["servers"] == [{"url": "https://tickets.example.org"}]


def test_the_booking_language_is_one_the_theatre_offers(monkeypatch, make_client):
    monkeypatch.setenv("AZCTL_LANGUAGES", "it,en")
    reload_settings()
    document = make_client().simulate_get("/openapi.json").json
    language = document["components"]["schemas"]["BookingRequest"]["properties"]["language"]
    assert {"type": "string", "maxLength": 16, "enum": ["it", "en"]} in language["anyOf"]


def test_every_page_form_post_declares_its_token_and_the_forbidden_answer(document):
    for path in ("/book/{performance_id}", "/confirm/{token}", "/cancel/{token}"):
        post = document["paths"][path]["post"]
        form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert "csrf_token" in form["properties"], path
        assert "403" in post["responses"], path
    assert "403" not in document["paths"]["/api/confirmations"]["post"]["responses"]


def test_an_undeclared_status_is_caught_by_the_clients_check(client):
    client.answered.append(("GET", "/api/shows/some-show", 418))
    client.answered.append(("GET", "/nowhere", 418))
    client.answered.append(("PUT", "/api/shows", 405))
    client.answered.append(("GET", "/api/shows/some-show", 500))
    assert client.undocumented() == [("GET", "/api/shows/{slug}", 418)]
    client.answered.clear()


def test_the_client_checks_what_it_answers(client):
    client.simulate_get("/api/shows/no-such-show")
    assert client.answered == [("GET", "/api/shows/no-such-show", 404)]
    assert client.undocumented() == []
