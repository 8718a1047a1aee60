"""Guessing tokens over HTTP: a flood of guesses is cut off at the configured rate
limit with 429 and `Retry-After`, no guess ever gets in, and every guess that reached the door's
service left a ScanLog row that holds a fingerprint of the guess, never the guess itself.

tests/http/test_ratelimit.py proves the limiter's mechanics with one repeated request; these
tests send distinct, well-formed guesses while a real booking exists to be guessed at.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from azctl import db
from azctl.models import CheckIn, Reservation, ScanLog
from azctl.services import tokens
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import assert_page, assert_problem, post_form
from tests.services.helpers import fresh, stored_text

LIMIT = 5
GUESSES = 12
NOT_VALID = "This link is not valid"
TOO_MANY = "Too many tries"


@pytest.fixture
def limited(monkeypatch, make_client):
    """A client over an app limited to AZCTL_RATE_LIMIT=5/minute."""
    monkeypatch.setenv("AZCTL_RATE_LIMIT", f"{LIMIT}/minute")
    reload_settings()
    return make_client()


def guesses(count: int = GUESSES) -> list[str]:
    """Distinct guesses in the real token format: each parses, so each is hashed and looked up."""
    made = [tokens.new_token() for _ in range(count)]
    assert len(set(made)) == count
    return made


def assert_cut_off(answers, *, refused_with) -> None:
    """The first LIMIT answers come from the service, every later one is a 429 that says when."""
    for answer in answers[LIMIT:]:
        refused_with(answer)
        assert 1 <= int(answer.headers["Retry-After"]) <= 60


def scan_log(engine) -> list[ScanLog]:
    with db.new_session(engine) as session:
        return list(session.exec(select(ScanLog).order_by(col(ScanLog.id))))


def test_guessing_tickets_at_the_door_is_cut_off_and_every_guess_that_got_through_is_logged(
    engine, limited, bearer, performance, visitor_ticket
):
    """A stolen door-phone token cannot be used to search the ticket space: after LIMIT scans
    the phone gets 429; each scan before that is in the ScanLog as `unknown_token`, with the
    fingerprint of its guess and the staff member who sent it."""
    ticket = visitor_ticket(performance)
    sent = guesses()

    answers = [
        limited.simulate_post(
            "/api/checkins",
            json={"token": guess, "performance_id": performance.id},
            headers=bearer,
        )
        for guess in sent
    ]

    for answer in answers[:LIMIT]:
        assert_problem(answer, 404, "unknown_token")
    assert_cut_off(answers, refused_with=lambda a: assert_problem(a, 429, "rate_limited"))
    logged = scan_log(engine)
    assert [row.result for row in logged] == ["unknown_token"] * LIMIT
    assert {row.reservation_id for row in logged} == {None}
    assert {row.source for row in logged} == {"qr_scan"}
    assert len({row.staff_id for row in logged} - {None}) == 1
    assert [row.token_fingerprint for row in logged] == [
        tokens.fingerprint(tokens.hash_token(guess)) for guess in sent[:LIMIT]
    ]
    assert all(re.fullmatch("[0-9a-f]{12}", row.token_fingerprint or "") for row in logged)
    # No guess got in, and no guess is kept anywhere in the database in any spelling.
    assert count_rows(engine, CheckIn) == 0
    assert fresh(engine, Reservation, ticket.reservation.id).status == "confirmed"
    stored = "\n".join(stored_text(engine)).upper()
    assert not [guess for guess in sent if guess in stored]


def test_guessing_staff_tokens_is_cut_off_and_reaches_nothing(
    engine, limited, performance, visitor_ticket
):
    """Guessing the Bearer token counts against the scan limit before authentication is tried,
    so a guesser gets LIMIT tries a minute; a refused guess never reaches the door's service."""
    ticket = visitor_ticket(performance)
    with unchanged(engine):
        answers = [
            limited.simulate_post(
                "/api/checkins",
                json={"token": ticket.ticket_token, "performance_id": performance.id},
                headers={"Authorization": f"Bearer {guess}"},
            )
            for guess in guesses()
        ]
    for answer in answers[:LIMIT]:
        assert_problem(answer, 401, "unauthorized")
    assert_cut_off(answers, refused_with=lambda a: assert_problem(a, 429, "rate_limited"))


LINK_ENDPOINTS = {
    "api confirmation": ("/api/confirmations", "json"),
    "api cancellation": ("/api/cancellations", "json"),
    "confirm page": ("/confirm/{token}", "page"),
    "cancel page": ("/cancel/{token}", "page"),
}


def test_guessing_emailed_links_is_cut_off_and_changes_nothing(
    engine, monkeypatch, make_client, performance, visitor_booking, subtests
):
    """A pending booking sits there to be guessed at; at each endpoint every guess is refused
    as not valid until the limit, then 429, and not one row of the database changes (nothing
    is confirmed, cancelled or expired by a guess)."""
    monkeypatch.setenv("AZCTL_RATE_LIMIT", f"{LIMIT}/minute")
    reload_settings()
    submitted = visitor_booking(performance)
    for endpoint, (path, kind) in LINK_ENDPOINTS.items():
        with subtests.test(endpoint=endpoint):
            limited = make_client()  # counts of its own

            def send(guess, path=path, kind=kind, limited=limited):
                if kind == "json":
                    return limited.simulate_post(path, json={"token": guess})
                return post_form(limited, path.format(token=guess))

            with unchanged(engine):
                answers = [send(guess) for guess in guesses()]
                # Even the right token is refused now: the limit is on the client.
                right = submitted.confirm_token if "confirm" in endpoint else submitted.cancel_token
                assert send(right).status_code == 429

            if kind == "json":
                for answer in answers[:LIMIT]:
                    assert_problem(answer, 404, "invalid_token")
                assert_cut_off(
                    answers, refused_with=lambda a: assert_problem(a, 429, "rate_limited")
                )
            else:
                for answer in answers[:LIMIT]:
                    assert_page(answer, 404, NOT_VALID)
                assert_cut_off(answers, refused_with=lambda a: assert_page(a, 429, TOO_MANY))
    assert fresh(engine, Reservation, submitted.reservation.id).status == "pending"
