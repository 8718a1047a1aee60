"""GET /health, /api/shows, /api/shows/{slug} and /api/performances/{id}: what a visitor may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from azctl.services import booking, catalog, tokens
from tests.helpers import unchanged
from tests.http.helpers import (
    assert_no_personal_data,
    assert_page,
    assert_problem,
    booking_body,
)

BAD_IDS = ["abc", "1.5", "0", "-1", "2147483648", "99999999999999999999", "%201", "1e3"]


def test_health_is_ok_when_the_database_answers(client):
    result = client.simulate_get("/health")
    assert result.status_code == 200
    assert result.json == {"status": "ok", "database": "ok"}
    head = client.simulate_head("/health")
    assert (head.status_code, head.content) == (200, b"")


@pytest.fixture
def unreachable_engine(backend, database_url, tmp_path):
    """An engine whose database cannot be reached: a SQLite file in a directory that does not
    exist (a plain engine, since azctl's own makes the directory), or a closed PostgreSQL port."""
    if backend == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'azctl.db'}")
    else:
        engine = sa.create_engine(sa.make_url(database_url).set(host="127.0.0.1", port=1))
    yield engine
    engine.dispose()


def test_an_unreachable_database_is_a_503_not_a_traceback(make_client, unreachable_engine):
    client = make_client(over=unreachable_engine)
    token = tokens.new_token()
    assert client.simulate_head("/health").status_code == 503
    problems = [
        client.simulate_get("/health"),
        client.simulate_get("/api/shows"),
        client.simulate_post("/api/confirmations", json={"token": token}),
    ]
    page = client.simulate_get(f"/confirm/{token}")
    for problem in problems:
        assert_problem(problem, 503, "unavailable")
    assert_page(page, 503, "Please try again in a moment")
    for answer in [*problems, page]:
        assert int(answer.headers["Retry-After"]) > 0


def test_shows_lists_only_published_shows_with_a_bookable_upcoming_performance(
    session, client, make_performance, confirmed
):
    listed = make_performance(capacity=10, manual=1)
    confirmed(listed, 3)
    make_performance(published=False)
    make_performance(show_slug="past-show", starts_in=timedelta(days=-1))
    closed = make_performance(show_slug="closed-show")
    catalog.set_booking_enabled(session, performance_id=closed.id, enabled=False)
    cancelled = make_performance(show_slug="cancelled-show")
    booking.cancel_performance(session, performance_id=cancelled.id)
    full = make_performance(show_slug="full-show", capacity=2)
    confirmed(full, 2)

    result = client.simulate_get("/api/shows")

    assert result.status_code == 200
    [show] = result.json["shows"]
    assert (show["slug"], show["title"]) == ("open-show", "Open Show")
    [shown] = show["performances"]
    assert shown["id"] == listed.id
    assert (shown["available_seats"], shown["booking"], shown["is_bookable"]) == (6, "open", True)
    assert shown["venue"] == {
        "slug": "teatro-studio",
        "name": "Teatro Studio",
        "city": "Milano",
        "address": None,
    }
    assert shown["starts_at"].endswith(("+01:00", "+02:00"))


def test_shows_and_performances_carry_no_personal_data(client, performance, visitor_ticket):
    visitor_ticket(performance)
    for path in ["/api/shows", "/api/shows/open-show", f"/api/performances/{performance.id}"]:
        result = client.simulate_get(path)
        assert result.status_code == 200
        assert_no_personal_data(result.text)
        assert "reference" not in result.text


def test_a_shows_page_lists_its_upcoming_performances_only(client, make_performance):
    later = make_performance(starts_in=timedelta(days=3))
    sooner = make_performance(starts_in=timedelta(days=1))
    make_performance(starts_in=timedelta(days=-1))
    result = client.simulate_get("/api/shows/open-show")
    assert result.status_code == 200
    assert result.json["slug"] == "open-show"
    assert [p["id"] for p in result.json["performances"]] == [sooner.id, later.id]


def test_an_unpublished_or_unknown_show_is_not_found(client, make_performance, subtests):
    make_performance(published=False)
    for slug in ["hidden-show", "no-such-show", "x" * 300, "%00", "a%00b"]:
        with subtests.test(slug=slug):
            assert_problem(client.simulate_get(f"/api/shows/{slug}"), 404, "not_found")


def test_a_performance_answers_its_availability(session, client, performance, confirmed):
    confirmed(performance, 4)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    result = client.simulate_get(f"/api/performances/{performance.id}")
    assert result.status_code == 200
    assert result.json["id"] == performance.id
    assert result.json["show"] == "open-show"
    assert result.json["available_seats"] == 6
    assert (result.json["booking"], result.json["is_bookable"]) == ("closed", False)


def test_a_started_performance_says_so(client, make_performance):
    started = make_performance(starts_in=timedelta(minutes=-5))
    result = client.simulate_get(f"/api/performances/{started.id}")
    assert (result.json["booking"], result.json["is_bookable"]) == ("started", False)


def test_a_performance_of_an_unpublished_show_is_not_found(client, make_performance):
    hidden = make_performance(published=False)
    assert_problem(client.simulate_get(f"/api/performances/{hidden.id}"), 404, "not_found")


def test_an_id_that_is_no_public_performance_is_a_404_problem(
    engine, client, performance, subtests
):
    with unchanged(engine):
        for performance_id in [*BAD_IDS, "2147483647", str(performance.id + 1)]:
            with subtests.test(performance_id=performance_id):
                path = f"/api/performances/{performance_id}"
                assert_problem(client.simulate_get(path), 404, "not_found")
                result = client.simulate_post(f"{path}/reservations", json=booking_body())
                assert_problem(result, 404, "not_found")
