"""The public endpoint fuzzed from its own `/openapi.json` with schemathesis.

Every generated request must get an answer that is not a server error, whose status, content
type, headers and body the document promises for that operation. The database is seeded first,
and the generator is handed the seeded slugs, ids and tokens (and a few hostile spellings of
them) beside its own values, so requests reach real records and real state changes, not only
the 404 of a random path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl.http import book as book_pages
from azctl.http import forgery
from azctl.http.app import create_app
from azctl.models import Performance, ReservationStatus
from azctl.services import booking, reservations, staff, times
from azctl.settings import get_settings, reload_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25  # per operation; the whole fuzz stays a few seconds per database


@dataclass(frozen=True)
class Seeded:
    """What the fuzzed app's database holds before the first request."""

    performance_id: int  # open, starts in 2 h: booking and check-in both possible
    later_performance_id: int  # open, in 3 days: check-in too early
    hidden_performance_id: int  # of an unpublished show: not public
    pending_reference: str  # a pending booking of 2 at `performance_id`, and its two tokens
    confirm_token: str
    cancel_token: str
    ticket_reference: str  # a confirmed booking of 3 at `performance_id`, and its two tokens
    ticket_token: str
    ticket_cancel_token: str
    staff_token: str  # of an active box-office member
    receipt: str  # of the pending booking: its /booked/{receipt} page
    form_cookie: str  # what a browser holds after showing a page with a form: its cookie
    form_token: str  # and the anti-forgery token of that page's form


@pytest.fixture
def seeded(
    session: Session,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
) -> Seeded:
    performance = make_performance(capacity=40)
    later = make_performance(capacity=10, starts_in=timedelta(days=3))
    hidden = make_performance(capacity=10, published=False)
    pending = book(performance, party_size=2)
    to_confirm = book(performance, party_size=3)
    confirmed = booking.confirm_booking(session, token=to_confirm.confirm_token)
    _member, staff_token = staff.add_staff(session, username="door", role="box_office")
    assert performance.id and later.id and hidden.id
    form_cookie = forgery.new_cookie()
    receipt = book_pages.booked_path(pending.reservation.reference)
    return Seeded(
        performance_id=performance.id,
        later_performance_id=later.id,
        hidden_performance_id=hidden.id,
        pending_reference=pending.reservation.reference,
        confirm_token=pending.confirm_token,
        cancel_token=pending.cancel_token,
        ticket_reference=confirmed.reservation.reference,
        ticket_token=confirmed.ticket_token,
        ticket_cancel_token=to_confirm.cancel_token,
        staff_token=staff_token,
        receipt=receipt.removeprefix("/booked/").partition("#")[0],
        form_cookie=form_cookie,
        form_token=forgery.token_for(form_cookie),
    )


def _path_values(seeded: Seeded) -> dict[str, list[Any]]:
    """Values worth trying for each path parameter, already percent-encoded as sent."""
    tokens = [seeded.confirm_token, seeded.cancel_token, seeded.ticket_token]
    hostile = ["%00", "%FF", "%C0%80", "%0A", "x" * 2000]
    return {
        "slug": ["open-show", "OPEN-SHOW", "hidden-show", "open-show%00", *hostile],
        "performance_id": [
            seeded.performance_id,
            seeded.later_performance_id,
            seeded.hidden_performance_id,
        ],
        "token": [*tokens, seeded.confirm_token.lower(), f"{seeded.ticket_token}%00", *hostile],
        "receipt": [seeded.receipt, seeded.receipt[:-2], seeded.form_token, *hostile],
        "ticket": [
            seeded.ticket_token,
            f"{seeded.ticket_token}.png",
            f"{seeded.ticket_token}.svg",
            f"{seeded.ticket_token}.pdf",
            f"{seeded.confirm_token}.png",
            f"{seeded.ticket_token}%00.png",
            *hostile,
        ],
    }


# The pages whose form POST needs the anti-forgery token and cookie.
FORM_PAGES = {
    "/book/{performance_id}",
    "/confirm/{token}",
    "/cancel/{token}",
    "/t/{ticket}/cancel",
}
GOOD_FORM = {
    "name": "Fuzz",
    "email": "fuzz@example.org",
    "party_size": "1",
    "consent": "yes",
}


def _body_variants(seeded: Seeded, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The generated body with seeded values put in where they make it reach the database."""
    if path in FORM_PAGES:
        signed = {**body, "csrf_token": seeded.form_token}
        if path.startswith("/book/"):
            return [
                signed,
                {**signed, **GOOD_FORM},
                {**GOOD_FORM, **body, "csrf_token": seeded.form_token},
            ]
        return [signed]
    if path.endswith("/reservations"):
        # Valid where it must be, so the generated name, phone and notes reach the database.
        valid = {"email": "fuzz@example.org", "party_size": 1}
        return [
            {**body, **valid},
            {**valid, "name": body.get("name")},
            {**valid, "name": "Fuzz", "phone": body.get("phone"), "notes": body.get("notes")},
            {**body, **valid, "party_size": 9},  # one more than AZCTL_MAX_PARTY_SIZE
        ]
    ticket_url = f"http://127.0.0.1:8000/t/{seeded.ticket_token}"
    tokens = [
        seeded.confirm_token,
        seeded.cancel_token,
        seeded.ticket_cancel_token,
        seeded.ticket_token,
        ticket_url,
        f"{seeded.ticket_token}\x00",
    ]
    if path == "/api/checkins":
        performances = [seeded.performance_id, seeded.later_performance_id]
        return [
            {**body, "token": token, "performance_id": performance}
            for token in (seeded.ticket_token, ticket_url, seeded.confirm_token)
            for performance in performances
        ]
    return [{**body, "token": token} for token in tokens]


def _seeded_or_generated(variants: list[Any], generated: Any) -> st.SearchStrategy[Any]:
    if not variants:
        return st.just(generated)
    return st.one_of(st.just(generated), st.sampled_from(variants))


@pytest.fixture
def api_schema(
    engine: Engine, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> schemathesis.BaseSchema:
    """The app on the seeded database, unlimited, and the schema it serves at /openapi.json."""
    monkeypatch.setenv("AZCTL_RATE_LIMIT", "off")
    app = create_app(engine=engine, settings=reload_settings())
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    path_values = _path_values(seeded)

    @schema.hook
    def flatmap_path_parameters(
        _context: schemathesis.HookContext, parameters: dict[str, Any]
    ) -> st.SearchStrategy[dict[str, Any]]:
        if not isinstance(parameters, dict):
            return st.just(parameters)
        variants = [
            {**parameters, name: value}
            for name in parameters
            for value in path_values.get(name, [])
        ]
        return _seeded_or_generated(variants, parameters)

    @schema.hook
    def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
        if not isinstance(body, dict) or context.operation is None:
            return st.just(body)
        return _seeded_or_generated(_body_variants(seeded, context.operation.path, body), body)

    @schema.hook
    def flatmap_cookies(
        context: schemathesis.HookContext, cookies: dict[str, Any] | None
    ) -> st.SearchStrategy[Any]:
        # A page's form POST: half the time, from the browser holding the page's cookie.
        if context.operation is None or context.operation.path not in FORM_PAGES:
            return st.just(cookies)
        browser = {**(cookies or {}), forgery.COOKIE: seeded.form_cookie}
        return _seeded_or_generated([browser], cookies)

    @schema.hook
    def flatmap_headers(
        context: schemathesis.HookContext, headers: dict[str, Any] | None
    ) -> st.SearchStrategy[Any]:
        # The generated bearer token is random: half the time, use a real staff member's.
        if context.operation is None or context.operation.path != "/api/checkins":
            return st.just(headers)
        real = {**(headers or {}), "Authorization": f"Bearer {seeded.staff_token}"}
        return _seeded_or_generated([real], headers)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_no_request_gets_a_server_error_or_an_undocumented_answer(case: schemathesis.Case):
    case.call_and_validate(checks=CHECKS)


def test_the_seeded_records_answer_as_documented(
    api_schema: schemathesis.BaseSchema, seeded: Seeded, session: Session
):
    """The success answers a random request seldom reaches, each once, in an order that works."""
    staff_header = {"Authorization": f"Bearer {seeded.staff_token}"}

    def call(
        method: str,
        path: str,
        status: int,
        *,
        path_parameters: dict[str, Any] | None = None,
        body: Any = NOT_SET,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> schemathesis.Response:
        """One request; `form` sends a page's form as a browser would, token and cookie."""
        operation = api_schema[path][method]
        cookies, media_type = None, None
        if form is not None:
            body = {**form, "csrf_token": seeded.form_token}
            cookies = {forgery.COOKIE: seeded.form_cookie}
            media_type = "application/x-www-form-urlencoded"
        case = operation.Case(
            path_parameters=path_parameters,
            body=body,
            headers=headers,
            cookies=cookies,
            media_type=media_type,
        )
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == status, (method, path, response.text[:300])
        return response

    call("GET", "/health", 200)
    listed = call("GET", "/api/shows", 200).json()
    assert [show["slug"] for show in listed["shows"]] == ["open-show"]
    call("GET", "/api/shows/{slug}", 200, path_parameters={"slug": "open-show"})
    call("GET", "/api/shows/{slug}", 404, path_parameters={"slug": "hidden-show"})
    performance = {"performance_id": seeded.performance_id}
    call("GET", "/api/performances/{performance_id}", 200, path_parameters=performance)
    hidden = {"performance_id": seeded.hidden_performance_id}
    call("GET", "/api/performances/{performance_id}", 404, path_parameters=hidden)
    call("GET", "/book/{performance_id}", 200, path_parameters=performance)
    call("GET", "/book/{performance_id}", 404, path_parameters=hidden)
    call("POST", "/book/{performance_id}", 422, path_parameters=performance, form={})
    booked = call(
        "POST", "/book/{performance_id}", 303, path_parameters=performance, form=GOOD_FORM
    )
    [booked_at] = booked.headers["location"]
    receipt = booked_at.removeprefix("/booked/").partition("#")[0]
    call("GET", "/booked/{receipt}", 200, path_parameters={"receipt": receipt})
    call("GET", "/booked/{receipt}", 404, path_parameters={"receipt": receipt[:-3]})
    accepted = call(
        "POST",
        "/api/performances/{performance_id}/reservations",
        202,
        path_parameters=performance,
        body={"name": "Ada", "email": "ada@example.org", "party_size": 2},
    ).json()
    assert accepted["status"] == "pending"

    confirm = {"token": seeded.confirm_token}
    call("GET", "/confirm/{token}", 200, path_parameters=confirm)
    call("POST", "/confirm/{token}", 403, path_parameters=confirm)  # no token: forged
    redirect = call("POST", "/confirm/{token}", 303, path_parameters=confirm, form={})
    [location] = redirect.headers["location"]
    here, _, new_ticket = location.rpartition("/t/")
    assert here == ""  # a path on the host the request used
    call("GET", "/t/{ticket}", 200, path_parameters={"ticket": f"{new_ticket}.svg"})
    session.rollback()  # a fresh snapshot: SQLite's would still show the pending booking
    confirmed = reservations.get_reservation(session, reference=seeded.pending_reference)
    assert confirmed.status == ReservationStatus.CONFIRMED
    call("POST", "/confirm/{token}", 409, path_parameters=confirm, form={})
    call("POST", "/api/confirmations", 409, body=confirm)
    fresh = booking.submit_booking(
        session,
        performance_id=seeded.performance_id,
        name="Grace",
        email="g@example.org",
        party_size=1,
    )
    confirmation = call("POST", "/api/confirmations", 200, body={"token": fresh.confirm_token})
    assert confirmation.json()["reference"] == fresh.reservation.reference
    stale = booking.submit_booking(
        session,
        performance_id=seeded.performance_id,
        name="Late",
        email="late@example.org",
        party_size=1,
        now=times.now_utc() - get_settings().confirm_ttl - timedelta(minutes=1),
    )
    call("GET", "/confirm/{token}", 410, path_parameters={"token": stale.confirm_token})
    call("POST", "/api/confirmations", 410, body={"token": stale.confirm_token})

    for ticket in (seeded.ticket_token, f"{seeded.ticket_token}.png", f"{seeded.ticket_token}.ics"):
        call("GET", "/t/{ticket}", 200, path_parameters={"ticket": ticket})
    ticket_cancel = {"ticket": seeded.ticket_token}
    call("GET", "/t/{ticket}/cancel", 200, path_parameters=ticket_cancel)
    scan = {"token": seeded.ticket_token, "performance_id": seeded.performance_id}
    call("POST", "/api/checkins", 401, body=scan)
    admitted = call("POST", "/api/checkins", 201, body=scan, headers=staff_header).json()
    assert admitted["reference"] == seeded.ticket_reference
    call("POST", "/api/checkins", 409, body=scan, headers=staff_header)
    call("POST", "/t/{ticket}/cancel", 409, path_parameters=ticket_cancel, form={})
    elsewhere = {**scan, "performance_id": seeded.later_performance_id}
    refused = call("POST", "/api/checkins", 422, body=elsewhere, headers=staff_header).json()
    assert refused["code"] == "wrong_performance"

    cancel = {"token": seeded.cancel_token}
    call("GET", "/cancel/{token}", 200, path_parameters=cancel)
    call("POST", "/api/cancellations", 200, body=cancel)
    call("POST", "/cancel/{token}", 409, path_parameters=cancel, form={})
    session.rollback()
    cancelled = reservations.get_reservation(session, reference=seeded.pending_reference)
    assert cancelled.status == ReservationStatus.CANCELLED


HOSTILE_PATHS = {
    "/api/shows/{slug}": "slug",
    "/confirm/{token}": "token",
    "/cancel/{token}": "token",
    "/t/{ticket}": "ticket",
    "/t/{ticket}/cancel": "ticket",
    "/booked/{receipt}": "receipt",
}
HOSTILE_VALUES = ["%00", "open-show%00", "%FF", "%C0%80", "%EF%BF%BF", "%F0%9F%8E%AD"]


def test_a_hostile_path_value_is_simply_not_found(api_schema: schemathesis.BaseSchema):
    """What the fuzzer may or may not draw, every time: a NUL or broken UTF-8 in a path names
    nothing (PostgreSQL refuses NUL in text, so it must not get that far)."""
    wrong = []
    for path, name in HOSTILE_PATHS.items():
        for value in HOSTILE_VALUES:
            case = api_schema[path]["GET"].Case(path_parameters={name: value})
            response = case.call()
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as failures:
                titles = ", ".join(failure.title for failure in failures.exceptions)
                wrong.append(f"GET {case.formatted_path}: {response.status_code}, {titles}")
            else:
                if response.status_code != 404:
                    wrong.append(f"GET {case.formatted_path}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)
