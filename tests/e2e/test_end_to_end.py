"""The whole visitor path over real sockets: gunicorn serving the app, an SMTP server receiving
the mail, the mail sender run as its own process, and the QR code read by a real decoder."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage

import zxingcpp
from PIL import Image
from sqlmodel import Session, select

from azctl.models import Reservation, ReservationStatus, ScanLog
from azctl.services import staff
from tests.e2e.conftest import LiveServer
from tests.smtp_peer import SMTPPeer

JSON = {"content-type": "application/json"}


def _send_mail(server: LiveServer) -> None:
    """`azctl mail send` as cron or an operator would run it: a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "azctl", "mail", "send"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def _html_and_text(message: EmailMessage) -> tuple[str, str]:
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content()


def _status(session: Session, reference: str) -> str:
    """What the server has committed, read in a fresh transaction."""
    session.rollback()
    [reservation] = session.exec(select(Reservation).where(Reservation.reference == reference))
    return reservation.status


def _inline_qr(message: EmailMessage, html: str) -> bytes:
    """The PNG the HTML part shows through `cid:`: inline, not just attached."""
    [cid] = re.findall(r'src="cid:([^"]+)"', html)
    [part] = [
        part
        for part in message.walk()
        if part.get_content_type() == "image/png" and part["Content-ID"] == f"<{cid}>"
    ]
    return part.get_content()


def test_book_mail_confirm_ticket_and_scan_over_real_sockets(
    database_url: str,
    session: Session,
    make_performance: Callable[..., object],
    gunicorn_server: Callable[..., LiveServer],
    public_url: str,
) -> None:
    performance = make_performance(capacity=10)
    _member, staff_token = staff.add_staff(session, username="anna", role="box_office")
    with SMTPPeer() as peer:
        server = gunicorn_server(
            extra_env={"AZCTL_SMTP_URL": peer.url, "AZCTL_RATE_LIMIT": "off"}, workers=2
        )

        booked = server.request(
            "POST",
            f"/api/performances/{performance.id}/reservations",
            body=json.dumps(
                {"name": "Ada Lovelace", "email": "ada@example.org", "party_size": 2}
            ).encode(),
            headers=JSON,
        )
        assert booked.status == 202, booked.text
        reference = json.loads(booked.body)["reference"]

        _send_mail(server)
        [confirmation] = peer.wait_for(1)
        assert confirmation["To"] == "ada@example.org"
        html, text = _html_and_text(confirmation)
        [confirm_link] = set(re.findall(rf"{re.escape(public_url)}/confirm/[0-9A-Z]+", text))
        assert confirm_link in html
        assert re.search(rf"{re.escape(public_url)}/cancel/[0-9A-Z]+", text)

        path = confirm_link.removeprefix(public_url)
        page = server.get(path)
        assert page.status == 200
        assert reference in page.text and 'id="confirm"' in page.text
        # Following the link (a mail scanner does) confirmed nothing.
        assert _status(session, reference) == ReservationStatus.PENDING

        ticket_page = server.post_form(path)  # the Confirm button; 303 to the ticket
        assert ticket_page.status == 200
        assert reference in ticket_page.text and 'id="qr"' in ticket_page.text

        _send_mail(server)
        [_confirmation, ticket] = peer.wait_for(2)
        assert reference in str(ticket["Subject"])
        html, text = _html_and_text(ticket)
        [ticket_url] = set(re.findall(rf"{re.escape(public_url)}/t/[0-9A-Z]+", text))
        assert ticket_url in html
        calendars = [p for p in ticket.walk() if p.get_content_type() == "text/calendar"]
        assert len(calendars) == 1 and f"URL:{ticket_url}" in calendars[0].get_content()

        [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(_inline_qr(ticket, html))))
        assert decoded.format == zxingcpp.BarcodeFormat.QRCode
        # The code holds the ticket URL and nothing else: no name, email or party size.
        assert decoded.text == ticket_url
        assert re.fullmatch(rf"{re.escape(public_url)}/t/[0-9A-Z]{{32}}", decoded.text)

        scan = json.dumps({"token": decoded.text, "performance_id": performance.id}).encode()
        staff_headers = {**JSON, "Authorization": f"Bearer {staff_token}"}
        admitted = server.request("POST", "/api/checkins", body=scan, headers=staff_headers)
        assert admitted.status == 201, admitted.text
        answer = json.loads(admitted.body)
        assert (answer["result"], answer["reference"], answer["party_size"]) == ("ok", reference, 2)
        assert "Ada" not in admitted.text and "ada@example.org" not in admitted.text

        again = server.request("POST", "/api/checkins", body=scan, headers=staff_headers)
        assert again.status == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert json.loads(again.body)["code"] == "already_checked_in"

        anonymous = server.request("POST", "/api/checkins", body=scan, headers=JSON)
        assert anonymous.status == 401
        assert json.loads(anonymous.body)["code"] == "unauthorized"

    assert _status(session, reference) == ReservationStatus.CONFIRMED
    session.rollback()
    assert sorted(log.result for log in session.exec(select(ScanLog))) == [
        "already_checked_in",
        "ok",
    ]
