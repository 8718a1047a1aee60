"""The booking form, /book/{performance_id}: what it shows, how a refused form comes back (every
message by its field, the values kept, nothing written), the booking it makes and the page it
leads to, and the anti-forgery token every page's form POST needs."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from azctl.http import forgery
from azctl.models import OutboxMessage, Reservation
from azctl.services import booking, catalog, i18n
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import (
    FORM,
    VISITOR,
    assert_no_personal_data,
    assert_page,
    form_pass,
    form_token_in,
    post_form,
)

GOOD = {
    "name": VISITOR["name"],
    "email": VISITOR["email"],
    "phone": VISITOR["phone"],
    "party_size": "2",
    "notes": VISITOR["notes"],
    "consent": "yes",
}
ITALIAN = {"Accept-Language": "it"}


def book_path(performance):
    return f"/book/{performance.id}"


def main_of(page):
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def field_input(page, field):
    """The opening tag of `field`'s input (or textarea)."""
    found = re.search(rf'<(?:input|textarea) id="{field}"[^>]*>', page)
    assert found is not None, field
    return found[0]


def assert_refused(page, field, message):
    """`message` is shown by `field`, linked to its input, and listed in the summary."""
    error_id = f"{field}-error"
    assert f'<p class="error" id="{error_id}">{html.escape(message)}</p>' in page
    tag = field_input(page, field)
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    assert described is not None and error_id in described[1].split(), tag
    assert 'aria-invalid="true"' in tag
    assert f'<li><a href="#{field}">{html.escape(message)}</a></li>' in page


def reservations(engine):
    with Session(engine) as session:
        return list(session.exec(select(Reservation)))


# --- the form --------------------------------------------------------------------------------


def test_the_form_shows_the_performance_and_every_field_labelled(engine, client, performance):
    with unchanged(engine):
        result = client.simulate_get(book_path(performance))
    page = assert_page(result, 200, "Book: Open Show")
    assert i18n.format_when(performance.starts_at, "en") in page
    assert "Teatro Studio, Milano" in page
    assert '<dd id="free">10</dd>' in page
    assert f'<form method="post" action="/book/{performance.id}#errors"' in page
    for field, kind, autocomplete in [
        ("name", "text", "name"),
        ("email", "email", "email"),
        ("phone", "tel", "tel"),
        ("party_size", "number", None),
        ("consent", "checkbox", None),
    ]:
        tag = field_input(page, field)
        assert f'<label for="{field}">' in page, field
        assert f'type="{kind}"' in tag
        if autocomplete:
            assert f'autocomplete="{autocomplete}"' in tag
    assert field_input(page, "notes").startswith("<textarea")
    assert '<label for="notes">' in page
    for required in ("name", "email", "party_size", "consent"):
        assert " required" in field_input(page, required), required
    for optional in ("phone", "notes"):
        assert " required" not in field_input(page, optional), optional
    party = field_input(page, "party_size")
    assert 'min="1"' in party and 'max="8"' in party and 'inputmode="numeric"' in party
    assert "errors" not in main_of(page).split("<h1>")[0]  # no summary on a fresh form
    assert form_token_in(page)


def test_the_form_gives_the_browser_its_anti_forgery_cookie(client, performance):
    result = client.simulate_get(book_path(performance))
    cookie = result.cookies[forgery.COOKIE]
    assert cookie.http_only and cookie.path == "/" and cookie.same_site == "Lax"
    assert not cookie.secure  # the test client speaks http; https gets Secure
    assert forgery.is_valid(cookie.value, form_token_in(result.text))
    # A browser that has its cookie keeps it: no new one, and a token for the one it has.
    again = client.simulate_get(book_path(performance), cookies={forgery.COOKIE: cookie.value})
    assert forgery.COOKIE not in again.cookies
    assert forgery.is_valid(cookie.value, form_token_in(again.text))
    secure = client.simulate_get(book_path(performance), protocol="https")
    assert secure.cookies[forgery.COOKIE].secure


def test_framed_over_https_the_cookie_is_sent_from_the_frame(client, performance, monkeypatch):
    """A page framed by the theatre's site is a third party there: only a `SameSite=None`
    (partitioned) cookie reaches it, and the token still binds each POST to it."""
    monkeypatch.setenv("AZCTL_EMBED_ORIGINS", "https://www.teatro.example")
    reload_settings()
    cookie = client.simulate_get(book_path(performance), protocol="https").cookies[forgery.COOKIE]
    assert (cookie.same_site, cookie.secure, cookie.partitioned) == ("None", True, True)
    # Over plain http (a test install) there is no third-party cookie to be had: Lax.
    plain = client.simulate_get(book_path(performance)).cookies[forgery.COOKIE]
    assert (plain.same_site, plain.partitioned) == ("Lax", False)


def test_the_consent_links_the_privacy_notice_when_there_is_one(client, performance, monkeypatch):
    monkeypatch.setenv("AZCTL_PRIVACY_URL", "https://teatro.example/privacy")
    reload_settings()
    page = client.simulate_get(book_path(performance)).text
    assert '<a href="https://teatro.example/privacy" target="_blank" rel="noopener">' in page
    assert 'aria-describedby="consent-hint"' in field_input(page, "consent")


@pytest.mark.parametrize(
    ("situation", "state", "words"),
    [
        ("sold out", "sold_out", "Sold out"),
        ("closed", "closed", "Booking is closed for this performance."),
        ("started", "started", "This performance has already started."),
        ("cancelled", "cancelled", "This performance has been cancelled."),
    ],
)
def test_a_performance_that_cannot_be_booked_says_why_and_has_no_form(
    session, engine, client, make_performance, confirmed, situation, state, words
):
    starts_in = timedelta(minutes=-5) if situation == "started" else timedelta(hours=2)
    performance = make_performance(capacity=2, starts_in=starts_in)
    if situation == "sold out":
        confirmed(performance, 2)
    elif situation == "closed":
        catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    elif situation == "cancelled":
        booking.cancel_performance(session, performance_id=performance.id)
    with unchanged(engine):
        page = assert_page(client.simulate_get(book_path(performance)), 200, "Book: Open Show")
    assert f'data-state="{state}"' in page and words in page
    assert "<form" not in page
    assert 'href="/shows/open-show"' in page


def test_an_unknown_or_unpublished_performance_is_not_found(client, make_performance):
    hidden = make_performance(published=False)
    for path in (book_path(hidden), "/book/424242"):
        page = assert_page(client.simulate_get(path), 404, "We could not find this page")
        assert 'data-code="not_found"' in page
    # Not a number: not a route at all; a browser gets the page, a program problem+json.
    browser = client.simulate_get("/book/abc", headers={"Accept": "text/html"})
    assert_page(browser, 404, "We could not find this page")


# --- a refused form --------------------------------------------------------------------------

REFUSALS = [
    ("name", {"name": "  "}, "Please enter your name"),
    ("name", {"name": "x" * 201}, "Your name can be at most 200 characters long"),
    ("name", {"name": "Ada\x07"}, "Please remove the invisible control characters from this field"),
    ("email", {"email": ""}, "Please enter your email address"),
    ("email", {"email": "ada@"}, "This is not an email address we can write to"),
    ("email", {"email": "ada@localhost"}, "This is not an email address we can write to"),
    (
        "email",
        {"email": "andré@example.org"},
        "We cannot send mail to this address: only the part after the @ may have letters"
        " such as à or ü",
    ),
    ("phone", {"phone": "3" * 41}, "The phone number can be at most 40 characters long"),
    ("notes", {"notes": "n" * 1001}, "The notes can be at most 1,000 characters long"),
    ("party_size", {"party_size": ""}, "Please say how many seats you want"),
    ("party_size", {"party_size": "two"}, "Please write the number of seats in figures, like 2"),
    ("party_size", {"party_size": "2.5"}, "Please write the number of seats in figures, like 2"),
    ("party_size", {"party_size": "0"}, "Please book at least one seat"),
    ("party_size", {"party_size": "9"}, "You can book at most 8 seats"),
    ("party_size", {"party_size": "9" * 40}, "You can book at most 8 seats"),
    (
        "consent",
        {"consent": ""},
        "To book, please agree that the theatre keeps these details to manage the booking",
    ),
]


@pytest.mark.parametrize(("field", "changes", "message"), REFUSALS)
def test_a_refused_field_says_why_beside_itself_keeps_the_values_and_writes_nothing(
    engine, client, performance, field, changes, message
):
    typed = {**GOOD, **changes}
    with unchanged(engine):
        result = post_form(client, book_path(performance), typed)
    page = assert_page(result, 422, "Book: Open Show")
    assert_refused(page, field, message)
    assert page.count('<p class="error"') == 1
    assert re.search(r"<title>Error: Book: Open Show", page)
    # The summary comes first in <main>, takes the focus, and the form comes back to it.
    assert re.match(
        r' id="main" tabindex="-1">\s*<div class="errors" id="errors" tabindex="-1"', main_of(page)
    )
    assert f'action="/book/{performance.id}#errors"' in page
    # Every value typed is still there (escaped), the refused one included.
    for name, value in typed.items():
        if name == "consent":
            assert (" checked" in field_input(page, "consent")) == bool(value)
        elif name == "notes":
            assert f">{html.escape(value)}</textarea>" in page
        elif "\x07" not in value:
            assert f'value="{html.escape(value)}"' in field_input(page, name)
    assert form_token_in(page)


def test_every_refused_field_is_shown_at_once_in_the_order_of_the_form(engine, client, performance):
    typed = {"name": "", "email": "not an address", "party_size": "0", "notes": "fine"}
    with unchanged(engine):
        page = assert_page(post_form(client, book_path(performance), typed), 422, "Book: Open Show")
    expected = [
        ("name", "Please enter your name"),
        ("email", "This is not an email address we can write to"),
        ("party_size", "Please book at least one seat"),
        (
            "consent",
            "To book, please agree that the theatre keeps these details to manage the booking",
        ),
    ]
    for field, message in expected:
        assert_refused(page, field, message)
    summary = page.split('id="errors"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'href="#(\w+)"', summary) == [field for field, _ in expected]
    assert 'aria-invalid="true"' not in field_input(page, "phone")
    assert ">fine</textarea>" in page


def test_a_refused_form_speaks_the_visitors_language(engine, client, performance):
    typed = {**GOOD, "name": "", "party_size": "9"}
    with unchanged(engine):
        result = post_form(client, book_path(performance), typed, headers=ITALIAN)
    assert result.status_code == 422
    page = result.text
    assert '<html lang="it">' in page
    assert_refused(page, "name", "Inserire il nome")
    assert_refused(page, "party_size", "Si possono prenotare al massimo 8 posti")
    assert "<title>Errore: Prenota: Open Show" in page
    assert i18n.format_when(performance.starts_at, "it") in page
    assert "is required" not in page and "must be at most" not in page  # not the service's English


# --- refusals of the booking itself ----------------------------------------------------------


def test_not_enough_seats_is_said_by_the_seats_with_the_values_kept(
    engine, client, make_performance, confirmed
):
    performance = make_performance(capacity=3)
    confirmed(performance, 2)
    with unchanged(engine):
        result = post_form(client, book_path(performance), {**GOOD, "party_size": "2"})
    page = assert_page(result, 409, "Book: Open Show")
    assert_refused(page, "party_size", "Only 1 seat is free now: please ask for fewer.")
    assert f'value="{html.escape(VISITOR["name"])}"' in page
    assert form_token_in(page)


def test_seats_taken_while_the_form_was_open_say_so_without_a_form(
    engine, client, make_performance, confirmed
):
    performance = make_performance(capacity=2)
    cookie, token = form_pass(client.simulate_get(book_path(performance)))
    confirmed(performance, 2)
    with unchanged(engine):
        result = client.simulate_post(
            book_path(performance),
            body=urlencode({**GOOD, "csrf_token": token}),
            content_type=FORM,
            cookies={forgery.COOKIE: cookie},
        )
    page = assert_page(result, 409, "Book: Open Show")
    assert "Sorry, the last seats have just been taken." in page
    assert 'data-state="sold_out"' in page and "<form" not in page


def test_booking_closed_while_the_form_was_open_says_so(session, engine, client, performance):
    cookie, token = form_pass(client.simulate_get(book_path(performance)))
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    with unchanged(engine):
        result = client.simulate_post(
            book_path(performance),
            body=urlencode({**GOOD, "csrf_token": token}),
            content_type=FORM,
            cookies={forgery.COOKIE: cookie},
        )
    page = assert_page(result, 409, "Book: Open Show")
    assert "<li>Booking has just closed for this performance.</li>" in page
    assert "<form" not in page


def test_booking_closed_at_the_moment_of_booking_is_the_services_refusal(
    session, engine, client, performance, monkeypatch
):
    """Staff close booking between the page's read and the booking: the service refuses, and
    the page says so."""
    real = booking.submit_booking

    def closed_meanwhile(request_session, **fields):
        catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
        return real(request_session, **fields)

    monkeypatch.setattr(booking, "submit_booking", closed_meanwhile)
    result = post_form(client, book_path(performance), GOOD)
    page = assert_page(result, 409, "Book: Open Show")
    assert "<li>Booking has just closed for this performance.</li>" in page
    assert reservations(engine) == []


def test_a_refused_form_for_a_closed_performance_only_says_it_is_closed(
    session, engine, client, performance
):
    cookie, token = form_pass(client.simulate_get(book_path(performance)))
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    result = client.simulate_post(
        book_path(performance),
        body=urlencode({"name": "", "csrf_token": token}),
        content_type=FORM,
        cookies={forgery.COOKIE: cookie},
    )
    page = assert_page(result, 409, "Book: Open Show")
    assert "<li>Booking has just closed for this performance.</li>" in page
    assert 'class="error"' not in page and 'href="#name"' not in page


# --- a booking made --------------------------------------------------------------------------


def test_a_good_form_books_and_sees_a_page_that_says_to_check_the_mail(engine, client, performance):
    result = post_form(
        client, book_path(performance), {**GOOD, "email": " Mirandolina@Example.ORG "}
    )

    assert result.status_code == 303
    location = result.headers["Location"]
    # A path, so the browser stays on the host it used; nothing about the visitor in it.
    assert re.fullmatch(r"/booked/[\w.-]+#main", location), location
    assert_no_personal_data(location)
    [reservation] = reservations(engine)
    assert reservation.status == "pending"
    assert (reservation.name, reservation.email, reservation.phone, reservation.notes) == (
        VISITOR["name"],
        "Mirandolina@example.org",
        VISITOR["phone"],
        VISITOR["notes"],
    )
    assert reservation.party_size == 2
    assert reservation.language == "en"
    assert count_rows(engine, OutboxMessage) == 1

    with unchanged(engine):
        shown = client.simulate_get(location.split("#")[0])
    page = assert_page(shown, 200, "Check your email to confirm")
    assert reservation.reference in page
    assert i18n.format_when(reservation.expires_at, "en") in page
    assert_no_personal_data(main_of(page))


def test_the_booking_keeps_the_language_of_the_form(engine, client, performance):
    result = post_form(client, book_path(performance), GOOD, headers=ITALIAN)
    assert result.status_code == 303
    [reservation] = reservations(engine)
    assert reservation.language == "it"
    shown = client.simulate_get(result.headers["Location"].split("#")[0], headers=ITALIAN)
    assert_page(shown, 200, "Controllare la posta per confermare")


def test_the_booked_page_follows_the_booking(session, client, performance):
    result = post_form(client, book_path(performance), GOOD)
    path = result.headers["Location"].split("#")[0]
    [message] = session.exec(select(OutboxMessage)).all()
    booking.confirm_booking(session, token=message.context["confirm_token"])
    assert_page(client.simulate_get(path), 200, "Your booking is confirmed")


def test_a_made_up_receipt_is_not_valid(client, performance):
    for receipt in ("AZ-AAAAAA", "x.y.z", forgery.token_for(forgery.new_cookie())):
        assert_page(client.simulate_get(f"/booked/{receipt}"), 404, "This link is not valid")


# --- forged posts ----------------------------------------------------------------------------


@pytest.fixture
def form_pages(session, performance, book, confirmed):
    """Every page with a form, by name: its path."""
    submitted = book(performance)
    ticket = confirmed(performance)
    return {
        "book": book_path(performance),
        "confirm": f"/confirm/{submitted.confirm_token}",
        "cancel": f"/cancel/{submitted.cancel_token}",
        "ticket cancel": f"/t/{ticket.ticket_token}/cancel",
    }


def _expired_token(cookie, monkeypatch):
    with monkeypatch.context() as patch:
        past = time.time() - forgery.MAX_AGE_SECONDS - 60
        patch.setattr(time, "time", lambda: past)
        return forgery.token_for(cookie)


FORGERIES = ["no token", "wrong token", "another cookie's token", "no cookie", "expired", "json"]


@pytest.mark.parametrize("page", ["book", "confirm", "cancel", "ticket cancel"])
def test_a_forged_form_post_is_refused_and_changes_nothing(
    engine, client, form_pages, page, monkeypatch, subtests
):
    path = form_pages[page]
    cookie, token = form_pass(client.simulate_get(path))
    other_cookie, other_token = form_pass()
    fields = GOOD if page == "book" else {}
    posts = {
        "no token": {"body": urlencode(fields), "cookie": cookie},
        "wrong token": {
            "body": urlencode({**fields, "csrf_token": token[:-2] + "xx"}),
            "cookie": cookie,
        },
        "another cookie's token": {
            "body": urlencode({**fields, "csrf_token": other_token}),
            "cookie": cookie,
        },
        "no cookie": {"body": urlencode({**fields, "csrf_token": token}), "cookie": None},
        "expired": {
            "body": urlencode({**fields, "csrf_token": _expired_token(cookie, monkeypatch)}),
            "cookie": cookie,
        },
    }
    assert other_cookie != cookie
    for forgery_kind in FORGERIES:
        with subtests.test(forgery=forgery_kind), unchanged(engine):
            if forgery_kind == "json":
                result = client.simulate_post(
                    path, json={**fields, "csrf_token": token}, cookies={forgery.COOKIE: cookie}
                )
            else:
                post = posts[forgery_kind]
                result = client.simulate_post(
                    path,
                    body=post["body"],
                    content_type=FORM,
                    cookies={forgery.COOKIE: post["cookie"]} if post["cookie"] else None,
                )
            refused = assert_page(result, 403, "This form has expired")
            assert 'data-code="forbidden"' in refused
            assert "reload" in refused
    # The same form, sent as the page made it, goes through.
    good = client.simulate_post(
        path,
        body=urlencode({**fields, "csrf_token": token}),
        content_type=FORM,
        cookies={forgery.COOKIE: cookie},
    )
    assert good.status_code in (200, 303), good.text


def test_the_forbidden_page_speaks_the_visitors_language(client, performance):
    result = client.simulate_post(
        book_path(performance), body=urlencode(GOOD), content_type=FORM, headers=ITALIAN
    )
    assert_page(result, 403, "Questo modulo è scaduto")


def test_the_json_api_needs_no_token(engine, client, performance):
    result = client.simulate_post(
        f"/api/performances/{performance.id}/reservations",
        json={"name": "Ada", "email": "ada@example.org", "party_size": 1},
    )
    assert result.status_code == 202


def test_an_oversized_or_unreadable_form_is_refused(engine, client, performance):
    cookie, token = form_pass(client.simulate_get(book_path(performance)))
    with unchanged(engine):
        huge = client.simulate_post(
            book_path(performance),
            body=urlencode({**GOOD, "notes": "n" * 40_000, "csrf_token": token}),
            content_type=FORM,
            cookies={forgery.COOKIE: cookie},
        )
        broken = client.simulate_post(
            book_path(performance),
            body=b"name=%FF&csrf_token=" + token.encode(),
            content_type=FORM,
            cookies={forgery.COOKIE: cookie},
        )
    assert_page(huge, 400, "We could not read what was sent")
    assert_page(broken, 400, "We could not read what was sent")


# --- rate limits -----------------------------------------------------------------------------


def test_the_form_is_rate_limited_with_the_apis_booking(
    engine, make_client, performance, monkeypatch
):
    monkeypatch.setenv("AZCTL_RATE_LIMIT", "3/minute")
    reload_settings()
    client = make_client()
    refused = {**GOOD, "party_size": "0"}
    answers = [post_form(client, book_path(performance), refused).status_code for _ in range(2)]
    api = client.simulate_post(
        f"/api/performances/{performance.id}/reservations",
        json={"name": "Ada", "email": "ada@example.org", "party_size": 0},
    )
    assert answers == [422, 422] and api.status_code == 422
    with unchanged(engine):
        limited = post_form(client, book_path(performance), GOOD)
    assert_page(limited, 429, "Too many tries")
    assert int(limited.headers["Retry-After"]) >= 1
    # Showing the form is never limited.
    assert client.simulate_get(book_path(performance)).status_code == 200


# --- the JSON API's language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "kept"),
    [
        ({"language": "it"}, {}, "it"),
        ({"language": "en"}, ITALIAN, "en"),
        ({}, {"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}, "it"),
        ({}, {}, "en"),
        ({"language": None}, ITALIAN, "it"),
    ],
)
def test_a_json_booking_keeps_its_language(engine, client, performance, body, headers, kept):
    result = client.simulate_post(
        f"/api/performances/{performance.id}/reservations",
        json={"name": "Ada", "email": "ada@example.org", "party_size": 1, **body},
        headers=headers,
    )
    assert result.status_code == 202, result.text
    [reservation] = reservations(engine)
    assert reservation.language == kept


def test_a_json_booking_in_a_language_not_offered_is_refused(engine, client, performance):
    with unchanged(engine):
        result = client.simulate_post(
            f"/api/performances/{performance.id}/reservations",
            json={"name": "Ada", "email": "ada@example.org", "party_size": 1, "language": "de"},
        )
    assert result.status_code == 422
    assert (result.json["code"], result.json["field"]) == ("invalid_input", "language")
