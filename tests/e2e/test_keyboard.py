"""The visitor's links done with the keyboard alone (Tab, Enter, Space; no mouse), in Debian's
headless Chromium against a real gunicorn, with JavaScript on and off: from the mail's confirm
link to the ticket and its QR code, from the mail's cancel link to the cancelled booking. And
the keyboard helpers themselves (tests/e2e/browser.py), on a page of their own."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import Session

from azctl.models import ReservationStatus
from azctl.services import reservations, tokens
from tests.e2e.browser import (
    assert_accessible,
    focused,
    tab_and_type,
    tab_to,
    watch_for_problems,
)
from tests.e2e.pages import Site

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TICKET_PATH = re.compile(rf"/t/[{tokens.ALPHABET}]{{{tokens.TOKEN_LENGTH}}}$")


def _status(session: Session, reference: str) -> ReservationStatus:
    session.rollback()  # a fresh snapshot, to see what the server has committed since
    return reservations.get_reservation(session, reference=reference).status


def _skip_link_comes_first(page: Page) -> None:
    """The first Tab reaches "skip to content", shown on screen when it has the focus."""
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.matches('a[href=\"#main\"]')"), focused(page)
    box = page.locator('a[href="#main"]').bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, box


@SQLITE
@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no_javascript"])
def test_keyboard_alone_confirms_from_the_mail_link_to_the_ticket(
    site: Site,
    session: Session,
    browser_context: Callable[..., BrowserContext],
    javascript: bool,
) -> None:
    """An Italian visitor follows the mail's confirm link, switches to English, confirms with
    Enter and gets the ticket with its QR code; the same with JavaScript off."""
    booked = site.book(language="it")
    link = site.mail_link(booked, "confirm")
    page = browser_context(language="it", javascript=javascript).new_page()
    problems = watch_for_problems(page)

    opened = page.goto(link)
    assert opened is not None and opened.status == 200
    assert page.get_attribute("html", "lang") == "it"
    _skip_link_comes_first(page)

    tab_to(page, "link", "English")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "en"
    assert "lang=en" in page.url
    assert _status(session, booked.reference) == ReservationStatus.PENDING

    tab_to(page, "button", re.compile(r"^Confirm"))
    with page.expect_navigation(url=TICKET_PATH):  # waits for the page's load: images too
        page.keyboard.press("Enter")

    assert page.get_attribute("html", "lang") == "en"  # the switch's choice is kept
    qr = page.evaluate(
        "() => { const img = document.getElementById('qr');"
        " return {complete: img.complete, width: img.naturalWidth}; }"
    )
    assert qr["complete"] and qr["width"] > 0, qr
    assert page.inner_text(".reference") == booked.reference
    assert _status(session, booked.reference) == ReservationStatus.CONFIRMED
    assert_accessible(page)
    assert problems == [], problems


@SQLITE
def test_keyboard_alone_cancels_from_the_mail_link(
    site: Site, session: Session, browser_context: Callable[..., BrowserContext]
) -> None:
    """Space presses the cancel button; the answer says the booking is cancelled."""
    booked = site.book(confirmed=True)
    link = site.mail_link(booked, "cancel")
    page = browser_context(language="en", javascript=False).new_page()
    problems = watch_for_problems(page)

    page.goto(link)
    tab_to(page, "button", re.compile(r"^Cancel"))
    with page.expect_navigation():
        page.keyboard.press("Space")

    assert _status(session, booked.reference) == ReservationStatus.CANCELLED
    assert page.get_by_role("button").count() == 0  # nothing left to press
    assert_accessible(page)
    assert problems == [], problems


FORM = """<!doctype html><html lang="en"><title>Form</title><main>
<a href="#elsewhere">A link</a>
<label>Name <input name="name"></label>
<label>Email <input name="email" type="email"></label>
<button type="button">Send</button>
</main></html>"""


def test_tab_and_type_fill_the_labelled_field_and_tab_to_fails_naming_the_focus(
    browser_context: Callable[..., BrowserContext],
) -> None:
    page = browser_context(javascript=False).new_page()
    page.set_content(FORM)

    tab_and_type(page, "Email", "ada@example.org")
    assert page.input_value("input[name=email]") == "ada@example.org"
    assert page.input_value("input[name=name]") == ""

    with pytest.raises(pytest.fail.Exception, match=r'the focus went: <button> "Send"'):
        tab_to(page, "link", "A link", limit=2)  # behind the focus: Tab goes on, not back
    with pytest.raises(pytest.fail.Exception, match="0 elements"):
        tab_to(page, "button", "Pay")
