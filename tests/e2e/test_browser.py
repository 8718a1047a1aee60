"""A visitor's browser: headless Chromium (Debian's) on the confirm page of a real gunicorn server,
presses Confirm and lands on the ticket page with its QR code loaded, on whatever port it is
served (docs/architecture.md, "Links and redirects")."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from playwright.sync_api import BrowserContext
from sqlmodel import Session

from azctl.models import Performance, ReservationStatus
from azctl.services import booking, reservations, tokens
from azctl.settings import Settings, get_settings
from tests.e2e.browser import watch_for_problems

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TICKET_PATH = re.compile(rf"/t/[{tokens.ALPHABET}]{{{tokens.TOKEN_LENGTH}}}$")
# The QR image as the browser decoded it: one grey byte per pixel, read back through a canvas.
READ_QR_PIXELS = """() => {
    const img = document.getElementById('qr');
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const grey = [];
    for (let index = 0; index < rgba.length; index += 4) grey.push(rgba[index]);
    return {width: canvas.width, height: canvas.height, grey};
}"""


def _qr_text(pixels: dict) -> str:
    grey = memoryview(bytes(pixels["grey"])).cast("B", (pixels["height"], pixels["width"]))
    [barcode] = zxingcpp.read_barcodes(grey)
    return barcode.text


def _status(session: Session, reference: str) -> ReservationStatus:
    session.rollback()  # a fresh snapshot, to see what the server has committed since
    return reservations.get_reservation(session, reference=reference).status


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("links_to", ["this_server", "the_default_port_8000"])
def test_confirm_in_a_browser_lands_on_the_ticket_with_its_qr_code(
    browser_context: Callable[..., BrowserContext],
    session: Session,
    make_performance: Callable[..., Performance],
    book: Callable[..., booking.SubmittedBooking],
    gunicorn_server: Callable[..., LiveServer],
    tmp_path: Path,
    links_to: str,
):
    """Served on a port of its own, with AZCTL_PUBLIC_URL its address or left at the default
    (port 8000, where nothing answers): Confirm lands on the ticket on the server the browser
    used either way, while the QR code holds the public URL."""
    performance = make_performance(capacity=20)
    submitted = book(performance, party_size=3, name="Ada <b>Lovelace</b>")
    reference = submitted.reservation.reference
    if links_to == "this_server":
        server = gunicorn_server()
        public_url = server.base_url
    else:
        public_url = Settings.model_fields["public_url"].default
        server = gunicorn_server(extra_env={"AZCTL_PUBLIC_URL": public_url})
        assert server.port != 8000

    page = browser_context().new_page()
    problems = watch_for_problems(page)

    opened = page.goto(server.url(f"/confirm/{submitted.confirm_token}"))
    assert opened is not None and opened.status == 200
    assert page.title() == f"Confirm your booking {reference} · {get_settings().theatre_name}"
    assert "Ada <b>Lovelace</b>" in page.inner_text("body")  # shown as text, escaped
    # Showing the page confirms nothing (a mail scanner's GET must not).
    assert _status(session, reference) == ReservationStatus.PENDING

    with page.expect_navigation(url=TICKET_PATH):
        page.click("#confirm")
    assert page.url.startswith(f"{server.base_url}/t/")
    ticket_token = page.url.rpartition("/t/")[2]

    qr = page.locator("img#qr")
    qr.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('qr').complete")
    loaded = page.evaluate(
        "() => { const img = document.getElementById('qr');"
        " return {complete: img.complete, width: img.naturalWidth}; }"
    )
    assert loaded["complete"] and loaded["width"] > 0, loaded
    assert _qr_text(page.evaluate(READ_QR_PIXELS)) == f"{public_url}/t/{ticket_token}"
    assert page.inner_text(".reference") == reference
    assert reference in page.title()

    screenshot = tmp_path / "ticket.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert problems == [], problems  # no CSP refusal, no failed request, no script error
    image = screenshot.read_bytes()
    assert image.startswith(PNG_MAGIC) and len(image) > 1000
    assert _status(session, reference) == ReservationStatus.CONFIRMED
    confirmed = reservations.get_reservation(session, reference=reference)
    assert confirmed.confirmed_at is not None and confirmed.qr_code_generated_at is not None
    assert booking.ticket(session, token=ticket_token).reservation.reference == reference
    assert '"POST /confirm/[token] HTTP/1.1" 303' in server.log()  # the token itself is not logged
    assert submitted.confirm_token not in server.log()
