"""A confirmation whose database connection dies halfway, through the public endpoint.

The same kill as in tests/services/test_fault_connection.py, at each stage of the confirmation's
transaction, now under `POST /api/confirmations` and the confirm page's `POST /confirm/{token}`:
the visitor is told to try again (503 `unavailable` with `Retry-After`, as problem+json or as a
page), nothing of the confirmation was kept, and pressing the button again confirms exactly once.
PostgreSQL only: SQLite has no server connection to kill.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from azctl.http import forgery
from azctl.settings import get_settings
from tests.helpers import snapshot
from tests.http.helpers import FORM, assert_page, assert_problem, form_pass
from tests.services.helpers import seats
from tests.services.test_fault_connection import (
    NOT_ON_SQLITE,
    STAGE_IDS,
    STAGES,
    Killer,
    Victim,
    assert_confirmed_once,
    assert_still_pending,
    changed_tables,
    make_victim,
)


@pytest.fixture
def victim(backend: str, database_url: str) -> Iterator[Victim]:
    """The engine the app under test runs on, one pooled connection, pre-ping on."""
    if backend != "postgresql":
        pytest.skip(NOT_ON_SQLITE)
    made = make_victim(database_url, pool_size=1, max_overflow=0, pool_timeout=30)
    yield made
    made.engine.dispose()


@pytest.fixture
def admin(victim: Victim, engine: Engine) -> Iterator[sa.Connection]:
    """The second connection, on the test's own engine, that does the killing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def post_confirmation(client, endpoint: str, token: str):
    if endpoint == "api":
        return client.simulate_post("/api/confirmations", json={"token": token})
    # The token and cookie the confirm page gave the browser, made here: showing the page first
    # would put a read of its own on the one connection whose killing is under test.
    cookie, form_token = form_pass()
    return client.simulate_post(
        f"/confirm/{token}",
        body=urlencode({forgery.FIELD: form_token}),
        content_type=FORM,
        cookies={forgery.COOKIE: cookie},
    )


def ticket_token_of(result, endpoint: str) -> str:
    """The check-in token of the ticket the successful answer points the visitor at."""
    if endpoint == "api":
        assert result.status_code == 200, result.text
        assert result.json["status"] == "confirmed"
        url = result.json["ticket_url"]
    else:
        assert result.status_code == 303, result.text
        url = result.headers["Location"]
    # The API answers the public link; the page's 303 a path on the host the visitor used.
    base = re.escape(get_settings().public_url) if endpoint == "api" else ""
    ticket = re.fullmatch(rf"{base}/t/([0-9A-Z]{{32}})", url)
    assert ticket is not None, url
    return ticket[1]


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
@pytest.mark.parametrize("endpoint", ["api", "page"])
def test_a_confirmation_whose_connection_is_killed_is_a_503_and_a_retry_confirms_once(
    endpoint, stage, engine, victim, admin, make_client, make_performance, book
):
    """A visitor whose click meets a dying connection must be told to try again, not shown a
    500 or a half-made ticket, and the next click must confirm, once."""
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    client = make_client(over=victim.engine)
    killer = Killer(victim, admin, stage)
    before = snapshot(engine)

    killer.armed = True
    failed = post_confirmation(client, endpoint, submitted.confirm_token)

    assert killer.killed is not None, f"the confirmation never got to {stage.done}"
    if endpoint == "api":
        assert_problem(failed, 503, "unavailable")
    else:
        assert_page(failed, 503, "Please try again in a moment")
    assert int(failed.headers["Retry-After"]) > 0
    assert changed_tables(before, snapshot(engine)) == [], f"killed: {killer.killed_before}"
    assert_still_pending(engine, submitted)

    retried = post_confirmation(client, endpoint, submitted.confirm_token)

    assert_confirmed_once(engine, submitted, ticket_token_of(retried, endpoint))
    assert seats(engine, performance.id).confirmed_seats == 2
    again = post_confirmation(client, endpoint, submitted.confirm_token)
    assert again.status_code == 409  # token_used: a third press confirms nothing more
