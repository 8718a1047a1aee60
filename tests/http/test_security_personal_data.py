"""No personal data in a QR code, a scan answer or a log line; no raw token in a log line
(docs/architecture.md, "The rules, in the code": tokens, and what a scan answer carries).

The visitor is tests/http/helpers.py's VISITOR, whose name, email, phone and notes are distinctive
enough to be searched for in anything the box office writes.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import zxingcpp
from sqlalchemy.exc import OperationalError

from azctl.models import Reservation
from azctl.services import booking, checkin, mail, outbox, tokens
from azctl.settings import reload_settings
from tests.e2e import conftest as e2e
from tests.http.helpers import (
    VISITOR,
    assert_page,
    assert_problem,
    booking_body,
    post_form,
    qr_text,
)
from tests.services.helpers import messages

PUBLIC = "https://tickets.example.org"
# tests/e2e's fixtures that serve the app under a real gunicorn, borrowed for one test below.
gunicorn_server, public_url, server_port = e2e.gunicorn_server, e2e.public_url, e2e.server_port
PERSONAL_KEYS = ("name", "email", "phone", "notes")


@pytest.fixture
def public(monkeypatch):
    monkeypatch.setenv("AZCTL_PUBLIC_URL", PUBLIC)
    reload_settings()
    return PUBLIC


def spellings(token: str) -> list[str]:
    return [token, token.lower()]


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The visitor's details and the raw tokens that `text` gives away."""
    lowered = text.lower()
    found = [value for value in VISITOR.values() if value.lower() in lowered]
    found += [secret for secret in secrets if secret.lower() in lowered]
    return found


def book_over_http(client, engine, performance) -> tuple[str, str, str]:
    """Books for VISITOR through the API: the reference and the two tokens the mail carries."""
    answer = client.simulate_post(
        f"/api/performances/{performance.id}/reservations",
        json=booking_body(phone=VISITOR["phone"], notes=VISITOR["notes"]),
    )
    assert answer.status_code == 202, answer.text
    [queued] = messages(engine, kind="confirmation")
    return answer.json["reference"], queued.context["confirm_token"], queued.context["cancel_token"]


# --- the QR code -----------------------------------------------------------------------------


def svg_qr_text(svg: bytes) -> str:
    """The text of the QR code in an SVG as segno writes it (one path of `M`, `m` and `h`
    strokes, one module high), drawn into pixels and read by zxing."""
    root = ET.fromstring(svg)
    assert {element.tag.split("}")[-1] for element in root.iter()} == {"svg", "path"}
    [path] = list(root)
    scale = float(re.fullmatch(r"scale\(([\d.]+)\)", path.get("transform") or "scale(1)")[1])
    size = round(float(root.get("width") or 0) / scale)
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in re.findall(
        r"([MmHh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")
    ):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + step, int(y)) for step in range(int(float(first))))
            x += float(first)
    pixel = 4
    grey = bytes(
        0 if (column // pixel, row // pixel) in dark else 255
        for row in range(size * pixel)
        for column in range(size * pixel)
    )
    [barcode] = zxingcpp.read_barcodes(memoryview(grey).cast("B", (size * pixel, size * pixel)))
    return barcode.text


def png_chunk_kinds(png: bytes) -> set[bytes]:
    kinds, position = set(), 8
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kinds.add(png[position + 4 : position + 8])
        position += 12 + length
    return kinds


def test_the_qr_code_as_png_and_svg_holds_the_ticket_url_and_nothing_else(
    public, client, engine, performance
):
    """Booked and confirmed over HTTP with every optional detail filled in: the PNG and the SVG
    both decode to exactly `{AZCTL_PUBLIC_URL}/t/{TOKEN}`, and neither file carries anything
    else (no text chunks in the PNG, no element but the one path in the SVG)."""
    _reference, confirm_token, _cancel = book_over_http(client, engine, performance)
    confirmed = client.simulate_post("/api/confirmations", json={"token": confirm_token})
    ticket_url = confirmed.json["ticket_url"]
    assert re.fullmatch(rf"{re.escape(PUBLIC)}/t/[0-9A-Z]{{32}}", ticket_url)
    path = urlsplit(ticket_url).path

    png = client.simulate_get(f"{path}.png")
    svg = client.simulate_get(f"{path}.svg")

    assert (png.status_code, svg.status_code) == (200, 200)
    assert qr_text(png.content) == ticket_url
    assert svg_qr_text(svg.content) == ticket_url
    assert png_chunk_kinds(png.content) <= {b"IHDR", b"PLTE", b"tRNS", b"pHYs", b"IDAT", b"IEND"}
    assert not leaks(svg.text, [])


# --- what a scan answers ---------------------------------------------------------------------


def _ok(ctx):
    return ctx.ticket(ctx.tonight).ticket_token, ctx.tonight


def _already(ctx):
    token, door = _ok(ctx)
    checkin.scan(ctx.session, text=token, performance_id=door.id)
    return token, door


def _unknown(ctx):
    return ctx.pending(ctx.tonight).confirm_token, ctx.tonight


def _not_confirmed(ctx):
    ticket = ctx.ticket(ctx.tonight)
    booking.cancel_reservation(ctx.session, reference=ticket.reservation.reference)
    return ticket.ticket_token, ctx.tonight


def _wrong_performance(ctx):
    return ctx.ticket(ctx.make(starts_in=timedelta(days=1))).ticket_token, ctx.tonight


def _outside(starts_in):
    def make(ctx):
        door = ctx.make(starts_in=starts_in)
        return ctx.ticket(door, at=door.starts_at - timedelta(hours=6)).ticket_token, door

    return make


def _performance_cancelled(ctx):
    token, door = _ok(ctx)
    booking.cancel_performance(ctx.session, performance_id=door.id)
    return token, door


def _not_inside(ctx):
    token, door = _ok(ctx)
    return token, door, "out"


SCENARIOS = {
    checkin.ScanResult.OK: _ok,
    checkin.ScanResult.ALREADY_CHECKED_IN: _already,
    checkin.ScanResult.UNKNOWN_TOKEN: _unknown,
    checkin.ScanResult.NOT_CONFIRMED: _not_confirmed,
    checkin.ScanResult.WRONG_PERFORMANCE: _wrong_performance,
    checkin.ScanResult.TOO_EARLY: _outside(timedelta(days=2)),
    checkin.ScanResult.TOO_LATE: _outside(timedelta(hours=-5)),
    checkin.ScanResult.PERFORMANCE_CANCELLED: _performance_cancelled,
    checkin.ScanResult.NOT_INSIDE: _not_inside,
}


def test_every_scan_result_has_a_scenario():
    assert set(SCENARIOS) == set(checkin.ScanResult)


class Door:
    """A scenario's own door tonight (each a minute apart), and the fixtures to set it up."""

    def __init__(self, number, session, make_performance, visitor_ticket, visitor_booking):
        self.session, self.make = session, make_performance
        self.ticket, self.pending = visitor_ticket, visitor_booking
        self.tonight = make_performance(capacity=10, starts_in=timedelta(hours=2, minutes=number))


def test_no_scan_answer_names_the_visitor(
    session, client, bearer, make_performance, visitor_ticket, visitor_booking, subtests
):
    """Whatever the result, neither the service's answer (what the TUI and CLI show) nor the
    HTTP answer carries the visitor's name, email, phone or notes, nor a raw token."""
    for number, (result, scenario) in enumerate(SCENARIOS.items()):
        with subtests.test(result=str(result)):
            token, door, *way = scenario(
                Door(number, session, make_performance, visitor_ticket, visitor_booking)
            )
            direction = way[0] if way else "in"

            outcome = checkin.scan(session, text=token, performance_id=door.id, direction=direction)
            answer = client.simulate_post(
                "/api/checkins",
                json={"token": token, "performance_id": door.id, "direction": direction},
                headers=bearer,
            )

            assert outcome.result is result
            said = json.dumps(outcome.as_dict()) + outcome.message + repr(outcome)
            assert not leaks(said, spellings(token))
            assert not set(outcome.as_dict()) & set(PERSONAL_KEYS)
            # The same result over HTTP (a second scan of an admitted ticket is a repeat).
            expected = "already_checked_in" if result is checkin.ScanResult.OK else result.value
            assert answer.json.get("result", answer.json.get("code")) == expected
            assert not leaks(answer.text, spellings(token))
            assert not set(answer.json) & set(PERSONAL_KEYS)


# --- the log ---------------------------------------------------------------------------------


@pytest.fixture
def every_log_line(caplog):
    """Everything logged by any logger at DEBUG, tracebacks included, as text lines.

    Loggers that set a level of their own (SQLAlchemy pins "sqlalchemy" at WARN) are opened up
    too, so SQLAlchemy's statement log is on. It goes to INFO, not DEBUG: at DEBUG SQLAlchemy
    dumps every result row, which is the data itself by design; at INFO it logs each statement
    with its parameters, which an operator switches on to see queries and which must not carry
    the visitor's details or a token.
    """
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")

    def lines() -> list[str]:
        found = []
        for record in caplog.records:
            found.append(f"{record.name} {record.levelname} {record.getMessage()}")
            if record.exc_info:
                found.extend("".join(traceback.format_exception(*record.exc_info)).splitlines())
        return found

    return lines


def assert_no_leak_in(lines: list[str], secrets: list[str]) -> None:
    leaked = [(line, leaks(line, secrets)) for line in lines if leaks(line, secrets)]
    assert not leaked, f"log lines that give away personal data or a token: {leaked[:3]}"


def test_the_whole_flow_logs_no_personal_data_and_no_token(
    every_log_line, public, client, engine, session, performance, staff_token, bearer, tmp_path
):
    """Book, look at the confirm page, confirm, look at the ticket and its QR code, scan (admitted,
    then again, then a wrong ticket), look at the cancel page, try to cancel, send the mail: with
    every logger at DEBUG, including SQLAlchemy's statement log, no line names the visitor or
    holds a raw token."""
    reference, confirm_token, cancel_token = book_over_http(client, engine, performance)
    assert_page(client.simulate_get(f"/confirm/{confirm_token}"), 200, "Confirm your booking")
    confirmed = post_form(client, f"/confirm/{confirm_token}")
    assert confirmed.status_code == 303
    ticket = tokens.parse_scanned(confirmed.headers["Location"])
    assert ticket is not None
    for suffix in ("", ".png", ".svg"):
        assert client.simulate_get(f"/t/{ticket}{suffix}").status_code == 200
    scans = [
        client.simulate_post(
            "/api/checkins", json={"token": text, "performance_id": performance.id}, headers=bearer
        ).status_code
        for text in (f"{PUBLIC}/t/{ticket}", ticket.lower(), cancel_token)
    ]
    assert scans == [201, 409, 404]
    assert client.simulate_get(f"/cancel/{cancel_token}").status_code == 409  # checked in
    assert_problem(
        client.simulate_post("/api/cancellations", json={"token": cancel_token}),
        409,
        "invalid_state",
    )
    report = outbox.send_due(
        session, transport=mail.FileTransport(tmp_path / "mail"), render=mail.render
    )
    assert report.sent == 2

    lines = every_log_line()
    # SQLAlchemy's statement log was on: the check below read what it wrote.
    assert any(reference in line or "INSERT INTO reservation" in line for line in lines)
    assert_no_leak_in(
        lines, [*spellings(confirm_token), *spellings(cancel_token), ticket, staff_token]
    )


def test_a_failure_on_a_link_page_logs_neither_the_token_nor_the_visitor(
    every_log_line, client, performance, visitor_ticket, visitor_booking, monkeypatch
):
    """An unforeseen error (500) and a lost database (503) are logged with the request's path:
    the token in a link's path must not go into the log with it."""
    ticket = visitor_ticket(performance).ticket_token
    confirm = visitor_booking(performance).confirm_token

    def broken(*_args, **_kwargs):
        raise RuntimeError("something broke")

    def lost(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(booking, "ticket", broken)
    monkeypatch.setattr(booking, "confirmation_preview", lost)
    assert client.simulate_get(f"/t/{ticket}").status_code == 500
    assert client.simulate_get(f"/confirm/{confirm}").status_code == 503

    lines = every_log_line()
    assert any("unexpected error on GET /t/" in line for line in lines)
    assert any("database unavailable on GET /confirm/" in line for line in lines)
    assert_no_leak_in(lines, [*spellings(ticket), *spellings(confirm)])


def test_a_database_error_while_booking_logs_no_personal_data(
    every_log_line, client, engine, performance, monkeypatch
):
    """Two bookings drawing the same reference at the same moment: the UNIQUE constraint refuses
    the second and the request ends in a logged 500. The error the database raised must be
    logged without the statement's parameters, which are the visitor's details."""
    submit = booking.submit_booking

    def racing(session, **fields):
        submitted = submit(session, **fields)
        session.add(
            Reservation(
                performance_id=fields["performance_id"],
                reference=submitted.reservation.reference,
                party_size=fields["party_size"],
                **{key: fields[key] for key in PERSONAL_KEYS},
            )
        )
        session.commit()
        return submitted

    monkeypatch.setattr(booking, "submit_booking", racing)
    answer = client.simulate_post(
        f"/api/performances/{performance.id}/reservations",
        json=booking_body(phone=VISITOR["phone"], notes=VISITOR["notes"]),
    )

    assert_problem(answer, 500, "internal_error")
    lines = every_log_line()
    assert any("IntegrityError" in line for line in lines)
    assert_no_leak_in(lines, [])


# --- a real gunicorn ---------------------------------------------------------------------------


def test_gunicorns_access_and_error_log_hold_no_token_and_no_personal_data(
    database_url, gunicorn_server, engine, performance, make_staff
):
    """The same flow against `gunicorn 'azctl.http.app:get_app()'` with its access log on: the
    request lines of the link pages are logged, but without the tokens in their paths."""
    _member, staff_token = make_staff()
    server = gunicorn_server()
    answer = server.request(
        "POST",
        f"/api/performances/{performance.id}/reservations",
        body=json.dumps(booking_body(phone=VISITOR["phone"], notes=VISITOR["notes"])).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 202, answer.text
    [context] = [m.context for m in messages(engine, kind="confirmation")]
    confirm_token, cancel_token = context["confirm_token"], context["cancel_token"]
    assert server.get(f"/confirm/{confirm_token}").status == 200
    assert server.get(f"/cancel/{cancel_token}").status == 200
    ticket_page = server.post_form(f"/confirm/{confirm_token}")
    assert ticket_page.status == 200
    [ticket] = [m.context["ticket_token"] for m in messages(engine, kind="ticket")]
    assert server.get(f"/t/{ticket}.png").status == 200
    scanned = server.request(
        "POST",
        "/api/checkins",
        body=json.dumps({"token": ticket, "performance_id": performance.id}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {staff_token}"},
    )
    assert scanned.status == 201
    server.stop()

    log = server.log()
    assert '"POST /api/checkins HTTP/1.1" 201' in log
    assert re.search(r'"GET /t/\S+\.png HTTP/1\.1" 200', log)
    secrets = [*spellings(confirm_token), *spellings(cancel_token), ticket, staff_token]
    assert_no_leak_in(log.splitlines(), secrets)
