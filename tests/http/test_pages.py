"""The pages a visitor's email links open: /confirm/{token}, /cancel/{token} and /t/{ticket}.

A GET only shows (a mail scanner follows every link); the page's POST acts. Every refusal is a
page with the right status and a heading that says what happened.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from azctl.models import Reservation
from azctl.services import booking, catalog, checkin, mail, times, tokens
from azctl.settings import get_settings, reload_settings
from tests.helpers import unchanged
from tests.http.helpers import PNG_MAGIC, VISITOR, assert_page, post_form, qr_text
from tests.services.helpers import fresh, messages

NOT_VALID = "This link is not valid"
USED = "This link has already been used"
CONFIRMED_ALREADY = "Your booking is already confirmed"
EXPIRED = "This link has expired"
SOLD_OUT = "Sorry, sold out"
CLOSED = "Booking is closed"
NO_LONGER_VALID = "This link can no longer be used"


def ask(client, method, path):
    """A GET of a link's page, or a POST of its form as a browser sends it."""
    return post_form(client, path) if method == "POST" else client.simulate_get(path)


def booking_page(engine, client, path, heading, reservation):
    """GETs a link's page, which must show the booking and change nothing; returns its text."""
    with unchanged(engine):
        page = assert_page(client.simulate_get(path), 200, heading)
    assert_shows_the_booking(page, reservation)
    return page


def assert_shows_the_booking(page, reservation):
    assert "Open Show" in page
    assert "Teatro Studio, Milano" in page
    assert reservation.reference in page
    assert f"<dt>Seats</dt><dd>{reservation.party_size}</dd>" in page


def test_the_confirm_page_shows_the_booking_and_a_form_and_confirms_nothing(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, 3)
    path = f"/confirm/{submitted.confirm_token}"
    page = booking_page(engine, client, path, "Confirm your booking", submitted.reservation)
    assert html.escape(VISITOR["name"]) in page
    assert f'<form method="post" action="{path}">' in page
    assert '<button type="submit" id="confirm">Confirm 3 seats</button>' in page


def test_posting_the_confirm_form_confirms_and_sees_the_ticket(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance)

    result = post_form(client, f"/confirm/{submitted.confirm_token}")

    assert result.status_code == 303
    # A path: the browser stays on the host and port it used, whatever AZCTL_PUBLIC_URL says.
    ticket = re.fullmatch(r"/t/([0-9A-Z]{32})", result.headers["Location"])
    assert ticket is not None, result.headers["Location"]
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"
    assert [m.kind for m in messages(engine)] == ["confirmation", "ticket"]
    assert client.simulate_get(ticket[0]).status_code == 200
    # The mailed ticket link is the same ticket, at the public address.
    [ticket_mail] = messages(engine, kind="ticket")
    text = mail.render(ticket_mail).get_body(("plain",)).get_content()
    assert f"{get_settings().public_url}/t/{ticket[1]}" in text


def test_the_ticket_redirect_stays_on_the_host_the_visitor_used(
    client, performance, visitor_booking, monkeypatch
):
    monkeypatch.setenv("AZCTL_PUBLIC_URL", "https://tickets.example.org")
    reload_settings()
    submitted = visitor_booking(performance)
    result = post_form(
        client, f"/confirm/{submitted.confirm_token}", host="192.168.1.20", port=9000
    )
    assert result.status_code == 303
    assert result.headers["Location"].startswith("/t/")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_used_confirm_link_of_a_confirmed_booking_says_the_ticket_was_mailed(
    engine, client, performance, visitor_booking, method
):
    submitted = visitor_booking(performance)
    post_form(client, f"/confirm/{submitted.confirm_token}")
    with unchanged(engine):
        result = ask(client, method, f"/confirm/{submitted.confirm_token}")
    page = assert_page(result, 409, CONFIRMED_ALREADY)
    assert_shows_the_booking(page, submitted.reservation)
    assert 'data-code="token_used"' in page
    assert "We emailed your ticket" in page
    # Only the mail holds the ticket's link; the page offers nothing that would not work.
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<a " not in main and "<form" not in main


def test_a_used_confirm_link_of_a_cancelled_booking_says_it_was_used(
    engine, session, client, performance, visitor_booking
):
    submitted = visitor_booking(performance)
    booking.cancel_by_token(session, token=submitted.cancel_token)
    with unchanged(engine):
        page = assert_page(client.simulate_get(f"/confirm/{submitted.confirm_token}"), 409, USED)
    assert "cancelled" in page and "emailed" not in page


def test_an_expired_confirm_link_shows_gone_and_changes_nothing(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, at=times.now_utc() - timedelta(days=2))
    path = f"/confirm/{submitted.confirm_token}"
    with unchanged(engine):
        page = assert_page(client.simulate_get(path), 410, EXPIRED)
    assert "book again" in page
    assert_page(post_form(client, path), 410, EXPIRED)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "expired"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_confirm_link_that_no_longer_fits_is_sold_out(
    engine, client, make_performance, visitor_booking, confirmed, method
):
    performance = make_performance(capacity=3)
    submitted = visitor_booking(performance, 2)
    confirmed(performance, 2)
    with unchanged(engine):
        result = ask(client, method, f"/confirm/{submitted.confirm_token}")
        assert_page(result, 409, SOLD_OUT)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_confirm_link_when_booking_has_closed_says_so(
    session, engine, client, performance, visitor_booking, method
):
    submitted = visitor_booking(performance)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    with unchanged(engine):
        result = ask(client, method, f"/confirm/{submitted.confirm_token}")
        assert_page(result, 409, CLOSED)


def test_an_unknown_link_is_a_not_valid_page(engine, client, performance, subtests):
    with unchanged(engine):
        for page in ("confirm", "cancel", "t"):
            for token in (tokens.new_token(), "nonsense", "%3Cscript%3E"):
                with subtests.test(page=page, token=token):
                    text = assert_page(client.simulate_get(f"/{page}/{token}"), 404, NOT_VALID)
                    assert "<script>" not in text


def test_the_cancel_page_shows_the_booking_and_a_form_and_cancels_nothing(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, 4)
    path = f"/cancel/{submitted.cancel_token}"
    page = booking_page(engine, client, path, "Cancel your booking?", submitted.reservation)
    assert f'<form method="post" action="{path}">' in page


def test_posting_the_cancel_form_cancels(engine, client, performance, visitor_booking):
    submitted = visitor_booking(performance)
    path = f"/cancel/{submitted.cancel_token}"

    page = assert_page(post_form(client, path), 200, "Your booking is cancelled")

    assert_shows_the_booking(page, submitted.reservation)
    assert "<form" not in page
    assert fresh(engine, Reservation, submitted.reservation.id).status == "cancelled"
    with unchanged(engine):
        assert_page(client.simulate_get(path), 409, USED)
        assert_page(post_form(client, path), 409, USED)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_cancel_link_after_the_start_is_gone(
    engine, client, make_performance, visitor_booking, method
):
    started = make_performance(starts_in=timedelta(minutes=-10))
    submitted = visitor_booking(started, at=started.starts_at - timedelta(hours=1))
    with unchanged(engine):
        result = ask(client, method, f"/cancel/{submitted.cancel_token}")
        assert_page(result, 410, EXPIRED)


def test_the_cancel_page_of_a_checked_in_booking_offers_no_cancel(
    session, engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance)
    ticket = booking.confirm_booking(session, token=submitted.confirm_token)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    path = f"/cancel/{submitted.cancel_token}"
    with unchanged(engine):
        refused = post_form(client, path)
        assert refused.status_code == 409
        shown = client.simulate_get(path)
    assert shown.status_code == refused.status_code, "the page offers what its POST refuses"


def test_the_ticket_page_has_the_booking_and_its_qr_code(
    engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance, 3)
    path = f"/t/{ticket.ticket_token}"
    page = booking_page(engine, client, path, "You are booked", ticket.reservation)
    assert f'<img class="qr" id="qr" src="{path}.png"' in page
    assert f'href="{path}.svg"' in page
    assert html.escape(VISITOR["name"]) not in page


def test_the_qr_code_holds_the_ticket_url_and_nothing_else(
    engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    with unchanged(engine):
        png = client.simulate_get(f"/t/{ticket.ticket_token}.png")
        svg = client.simulate_get(f"/t/{ticket.ticket_token.lower()}.svg")
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert png.content.startswith(PNG_MAGIC)
    assert qr_text(png.content) == f"{get_settings().public_url}/t/{ticket.ticket_token}"
    assert svg.status_code == 200
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert re.match(rb"(<\?xml[^>]*>\s*)?<svg", svg.content)


def test_a_ticket_in_an_unknown_format_is_not_found(client, performance, visitor_ticket, subtests):
    ticket = visitor_ticket(performance)
    for suffix in (".gif", ".PNG", ".png.png", "."):
        with subtests.test(suffix=suffix):
            result = client.simulate_get(f"/t/{ticket.ticket_token}{suffix}")
            assert_page(result, 404, NOT_VALID)


def test_the_ticket_of_a_cancelled_booking_is_no_longer_valid(
    session, engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.cancel_reservation(session, reference=ticket.reservation.reference)
    with unchanged(engine):
        for suffix in ("", ".png", ".svg"):
            assert_page(
                client.simulate_get(f"/t/{ticket.ticket_token}{suffix}"), 409, NO_LONGER_VALID
            )


def test_a_ticket_replaced_by_a_resent_one_is_not_valid(
    session, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.resend(session, reference=ticket.reservation.reference)
    assert_page(client.simulate_get(f"/t/{ticket.ticket_token}"), 404, NOT_VALID)


def test_the_ticket_of_a_cancelled_performance_is_no_longer_valid(
    session, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.cancel_performance(session, performance_id=performance.id)
    assert_page(client.simulate_get(f"/t/{ticket.ticket_token}"), 409, NO_LONGER_VALID)


SCRIPT = "<script>alert(1)</script>"


def test_the_pages_escape_what_visitors_and_staff_typed(
    session, client, make_performance, book, confirmed
):
    performance = make_performance()
    catalog.edit_show(session, slug="open-show", title=f"Show {SCRIPT}")
    catalog.edit_venue(session, slug="teatro-studio", name='Sala "<b>grande</b>"')
    submitted = book(performance, name=SCRIPT)
    ticket = confirmed(performance, name=SCRIPT)
    pages = [
        assert_page(
            client.simulate_get(f"/confirm/{submitted.confirm_token}"), 200, "Confirm your booking"
        ),
        assert_page(
            client.simulate_get(f"/cancel/{submitted.cancel_token}"), 200, "Cancel your booking?"
        ),
        assert_page(client.simulate_get(f"/t/{ticket.ticket_token}"), 200, "You are booked"),
    ]
    for page in pages:
        assert "<script" not in page
        assert "<b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;b&gt;grande&lt;/b&gt;" in page
