"""The visitor's whole journey (issue 12), in Debian's headless Chromium against a real gunicorn:
from the season (`/`) to a show, to a performance's booking form; the form sent first with an
email the server refuses (the message beside the field, in the page's language, the values
kept, the summary at the top focused), then sent right; the "check your email" page with the
reference; the confirmation mail, rendered as the sender renders it and read in a new tab as a
webmail shows it, in the booking's language; its button followed and Confirm pressed; the
ticket, its QR code loaded and its calendar entry saved. At the end the database holds the one
booking, confirmed, in the visitor's language, and the ticket mail is queued in it.

Four visitors, all with a browser that asks for Italian, except the third:
- `italian`: Italian by `Accept-Language: it`, on a 320 px phone, with clicks;
- `english_by_the_switch`: English chosen with the switch on `/`, with the mouse;
- `no_javascript`: English by `Accept-Language: en`, JavaScript off;
- `keyboard`: Italian, the keyboard alone: Tab, Enter, Space and typing, no click, and no
  `goto` but the first (the mail is put in its tab as a webmail would).

Every text the test looks for is the catalog's translation of the page's own English, and a
translation must exist; a page in Italian that shows an English string of the catalog fails
(tests/e2e/catalogs.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import Session, col, select

from azctl.models import Reservation, ReservationStatus
from azctl.services import i18n, tokens
from azctl.settings import get_settings
from tests.e2e.browser import DESKTOP, PHONE, Screen, focused, tab_to, type_here, watch_for_problems
from tests.e2e.catalogs import counted, english_left, words
from tests.e2e.pages import SHOW_TITLE, Site

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TICKET_PATH = re.compile(rf"/t/[{tokens.ALPHABET}]{{{tokens.TOKEN_LENGTH}}}$")
BOOKED_PATH = re.compile(r"/booked/[^/#?]+#main$")
# Passes the browser's `type=email` check (no dot needed after the @), not the server's.
REFUSED_EMAIL = "giulia.bianchi@example"
SEATS = 3


@dataclass(frozen=True)
class Run:
    """How one visitor comes and moves: the language their browser asks for, the one they
    end up reading, their screen, whether they switch language, JavaScript, the keyboard
    alone."""

    asks: str
    reads: str
    screen: Screen = DESKTOP
    by_the_switch: bool = False
    javascript: bool = True
    keyboard: bool = False


RUNS = {
    "italian": Run(asks="it", reads="it", screen=PHONE),
    "english_by_the_switch": Run(asks="it", reads="en", by_the_switch=True),
    "no_javascript": Run(asks="en", reads="en", javascript=False),
    "keyboard": Run(asks="it", reads="it", keyboard=True),
}


def starts(text: str) -> re.Pattern[str]:
    """An accessible name that begins with `text` (a Book link goes on with the date; a
    required field's label ends with "*")."""
    return re.compile(rf"^{re.escape(text)}")


@dataclass
class Visitor:
    """A visitor's hands on the page: the mouse, or the keyboard alone. Every page they land
    on must be written in `language`: `<html lang>`, and no English text left in it."""

    page: Page
    language: str
    keyboard: bool

    def _arrived(self) -> None:
        lang = self.page.get_attribute("html", "lang")
        assert lang == self.language, f"{self.page.url} is lang={lang}, not {self.language}"
        left = english_left(self.page, self.language)
        assert left == [], f"{self.page.url} is in {self.language} but has English: {left}"

    def _go(
        self,
        role: str,
        name: str | re.Pattern[str],
        *,
        status: int,
        url: str | re.Pattern[str] | None,
    ) -> None:
        """Follow a link or press a button (with Enter) and wait for the page it leads to."""
        target = self.page.get_by_role(role, name=name)  # type: ignore[arg-type]
        with self.page.expect_navigation(url=url) as navigation:
            if self.keyboard:
                tab_to(self.page, role, name)
                self.page.keyboard.press("Enter")
            else:
                target.click()
        answer = navigation.value
        assert answer is not None and answer.status == status, (self.page.url, answer)
        self._arrived()

    def open(self, url: str, *, status: int = 200) -> None:
        answer = self.page.goto(url)
        assert answer is not None and answer.status == status, (url, answer)
        self._arrived()

    def follow(
        self,
        name: str | re.Pattern[str],
        *,
        status: int = 200,
        url: str | re.Pattern[str] | None = None,
    ) -> None:
        self._go("link", name, status=status, url=url)

    def press(
        self,
        name: str | re.Pattern[str],
        *,
        status: int = 200,
        url: str | re.Pattern[str] | None = None,
    ) -> None:
        self._go("button", name, status=status, url=url)

    def write(self, role: str, label: str, text: str) -> None:
        """Type `text` into the field labelled `label`, in place of what it held."""
        field = self.page.get_by_role(role, name=starts(label))  # type: ignore[arg-type]
        if self.keyboard:
            tab_to(self.page, role, starts(label))
            self.page.keyboard.press("Control+A")  # what it held goes as the first key falls
            type_here(self.page, text)
        else:
            field.fill(text)
        assert field.input_value() == text

    def tick(self, label: str) -> None:
        box = self.page.get_by_role("checkbox", name=starts(label))
        if self.keyboard:
            tab_to(self.page, "checkbox", starts(label))
            self.page.keyboard.press("Space")
        else:
            box.check()
        assert box.is_checked()


def _fill_the_form(visitor: Visitor, _: Callable[[str], str], email: str) -> None:
    visitor.write("textbox", _("Your name"), "Giulia Bianchi")
    visitor.write("textbox", _("Email"), email)
    visitor.write("textbox", _("Phone (optional)"), "+39 333 1234567")
    visitor.write("spinbutton", _("Seats"), str(SEATS))
    visitor.write("textbox", _("Notes for the theatre (optional)"), "Un cuscino, per favore")
    visitor.tick(
        _("I agree to the privacy notice: the theatre keeps these details to manage this booking.")
    )


def _assert_refused_email_shown(page: Page, _: Callable[[str], str]) -> None:
    """The summary at the top has the focus and names the problem; the email field is marked
    invalid and described by its message, shown beside it in the page's language; every value
    typed is still there."""
    assert page.url.endswith("#errors"), page.url
    assert page.evaluate("() => document.activeElement.id") == "errors", focused(page)
    summary = page.locator("#errors")
    assert summary.is_visible()
    assert summary.get_by_role("heading").inner_text() == _("There is a problem")
    message = _("This is not an email address we can write to")
    assert summary.get_by_role("link", name=message).get_attribute("href") == "#email"

    email = page.locator("#email")
    assert email.get_attribute("aria-invalid") == "true"
    described_by = (email.get_attribute("aria-describedby") or "").split()
    shown = [
        page.locator(f"#{id_}").inner_text()
        for id_ in described_by
        if page.locator(f"#{id_}").is_visible()
    ]
    assert message in shown, (described_by, shown)
    assert page.locator("[aria-invalid=true]").count() == 1  # only the email was wrong

    kept = {
        "#name": "Giulia Bianchi",
        "#email": REFUSED_EMAIL,
        "#phone": "+39 333 1234567",
        "#party_size": str(SEATS),
        "#notes": "Un cuscino, per favore",
    }
    assert {selector: page.input_value(selector) for selector in kept} == kept
    assert page.is_checked("#consent")


def _text(email: EmailMessage) -> str:
    body = email.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _html(email: EmailMessage) -> str:
    body = email.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def _reservations(session: Session, email: str) -> list[Reservation]:
    session.rollback()  # a fresh snapshot, to see what the server has committed since
    return list(session.exec(select(Reservation).where(col(Reservation.email) == email)).all())


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_a_visitor_finds_a_show_books_confirms_and_gets_the_ticket(
    run: Run,
    site: Site,
    session: Session,
    browser_context: Callable[..., BrowserContext],
    tmp_path: Path,
) -> None:
    _ = words(run.reads)
    good_email = f"giulia.{run.reads}.{int(run.keyboard)}{int(run.javascript)}@example.org"
    when = i18n.format_when(site.performance.starts_at, run.reads)
    page = browser_context(
        screen=run.screen, language=run.asks, javascript=run.javascript
    ).new_page()
    problems = watch_for_problems(page)
    visitor = Visitor(page, language=run.asks, keyboard=run.keyboard)

    # The season, then the show, then the form of its performance.
    visitor.open(site.url("/"))
    if run.by_the_switch:
        visitor.language = run.reads
        visitor.follow("English")  # each language's name is written in that language
    assert page.get_by_role("heading", level=1).inner_text() == get_settings().theatre_name
    visitor.follow(re.compile(rf"^{re.escape(SHOW_TITLE)}$"))
    assert page.get_by_role("heading", level=1).inner_text() == SHOW_TITLE
    assert when in page.inner_text("#dates ~ ul")
    visitor.follow(starts(_("Book")))
    assert page.url == site.url(f"/book/{site.performance_id}")

    # Sent with an email the server refuses: told so beside the field, nothing booked.
    _fill_the_form(visitor, _, REFUSED_EMAIL)
    visitor.press(_("Book"), status=422)
    _assert_refused_email_shown(page, _)
    assert _reservations(session, REFUSED_EMAIL) == []

    # Corrected and sent again: booked, and told to look for the mail.
    if run.keyboard:  # the summary's link leads to the field
        tab_to(page, "link", _("This is not an email address we can write to"))
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "email", focused(page)
        page.keyboard.press("Control+A")
        type_here(page, good_email)
        assert page.input_value("#email") == good_email
    else:
        visitor.write("textbox", _("Email"), good_email)
    visitor.press(_("Book"), url=BOOKED_PATH)
    assert page.get_by_role("heading", level=1).inner_text() == _("Check your email to confirm")
    reference = page.inner_text(".reference")
    [booked] = _reservations(session, good_email)
    assert booked.reference == reference
    assert booked.status == ReservationStatus.PENDING
    assert booked.language == run.reads
    assert (booked.name, booked.party_size, booked.phone, booked.notes) == (
        "Giulia Bianchi",
        SEATS,
        "+39 333 1234567",
        "Un cuscino, per favore",
    )

    # The mail, in the booking's language; its link, opened as a mail client opens it.
    [confirmation] = site.mails(reference)
    assert confirmation["Subject"] == _("Please confirm your booking %(reference)s: %(show)s") % {
        "reference": reference,
        "show": SHOW_TITLE,
    }
    text = _text(confirmation)
    assert _("thank you for booking. Your seats are held only once you confirm:") in text
    assert when in text
    # Read in a new tab, as a webmail shows it, and its button followed from there.
    page = visitor.page = page.context.new_page()
    problems_from_the_mail = watch_for_problems(page)
    page.set_content(_html(confirmation))
    assert page.get_attribute("html", "lang") == run.reads
    assert english_left(page, run.reads) == []
    assert when in page.inner_text("body")
    button = page.get_by_role("link", name=_("Confirm my booking"), exact=True)
    assert button.get_attribute("href") == site.link_in(confirmation, "confirm")
    visitor.follow(_("Confirm my booking"))
    assert page.get_by_role("heading", level=1).inner_text() == _("Confirm your booking")

    confirm = counted(run.reads, "Confirm %(count)s seat", "Confirm %(count)s seats", SEATS)
    visitor.press(confirm, url=TICKET_PATH)
    assert page.get_by_role("heading", level=1).inner_text() == _("You are booked")
    assert page.inner_text(".reference") == reference
    qr = page.evaluate(
        "() => { const img = document.getElementById('qr');"
        " return {complete: img.complete, width: img.naturalWidth}; }"
    )
    assert qr["complete"] and qr["width"] > 0, qr

    # The calendar entry: the link answers text/calendar, and the browser saves it.
    calendar = page.get_by_role("link", name=_("Add to calendar"))
    href = calendar.get_attribute("href")
    assert href is not None
    answer = page.context.request.get(site.url(href))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    with page.expect_download() as download:
        if run.keyboard:
            tab_to(page, "link", _("Add to calendar"))
            page.keyboard.press("Enter")
        else:
            calendar.click()
    assert download.value.suggested_filename == f"{reference}.ics"
    saved = tmp_path / "entry.ics"
    download.value.save_as(saved)
    assert saved.read_text().startswith("BEGIN:VCALENDAR")
    assert SHOW_TITLE in saved.read_text()

    # Booked once, confirmed once, and the ticket mail queued, in the booking's language.
    [confirmed] = _reservations(session, good_email)
    assert confirmed.status == ReservationStatus.CONFIRMED
    assert confirmed.language == run.reads
    mails = site.mails(reference)
    assert len(mails) == 2, [message["Subject"] for message in mails]
    ticket = mails[1]
    assert ticket["Subject"] == _("Your ticket %(reference)s: %(show)s") % {
        "reference": reference,
        "show": SHOW_TITLE,
    }
    assert _("your booking is confirmed. Show this ticket at the door:") in _text(ticket)
    assert site.link_in(ticket, "t")
    mail_tab = page.context.new_page()  # not watched: a webmail shows the QR code, by `cid:`
    mail_tab.set_content(_html(ticket))
    assert mail_tab.get_attribute("html", "lang") == run.reads
    assert english_left(mail_tab, run.reads) == []
    assert problems == [], problems
    assert problems_from_the_mail == [], problems_from_the_mail
