"""The waiting list over HTTP: the JSON API (join, accept an offer) with its problem answers, the
pages (join form, the page it leads to, offer, leave) in both languages, the show page's link,
and forged form POSTs refused with nothing changed."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from azctl.http import forgery
from azctl.models import WaitlistEntry
from azctl.services import booking, times, waitlist
from tests.helpers import unchanged
from tests.http.helpers import (
    FORM,
    VISITOR,
    assert_page,
    assert_problem,
    booking_body,
    form_pass,
    post_form,
)
from tests.services.waitlist_helpers import entry, join, offer_token

GOOD = {
    "name": VISITOR["name"],
    "email": VISITOR["email"],
    "phone": VISITOR["phone"],
    "party_size": "2",
    "notes": VISITOR["notes"],
    "consent": "yes",
}
ITALIAN = {"Accept-Language": "it"}


@pytest.fixture
def full(make_performance, confirmed):
    """A published performance of 4 seats, confirmed to two parties of 2 (returned too)."""
    performance = make_performance(capacity=4)
    return performance, [confirmed(performance, 2), confirmed(performance, 2)]


def offered(engine, session, full, party_size=2, **fields):
    """A party joined `full`, one confirmed party cancelled, and the worker's round offered."""
    performance, parties = full
    joined = join(session, performance, party_size, **fields)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    return joined, offer_token(engine, joined.entry.reference)


# --- JSON API -----------------------------------------------------------------------------------


def test_the_api_joins_a_sold_out_performance(engine, client, full):
    performance, _ = full
    path = f"/api/performances/{performance.id}/waitlist"
    first = client.simulate_post(path, json=booking_body())
    assert first.status_code == 202, first.text
    assert first.json["status"] == "waiting"
    assert first.json["position"] == 1
    assert first.json["reference"].startswith("AZ-")
    second = client.simulate_post(path, json=booking_body(email="other@example.org", language="it"))
    assert second.json["position"] == 2
    assert entry(engine, second.json["reference"]).language == "it"
    with unchanged(engine):
        assert_problem(client.simulate_post(path, json=booking_body()), 409, "already_waiting")
        assert_problem(
            client.simulate_post(path, json=booking_body(party_size=0)), 422, "invalid_input"
        )
        assert_problem(
            client.simulate_post("/api/performances/999/waitlist", json=booking_body()),
            404,
            "not_found",
        )


def test_the_api_says_book_instead_when_the_party_fits(engine, client, make_performance):
    performance = make_performance(capacity=4)
    with unchanged(engine):
        body = assert_problem(
            client.simulate_post(
                f"/api/performances/{performance.id}/waitlist", json=booking_body()
            ),
            409,
            "seats_available",
        )
    assert body["available"] == 4


def test_the_api_accepts_an_offer_like_a_confirmation(engine, session, client, full):
    joined, token = offered(engine, session, full)
    result = client.simulate_post("/api/offers", json={"token": token})
    assert result.status_code == 200, result.text
    assert result.json["status"] == "confirmed"
    assert result.json["reference"] == joined.entry.reference
    assert result.json["party_size"] == 2
    assert "/t/" in result.json["ticket_url"]
    assert_problem(client.simulate_post("/api/offers", json={"token": token}), 409, "token_used")
    assert_problem(
        client.simulate_post("/api/offers", json={"token": "0" * 32}), 404, "invalid_token"
    )
    assert_problem(client.simulate_post("/api/offers", json={"tok": 1}), 422, "invalid_input")


# --- pages --------------------------------------------------------------------------------------


def test_the_show_page_offers_the_waiting_list_of_a_sold_out_performance(client, full):
    performance, _ = full
    page = client.simulate_get("/shows/open-show")
    assert page.status_code == 200
    assert f'href="/waitlist/{performance.id}"' in page.text
    assert "Join the waiting list" in page.text
    book_page = client.simulate_get(f"/book/{performance.id}")
    assert f'href="/waitlist/{performance.id}"' in book_page.text


def test_the_show_page_has_no_waiting_list_for_a_performance_with_seats(client, performance):
    page = client.simulate_get("/shows/open-show")
    assert f'href="/waitlist/{performance.id}"' not in page.text


def test_joining_on_the_page_leads_to_the_reference_and_place(engine, client, full):
    performance, _ = full
    path = f"/waitlist/{performance.id}"
    form = assert_page(client.simulate_get(path), 200, "Waiting list: Open Show")
    assert 'id="join"' in form
    result = post_form(client, path, GOOD)
    assert result.status_code == 303, result.text
    location = result.headers["Location"]
    assert location.startswith("/waitlisted/")
    page = assert_page(
        client.simulate_get(location.split("#")[0]), 200, "You are on the waiting list"
    )
    [reference] = _references(engine)
    assert reference in page
    assert "Your place on the list: 1" in page


def _references(engine):
    with Session(engine) as session:
        return list(session.exec(select(WaitlistEntry.reference)))


def test_the_join_page_speaks_italian_and_refuses_each_field(engine, client, full):
    performance, _ = full
    path = f"/waitlist/{performance.id}"
    assert_page(client.simulate_get(path, headers=ITALIAN), 200, "Lista d'attesa: Open Show")
    with unchanged(engine):
        result = post_form(client, path, {**GOOD, "email": "nope"}, headers=ITALIAN)
    assert result.status_code == 422
    assert 'id="email-error"' in result.text


def test_a_party_that_fits_is_told_on_the_page_to_book_instead(engine, client, make_performance):
    performance = make_performance(capacity=4)
    path = f"/waitlist/{performance.id}"
    shown = client.simulate_get(path)
    assert 'id="book-instead"' in shown.text
    with unchanged(engine):
        result = post_form(client, path, GOOD)
    assert result.status_code == 409
    assert "please book instead" in html.unescape(result.text)


def test_the_same_email_twice_is_refused_beside_the_email(engine, session, client, full):
    performance, _ = full
    join(session, performance, email=VISITOR["email"])
    with unchanged(engine):
        result = post_form(client, f"/waitlist/{performance.id}", GOOD)
    assert result.status_code == 409
    assert "already on the waiting list" in result.text


def test_the_offer_page_shows_then_accepting_leads_to_the_ticket(engine, session, client, full):
    joined, token = offered(engine, session, full, language="it")
    with unchanged(engine):
        shown = client.simulate_get(f"/offer/{token}", headers=ITALIAN)
    assert shown.status_code == 200, shown.text
    assert 'id="accept"' in shown.text
    assert 'id="until"' in shown.text
    result = post_form(client, f"/offer/{token}", {})
    assert result.status_code == 303, result.text
    ticket = client.simulate_get(result.headers["Location"])
    assert ticket.status_code == 200
    assert joined.entry.reference in ticket.text
    assert entry(engine, joined.entry.reference).status == "booked"
    used = client.simulate_get(f"/offer/{token}")
    assert_page(used, 409, "This link has already been used")


def test_the_leave_page_asks_then_leaves(engine, session, client, full):
    performance, _ = full
    joined = join(session, performance)
    path = f"/leave/{joined.leave_token}"
    with unchanged(engine):
        assert_page(client.simulate_get(path), 200, "Leave the waiting list?")
    result = post_form(client, path, {})
    assert_page(result, 200, "You have left the waiting list")
    assert entry(engine, joined.entry.reference).status == "left"
    assert_page(client.simulate_get(path), 409, "This link has already been used")


@pytest.mark.parametrize("page", ["join", "offer", "leave"])
def test_a_forged_post_is_refused_and_changes_nothing(engine, session, client, full, page):
    joined, token = offered(engine, session, full)
    performance, _ = full
    path = {
        "join": f"/waitlist/{performance.id}",
        "offer": f"/offer/{token}",
        "leave": f"/leave/{joined.leave_token}",
    }[page]
    fields = {**GOOD, "email": "someone@example.org", "party_size": "3"} if page == "join" else {}
    cookie, good_token = form_pass(client.simulate_get(path))
    _other_cookie, other_token = form_pass()
    with unchanged(engine):
        for body, cookies in (
            (urlencode(fields), {forgery.COOKIE: cookie}),
            (urlencode({**fields, "csrf_token": other_token}), {forgery.COOKIE: cookie}),
            (urlencode({**fields, "csrf_token": good_token}), None),
        ):
            result = client.simulate_post(path, body=body, content_type=FORM, cookies=cookies)
            assert_page(result, 403, "This form has expired")
    good = client.simulate_post(
        path,
        body=urlencode({**fields, "csrf_token": good_token}),
        content_type=FORM,
        cookies={forgery.COOKIE: cookie},
    )
    assert good.status_code in (200, 303), good.text
