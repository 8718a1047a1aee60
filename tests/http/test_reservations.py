"""POST /api/performances/{id}/reservations: a pending booking and its mail, or a refusal that
changes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from azctl.models import Reservation
from azctl.services import booking, catalog
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import VISITOR, assert_problem, booking_body
from tests.services.helpers import messages

REFERENCE = re.compile(r"^AZ-[0-9A-Z]{6}$")


@pytest.fixture
def reserve(client, performance):
    """POSTs a booking for `performance` (or `performance_id`), as JSON unless `body` is given."""

    def post(json_body=None, *, performance_id=None, **kwargs):
        path = f"/api/performances/{performance_id or performance.id}/reservations"
        if json_body is not None:
            kwargs["json"] = json_body
        return client.simulate_post(path, **kwargs)

    return post


def test_a_booking_is_accepted_pending_with_its_confirmation_mail_queued(
    engine, client, performance, reserve
):
    result = reserve(booking_body(party_size=3, phone=VISITOR["phone"], notes=VISITOR["notes"]))

    assert result.status_code == 202
    assert set(result.json) == {"reference", "status", "message"}
    assert REFERENCE.match(result.json["reference"])
    assert result.json["status"] == "pending"
    [mail] = messages(engine)
    assert (mail.kind, mail.to_address, mail.status) == ("confirmation", VISITOR["email"], "queued")
    with engine.connect() as connection:
        stored = connection.execute(
            Reservation.__table__.select().where(Reservation.id == mail.reservation_id)
        ).one()
    assert stored.reference == result.json["reference"]
    assert (stored.status, stored.party_size) == ("pending", 3)
    assert (stored.name, stored.email, stored.phone, stored.notes) == tuple(VISITOR.values())
    # Pending holds no seats.
    assert client.simulate_get(f"/api/performances/{performance.id}").json["available_seats"] == 10


def test_a_json_content_type_with_a_charset_is_json(engine, reserve):
    result = reserve(
        body=json.dumps(booking_body()), content_type="application/json; charset=utf-8"
    )
    assert result.status_code == 202
    assert count_rows(engine, Reservation) == 1


def _without(field):
    body = booking_body()
    del body[field]
    return body


INVALID_FIELDS = [
    (_without("name"), "name"),
    (_without("email"), "email"),
    (_without("party_size"), "party_size"),
    (booking_body(party_size="2"), "party_size"),
    (booking_body(party_size=2.5), "party_size"),
    (booking_body(party_size=2.0), "party_size"),
    (booking_body(party_size=True), "party_size"),
    (booking_body(party_size=None), "party_size"),
    (booking_body(party_size=[2]), "party_size"),
    (booking_body(party_size=0), "party_size"),
    (booking_body(party_size=-1), "party_size"),
    (booking_body(party_size=9), "party_size"),
    (booking_body(party_size=10**30), "party_size"),
    (booking_body(name=""), "name"),
    (booking_body(name="   "), "name"),
    (booking_body(name=42), "name"),
    (booking_body(name="x" * 201), "name"),
    (booking_body(name="Bad\x00Name"), "name"),
    (booking_body(email="not-an-email"), "email"),
    (booking_body(email="someone@localhost"), "email"),
    (booking_body(email=None), "email"),
    (booking_body(phone=12345), "phone"),
    (booking_body(notes="x" * 1001), "notes"),
    (booking_body(seat="A1"), "seat"),
]


def test_an_invalid_field_is_a_422_naming_it_and_changes_nothing(engine, reserve, subtests):
    with unchanged(engine):
        for body, field in INVALID_FIELDS:
            with subtests.test(body=body):
                problem = assert_problem(reserve(body), 422, "invalid_input")
                assert problem["field"] == field
                assert field in problem["detail"]


def test_the_largest_party_follows_the_setting(engine, monkeypatch, make_client, performance):
    monkeypatch.setenv("AZCTL_MAX_PARTY_SIZE", "3")
    reload_settings()
    client = make_client()
    path = f"/api/performances/{performance.id}/reservations"
    with unchanged(engine):
        problem = assert_problem(
            client.simulate_post(path, json=booking_body(party_size=4)), 422, "invalid_input"
        )
    assert "at most 3" in problem["detail"]
    assert client.simulate_post(path, json=booking_body(party_size=3)).status_code == 202


UNREADABLE_BODIES = [
    b"{",
    b'{"name": ',
    b"",
    b"[]",
    b'[{"name": "x"}]',
    b"null",
    b'"text"',
    b"2",
    b"\xff\xfe\x00",
    json.dumps(booking_body(notes="x" * 17_000)).encode(),
    b"[" * 10_000,
    b'{"a": ' * 2_500,
]


def test_an_unreadable_body_is_a_400_and_changes_nothing(engine, reserve, subtests):
    with unchanged(engine):
        for raw in UNREADABLE_BODIES:
            with subtests.test(body=raw[:40]):
                result = reserve(body=raw, content_type="application/json")
                assert_problem(result, 400, "invalid_input")


def test_a_body_that_is_not_json_is_a_415(engine, reserve, subtests):
    body = json.dumps(booking_body())
    with unchanged(engine):
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "text/json"]:
            with subtests.test(content_type=content_type):
                result = reserve(body=body, content_type=content_type)
                assert_problem(result, 415, "unsupported_media_type")


def _close(session, performance):
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)


def _cancel(session, performance):
    booking.cancel_performance(session, performance_id=performance.id)


@pytest.mark.parametrize("close", [_close, _cancel])
def test_booking_a_closed_or_cancelled_performance_is_refused(
    session, engine, reserve, performance, close
):
    close(session, performance)
    with unchanged(engine):
        assert_problem(reserve(booking_body()), 409, "booking_closed")


def test_booking_a_started_performance_is_refused(engine, reserve, make_performance):
    started = make_performance(starts_in=timedelta(minutes=-1))
    with unchanged(engine):
        problem = assert_problem(
            reserve(booking_body(), performance_id=started.id), 409, "booking_closed"
        )
    assert "started" in problem["detail"]


@pytest.mark.parametrize(
    ("taken", "free", "detail"),
    [
        (7, 3, "only 3 seats are free"),
        (9, 1, "only 1 seat is free"),
        (10, 0, "no seats are free"),
    ],
)
def test_more_seats_than_are_free_is_refused_saying_how_many_are(
    engine, reserve, performance, confirmed, taken, free, detail
):
    confirmed(performance, taken // 2)
    confirmed(performance, taken - taken // 2)
    with unchanged(engine):
        problem = assert_problem(reserve(booking_body(party_size=4)), 409, "not_enough_seats")
    assert (problem["available"], problem["detail"]) == (free, detail)


def test_an_unknown_or_unpublished_performance_is_not_found(engine, reserve, make_performance):
    hidden = make_performance(published=False)
    with unchanged(engine):
        for performance_id in (hidden.id, hidden.id + 100):
            assert_problem(reserve(booking_body(), performance_id=performance_id), 404, "not_found")
