"""The ticket page's own offers: "add to calendar" (/t/{token}.ics) and cancelling from the ticket
(/t/{token}/cancel); and the link pages in the visitor's language."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from azctl.models import OutboxMessage, Reservation
from azctl.services import booking, checkin, i18n, tickets, times
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import VISITOR, assert_no_personal_data, assert_page, post_form
from tests.services.helpers import fresh, messages

ITALIAN = {"Accept-Language": "it"}


def test_the_ticket_says_you_are_booked_and_offers_calendar_and_cancel(
    engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance, 2)
    path = f"/t/{ticket.ticket_token}"
    with unchanged(engine):
        page = assert_page(client.simulate_get(path), 200, "You are booked")
    assert '<p class="show">Open Show</p>' in page
    assert f'<a href="{path}.ics" id="calendar">Add to calendar</a>' in page
    assert f'href="{path}/cancel">Cancel this booking</a>' in page
    assert "Admits 2 people." in page


def test_the_calendar_entry_is_the_performance_and_nothing_personal(
    engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    with unchanged(engine):
        result = client.simulate_get(f"/t/{ticket.ticket_token}.ics")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/calendar; charset=utf-8"
    reference = ticket.reservation.reference
    assert result.headers["Content-Disposition"] == f'attachment; filename="{reference}.ics"'
    text = result.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    start = performance.starts_at.strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}\r\n" in text
    assert "SUMMARY:Open Show\r\n" in text
    assert "LOCATION:Teatro Studio\\, Milano\r\n" in text
    assert f"URL:{tickets.ticket_url(ticket.ticket_token)}\r\n" in text
    assert f"UID:{reference}@azctl\r\n" in text
    assert_no_personal_data(text)


def test_a_calendar_entry_of_a_cancelled_or_unknown_ticket_is_refused(
    session, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.cancel_reservation(session, reference=ticket.reservation.reference)
    assert_page(
        client.simulate_get(f"/t/{ticket.ticket_token}.ics"), 409, "This link can no longer be used"
    )
    assert_page(client.simulate_get("/t/NOTATOKEN.ics"), 404, "This link is not valid")


def test_cancelling_from_the_ticket_asks_first_then_frees_the_seats(
    engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance, 3)
    path = f"/t/{ticket.ticket_token}/cancel"
    with unchanged(engine):
        page = assert_page(client.simulate_get(path), 200, "Cancel your booking?")
    assert f'<form method="post" action="{path}">' in page
    assert (
        f'<a href="/t/{ticket.ticket_token}">Keep my booking and go back to the ticket</a>' in page
    )
    assert ticket.reservation.reference in page

    done = assert_page(post_form(client, path), 200, "Your booking is cancelled")

    assert "<form" not in done
    assert fresh(engine, Reservation, ticket.reservation.id).status == "cancelled"
    assert [m.kind for m in messages(engine)] == ["confirmation", "ticket", "cancelled"]
    seats = client.simulate_get(f"/api/performances/{performance.id}").json["available_seats"]
    assert seats == 10
    with unchanged(engine):
        assert_page(
            client.simulate_get(f"/t/{ticket.ticket_token}"), 409, "This link can no longer be used"
        )
        assert_page(client.simulate_get(path), 409, "This link can no longer be used")
        assert_page(post_form(client, path), 409, "This link can no longer be used")


def test_a_ticket_cannot_be_cancelled_once_the_performance_has_started(
    engine, client, make_performance, visitor_ticket, subtests
):
    started = make_performance(starts_in=timedelta(minutes=-10))
    ticket = visitor_ticket(started, at=started.starts_at - timedelta(hours=1))
    path = f"/t/{ticket.ticket_token}/cancel"
    with unchanged(engine):
        for method, answer in (("GET", client.simulate_get), ("POST", None)):
            with subtests.test(method=method):
                result = answer(path) if answer else post_form(client, path)
                page = assert_page(result, 410, "This link has expired")
                assert 'data-code="token_expired"' in page
    # The ticket itself still works at the door.
    assert client.simulate_get(f"/t/{ticket.ticket_token}").status_code == 200


def test_a_checked_in_ticket_cannot_be_cancelled(
    session, engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    path = f"/t/{ticket.ticket_token}/cancel"
    with unchanged(engine):
        assert_page(client.simulate_get(path), 409, "This link can no longer be used")
        assert_page(post_form(client, path), 409, "This link can no longer be used")


def test_a_replaced_or_unknown_ticket_cannot_cancel(
    session, engine, client, performance, visitor_ticket
):
    ticket = visitor_ticket(performance)
    booking.resend(session, reference=ticket.reservation.reference)
    before = count_rows(engine, OutboxMessage)
    for path in (f"/t/{ticket.ticket_token}/cancel", "/t/NOPE/cancel"):
        assert_page(client.simulate_get(path), 404, "This link is not valid")
        assert_page(post_form(client, path), 404, "This link is not valid")
    assert fresh(engine, Reservation, ticket.reservation.id).status == "confirmed"
    assert count_rows(engine, OutboxMessage) == before


# --- in Italian ------------------------------------------------------------------------------


def test_the_link_pages_speak_italian(client, performance, visitor_booking, visitor_ticket):
    submitted = visitor_booking(performance, 3)
    ticket = visitor_ticket(performance, 1)
    when = i18n.format_when(performance.starts_at, "it")
    pages = {
        f"/confirm/{submitted.confirm_token}": "Conferma la prenotazione",
        f"/cancel/{submitted.cancel_token}": "Annullare la prenotazione?",
        f"/t/{ticket.ticket_token}": "Prenotazione confermata",
        f"/t/{ticket.ticket_token}/cancel": "Annullare la prenotazione?",
    }
    for path, heading in pages.items():
        page = assert_page(client.simulate_get(path, headers=ITALIAN), 200, heading)
        assert '<html lang="it">' in page
        assert when in page
        assert "<dt>Posti</dt>" in page and "<dt>Show</dt>" not in page
    confirm = client.simulate_get(f"/confirm/{submitted.confirm_token}", headers=ITALIAN).text
    assert ">Conferma 3 posti</button>" in confirm
    assert html.escape(VISITOR["name"]) in confirm


@pytest.mark.parametrize(
    ("path", "status", "heading", "words"),
    [
        ("/confirm/NOTATOKEN", 404, "Questo link non è valido", "un'email più recente"),
        ("/nowhere", 404, "Pagina non trovata", "Non c'è niente a questo indirizzo"),
    ],
)
def test_a_problem_page_explains_in_italian_not_in_the_services_english(
    client, path, status, heading, words
):
    result = client.simulate_get(path, headers={**ITALIAN, "Accept": "text/html"})
    page = assert_page(result, status, heading)
    assert words in page
    assert "this link is not valid" not in page.lower()
    assert "nothing at this address" not in page


def test_an_expired_confirm_link_says_what_to_do_next_in_italian(
    engine, client, performance, visitor_booking
):
    submitted = visitor_booking(performance, at=times.now_utc() - timedelta(days=2))
    page = assert_page(
        client.simulate_get(f"/confirm/{submitted.confirm_token}", headers=ITALIAN),
        410,
        "Questo link è scaduto",
    )
    assert 'data-code="token_expired"' in page
    assert re.search(r"prenotare di nuovo", page)
