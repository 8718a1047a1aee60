"""The visitor's pages the browser tests check, by name, and the site that serves them.

`PAGES` maps a name to a visit: how a visitor gets the page in front of them (a GET of a link,
or a form sent first). Every page in it is checked, in Italian and English, on a phone and a
desktop, light and dark, by tests/e2e/test_accessibility.py: no WCAG 2.1 A/AA violation (axe),
`<html lang>` right, no sideways scroll at 320 px. To check one more page, add one line:

    "season": lambda site, page: site.open(page, "/"),
    "show": lambda site, page: site.open(page, f"/shows/{site.show_slug}"),
    "book": lambda site, page: site.open(page, f"/book/{site.performance_id}"),

A visit is called once per browser context (eight times per page), so one that changes
something (confirms, cancels, sends a form) makes the booking it needs each time: `site.book()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import Page, Response
from sqlmodel import Session, col, select

from azctl.models import OutboxMessage, Performance, Reservation
from azctl.services import booking, mail, times

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

# The demo theatre's show, a few days ahead so every link of a booking made now is still open.
SHOW_SLUG = "la-locandiera"
STARTS_IN = timedelta(days=3)
CAPACITY = 500  # a test makes a few bookings per context; none should run out of seats


@dataclass(frozen=True)
class Booked:
    """A booking made for a test, with the raw tokens its mails carry."""

    reference: str
    confirm_token: str
    cancel_token: str
    ticket_token: str | None = None  # once confirmed


@dataclass
class Site:
    """A gunicorn server on a database with one published show and a performance on sale.

    Rate limits are off: a test opens the same kind of page many times in a row, and the
    limits are tests/http's and test_ratelimit_hosts.py's subject, not this one's.
    """

    server: LiveServer
    session: Session
    performance: Performance

    @classmethod
    def start(
        cls,
        session: Session,
        make_performance: Callable[..., Performance],
        gunicorn_server: Callable[..., LiveServer],
        **extra_env: str,
    ) -> Site:
        performance = make_performance(capacity=CAPACITY, starts_in=STARTS_IN, show_slug=SHOW_SLUG)
        server = gunicorn_server(extra_env={"AZCTL_RATE_LIMIT": "off", **extra_env})
        return cls(server=server, session=session, performance=performance)

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

    def mail_link(self, booked: Booked, kind: str = "confirm") -> str:
        """The `kind` link (confirm, cancel, t) in the text of the last mail queued for
        `booked`, as the visitor reads it: the mail rendered as the sender renders it."""
        self.session.rollback()  # see what the server has committed since
        messages = self.session.exec(
            select(OutboxMessage)
            .join_from(OutboxMessage, Reservation)
            .where(Reservation.reference == booked.reference)
            .order_by(col(OutboxMessage.id))
        ).all()
        assert messages, f"no mail queued for {booked.reference}"
        text = mail.render(messages[-1]).get_body(("plain",))
        assert text is not None
        link = rf"{re.escape(self.server.base_url)}/{kind}/[0-9A-Z]+"
        links = set(re.findall(link, text.get_content()))
        assert len(links) == 1, f"{kind} links in the mail: {links}"
        return links.pop()


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
    "confirm": lambda site, page: site.open(page, f"/confirm/{site.book().confirm_token}"),
    "ticket": lambda site, page: site.open(page, f"/t/{site.book(confirmed=True).ticket_token}"),
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
}
