"""The public listing answers a worker keeps for `AZCTL_PUBLIC_CACHE_SECONDS`: a reload within that
time gets the same answer without a query, a later one sees the change, refusals are never kept,
and bookings and confirmations still count the seats afresh."""

from __future__ import annotations

from collections.abc import Callable

import falcon
import falcon.testing
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from azctl.http import cache
from azctl.http.app import create_app
from azctl.http.cache import AnswerCache
from azctl.models import Performance
from azctl.services import booking
from azctl.settings import get_settings, reload_settings
from tests.http.helpers import VISITOR


class Clock:
    """Stands in for the cache's `monotonic`, so the test says when time passes."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(cache, "monotonic", clock)
    return clock


@pytest.fixture
def cached_client(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> falcon.testing.TestClient:
    """A client over an app whose answers are kept 1 s of `clock`'s time, as in production."""
    monkeypatch.setenv("AZCTL_PUBLIC_CACHE_SECONDS", "1")
    reload_settings()
    return falcon.testing.TestClient(create_app(engine=engine, settings=get_settings()))


@pytest.fixture
def queries(engine: Engine) -> list[str]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def _book_and_confirm(session, performance: Performance, party_size: int) -> None:
    assert performance.id is not None
    submitted = booking.submit_booking(
        session, performance_id=performance.id, party_size=party_size, **VISITOR
    )
    booking.confirm_booking(session, token=submitted.confirm_token)


@pytest.mark.parametrize("path", ["/api/shows", "/api/shows/{slug}", "/api/performances/{id}"])
def test_a_reload_within_the_time_is_the_same_answer_without_a_query(
    cached_client, clock, queries, session, make_performance: Callable[..., Performance], path
):
    performance = make_performance(capacity=10, show_slug="locandiera")
    path = path.format(slug="locandiera", id=performance.id)
    first = cached_client.simulate_get(path)
    assert first.status_code == 200
    _book_and_confirm(session, performance, 3)
    queries.clear()

    clock.now += 0.9
    again = cached_client.simulate_get(path)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert not queries, "a kept answer must not touch the database"

    clock.now += 0.2
    later = cached_client.simulate_get(path)
    assert later.json != first.json
    assert queries


def test_refusals_are_not_kept(cached_client, clock, make_performance):
    assert cached_client.simulate_get("/api/shows/locandiera").status_code == 404
    make_performance(capacity=10, show_slug="locandiera")
    assert cached_client.simulate_get("/api/shows/locandiera").status_code == 200


def test_booking_still_counts_afresh(cached_client, clock, session, make_performance):
    """A kept listing that still shows seats free does not let a booking past a full house."""
    performance = make_performance(capacity=2)
    path = f"/api/performances/{performance.id}"
    assert cached_client.simulate_get(path).json["available_seats"] == 2
    _book_and_confirm(session, performance, 2)
    assert cached_client.simulate_get(path).json["available_seats"] == 2  # kept, as documented
    refused = cached_client.simulate_post(f"{path}/reservations", json={**VISITOR, "party_size": 1})
    assert refused.status_code == 409
    assert refused.json["code"] == "not_enough_seats"


def test_zero_seconds_means_every_answer_is_fresh(client, session, make_performance):
    performance = make_performance(capacity=10)
    path = f"/api/performances/{performance.id}"
    assert client.simulate_get(path).json["available_seats"] == 10
    _book_and_confirm(session, performance, 4)
    assert client.simulate_get(path).json["available_seats"] == 6


def test_the_cache_forgets_everything_rather_than_grow_without_bound():
    kept = AnswerCache(60)
    for number in range(3000):
        kept.answer(falcon.Response(), f"/api/performances/{number}", lambda: {"n": 1})
    assert len(kept._answers) <= cache.MAX_ANSWERS
