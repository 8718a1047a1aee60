"""The visitor's pages the browser tests check, by name, and the site that serves them.

`PAGES` maps a name to a visit: how a visitor gets the page in front of them (a GET of a link,
or a form sent first). Every page in it is checked, in Italian and English, on a phone and a
desktop, light and dark, by tests/e2e/test_accessibility.py: no WCAG 2.1 A/AA violation (axe),
`<html lang>` right, no sideways scroll at 320 px. To check one more page, add one line:

    "waitlist": lambda site, page: site.open(page, f"/waitlist/{site.performance_id}"),

A visit is called four times (each language and screen), each time in a browser that has just
visited the pages before it in `PAGES`: it goes to its own page first, and one that changes
something (confirms, cancels, sends a form) makes the booking it needs each time: `site.book()`.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from playwright.sync_api import Page, Response
from sqlmodel import Session, col, select

from azctl.models import OutboxMessage, Performance, Reservation
from azctl.services import booking, catalog, mail, posters, times, waitlist

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

# The demo theatre's show, a few days ahead so every link of a booking made now is still open.
SHOW_SLUG = "la-locandiera"
SHOW_TITLE = "La Locandiera"
SHOW_SUMMARY = "Mirandolina runs an inn in Florence, and every guest falls for her."
SHOW_DESCRIPTION = (
    "The Marquis has only his title, the Count only his money, and the Knight swears he"
    " despises women.\n\n"
    "Carlo Goldoni's comedy of 1753, in a new staging with live music."
)
STARTS_IN = timedelta(days=3)
CAPACITY = 500  # a test makes a few bookings per context; none should run out of seats
# The theatre's own site and privacy notice, which every page links to (the booking form's
# consent links to the notice). Nothing is served there: no test follows them.
THEATRE_URL = "https://teatro.example.org/"
PRIVACY_URL = "https://teatro.example.org/privacy"
# A second show whose one performance has no seat left: its page has no Book link.
SOLD_OUT_SLUG = "il-servitore-di-due-padroni"
SOLD_OUT_CAPACITY = 40
_JOINERS = itertools.count(1)  # each party that joins the sold-out list has an address of its own


def poster_png() -> bytes:
    """A small plain poster (a PNG, as a designer hands one over), so the show's page and the
    season show an image, with its text alternative, as they do for a real show."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 424), (110, 12, 30))
    ImageDraw.Draw(image).ellipse((60, 80, 240, 260), fill=(236, 200, 120))
    data = io.BytesIO()
    image.save(data, format="PNG")
    return data.getvalue()


@dataclass(frozen=True)
class Booked:
    """A booking made for a test, with the raw tokens its mails carry."""

    reference: str
    confirm_token: str
    cancel_token: str
    ticket_token: str | None = None  # once confirmed


@dataclass
class Site:
    """A gunicorn server on a database with a published show (summary, description, poster)
    and a performance on sale, and a second show whose only performance is sold out; the
    theatre has a website and a privacy notice.

    Rate limits are off: a test opens the same kind of page many times in a row, and the
    limits are tests/http's and test_ratelimit_hosts.py's subject, not this one's.
    """

    server: LiveServer
    session: Session
    performance: Performance
    sold_out_id: int = 0

    @classmethod
    def start(
        cls,
        session: Session,
        make_performance: Callable[..., Performance],
        gunicorn_server: Callable[..., LiveServer],
        **extra_env: str,
    ) -> Site:
        performance = make_performance(capacity=CAPACITY, starts_in=STARTS_IN, show_slug=SHOW_SLUG)
        catalog.edit_show(
            session,
            slug=SHOW_SLUG,
            title=SHOW_TITLE,
            summary=SHOW_SUMMARY,
            description=SHOW_DESCRIPTION,
            poster=posters.from_bytes(poster_png(), name="the test poster"),
        )
        sold_out = make_performance(
            capacity=SOLD_OUT_CAPACITY,
            manual=SOLD_OUT_CAPACITY,
            starts_in=STARTS_IN + timedelta(days=1),
            show_slug=SOLD_OUT_SLUG,
        )
        server = gunicorn_server(
            extra_env={
                "AZCTL_RATE_LIMIT": "off",
                "AZCTL_THEATRE_URL": THEATRE_URL,
                "AZCTL_PRIVACY_URL": PRIVACY_URL,
                **extra_env,
            }
        )
        assert sold_out.id is not None
        return cls(server=server, session=session, performance=performance, sold_out_id=sold_out.id)

    def join_waitlist(self) -> str:
        """A party (a new one each time) waits for the sold-out performance: its leave token."""
        joined = waitlist.join(
            self.session,
            performance_id=self.sold_out_id,
            name="Giulia Bianchi",
            email=f"giulia.{next(_JOINERS)}@example.org",
            party_size=2,
        )
        return joined.leave_token

    @property
    def performance_id(self) -> int:
        assert self.performance.id is not None
        return self.performance.id

    @property
    def show_slug(self) -> str:
        return SHOW_SLUG

    def url(self, path: str) -> str:
        return self.server.url(path)

    def open(self, page: Page, path: str, *, status: int = 200) -> Response:
        """Go to `path` on this server; the answer must have `status`."""
        answer = page.goto(self.url(path))
        assert answer is not None, path
        assert answer.status == status, f"{path}: {answer.status}, not {status}"
        return answer

    def book(
        self,
        *,
        party_size: int = 2,
        name: str = "Giulia Bianchi",
        confirmed: bool = False,
        made_ago: timedelta = timedelta(0),
        **fields: str,
    ) -> Booked:
        """A booking as a visitor's form makes it (pending), confirmed if asked; `made_ago`
        dates it in the past (its confirm link expires after AZCTL_CONFIRM_TTL)."""
        submitted = booking.submit_booking(
            self.session,
            performance_id=self.performance_id,
            name=name,
            email=name.lower().replace(" ", ".") + "@example.org",
            party_size=party_size,
            now=times.now_utc() - made_ago,
            **fields,
        )
        ticket_token = None
        if confirmed:
            ticket_token = booking.confirm_booking(
                self.session, token=submitted.confirm_token
            ).ticket_token
        return Booked(
            reference=submitted.reservation.reference,
            confirm_token=submitted.confirm_token,
            cancel_token=submitted.cancel_token,
            ticket_token=ticket_token,
        )

    def mails(self, reference: str) -> list[EmailMessage]:
        """Every mail queued for the booking `reference`, oldest first, as the visitor reads
        them: rendered as the sender renders them, in the language the row names."""
        self.session.rollback()  # see what the server has committed since
        messages = self.session.exec(
            select(OutboxMessage)
            .join_from(OutboxMessage, Reservation)
            .where(Reservation.reference == reference)
            .order_by(col(OutboxMessage.id))
        ).all()
        return [mail.render(message) for message in messages]

    def link_in(self, email: EmailMessage, kind: str = "confirm") -> str:
        """The one `kind` link (confirm, cancel, t) to this server in the text of `email`."""
        text = email.get_body(("plain",))
        assert text is not None
        link = rf"{re.escape(self.server.base_url)}/{kind}/[0-9A-Z]+"
        links = set(re.findall(link, text.get_content()))
        assert len(links) == 1, f"{kind} links in the mail: {links}"
        return links.pop()

    def mail_link(self, booked: Booked, kind: str = "confirm") -> str:
        """The `kind` link (confirm, cancel, t) in the text of the last mail queued for
        `booked`, as the visitor reads it: the mail rendered as the sender renders it."""
        mails = self.mails(booked.reference)
        assert mails, f"no mail queued for {booked.reference}"
        return self.link_in(mails[-1], kind)


def send_booking_form(
    site: Site, page: Page, *, email: str, consent: bool, status: int = 200
) -> Response:
    """Opens the booking form, fills it by its fields' ids and sends it; the answer (after the
    redirect of a booking made) must have `status`.

    The browser's own checks (`required`, `type=email`) are turned off first, as an older
    browser has none: the server's refusal is what is shown.
    """
    site.open(page, f"/book/{site.performance_id}")
    page.fill("#name", "Giulia Bianchi")
    page.fill("#email", email)
    page.fill("#party_size", "2")
    page.fill("#notes", "A cushion, please")
    if consent:
        page.check("#consent")
    page.locator("form.booking").evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation() as navigation:
        page.click("#book")
    answer = navigation.value
    assert answer is not None and answer.status == status, answer and answer.status
    return answer


def _cancelled(site: Site, page: Page) -> None:
    """The answer to the cancel page's form: the booking is cancelled."""
    site.open(page, f"/cancel/{site.book(confirmed=True).cancel_token}")
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


def _spent_link(site: Site, page: Page) -> None:
    """A confirm link of a booking cancelled since: the "already used" problem page."""
    booked = site.book()
    booking.cancel_by_token(site.session, token=booked.cancel_token)
    site.open(page, f"/confirm/{booked.confirm_token}", status=409)


Visit = Callable[[Site, Page], object]

PAGES: dict[str, Visit] = {
    "season": lambda site, page: site.open(page, "/"),
    "show": lambda site, page: site.open(page, f"/shows/{site.show_slug}"),
    "show_sold_out": lambda site, page: site.open(page, f"/shows/{SOLD_OUT_SLUG}"),
    "book": lambda site, page: site.open(page, f"/book/{site.performance_id}"),
    "book_refused": lambda site, page: send_booking_form(
        site, page, email="giulia@example", consent=False, status=422
    ),
    "booked": lambda site, page: send_booking_form(
        site, page, email="giulia@example.org", consent=True
    ),
    "confirm": lambda site, page: site.open(page, f"/confirm/{site.book().confirm_token}"),
    "ticket": lambda site, page: site.open(page, f"/t/{site.book(confirmed=True).ticket_token}"),
    "ticket_cancel": lambda site, page: site.open(
        page, f"/t/{site.book(confirmed=True).ticket_token}/cancel"
    ),
    "cancel": lambda site, page: site.open(page, f"/cancel/{site.book().cancel_token}"),
    "cancelled": _cancelled,
    "already_confirmed": lambda site, page: site.open(
        page, f"/confirm/{site.book(confirmed=True).confirm_token}", status=409
    ),
    "link_used": _spent_link,
    "link_expired": lambda site, page: site.open(
        page, f"/confirm/{site.book(made_ago=timedelta(hours=25)).confirm_token}", status=410
    ),
    "link_invalid": lambda site, page: site.open(page, "/confirm/NOT-A-TOKEN", status=404),
    "not_found": lambda site, page: site.open(page, "/no/such/page", status=404),
    "waitlist": lambda site, page: site.open(page, f"/waitlist/{site.sold_out_id}"),
    "leave": lambda site, page: site.open(page, f"/leave/{site.join_waitlist()}"),
}
