"""Mail as visitors get it: text and HTML parts, links, the inline QR code and the calendar entry,
delivered over real SMTP (plain, STARTTLS, SMTPS, with a login) to a peer on 127.0.0.1, and
retried with backoff when the server refuses."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest

from azctl.models import OutboxMessage
from azctl.services import booking, mail, outbox, tickets, times
from tests.services.helpers import fresh, messages

SENDER = ("box@office", "s:cret")


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The two alternatives of a mail, which every kind has."""
    alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # Plain first and HTML last, the order of preference (RFC 2046); the ticket's HTML is wrapped
    # in multipart/related with its QR code.
    assert [p.get_content_type() for p in alternative.iter_parts()] in (
        ["text/plain", "text/html"],
        ["text/plain", "multipart/related"],
    )
    return plain.get_content(), html.get_content()


def inline_qr(message: EmailMessage) -> bytes:
    """The PNG that the HTML part shows by `cid:`, from the multipart/related around it."""
    _text, html = text_and_html(message)
    [cid] = re.findall(r'<img src="cid:([^"]+)"', html)
    related = message.get_body(("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    [image] = [p for p in related.iter_parts() if p["Content-ID"] == f"<{cid}>"]
    assert image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"
    return image.get_content()


def calendar(message: EmailMessage) -> str:
    [ics] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ics.get_filename() == "performance.ics"
    return ics.get_content()


def check_booking_mails(
    received: list[EmailMessage],
    submitted: booking.SubmittedBooking,
    confirmed: booking.ConfirmedBooking,
) -> None:
    """The confirmation mail with its confirm and cancel links, the ticket mail with its link,
    inline QR code and calendar entry: each once, to the visitor."""
    reference = submitted.reservation.reference
    by_subject = {str(message["Subject"]): message for message in received}
    assert len(by_subject) == len(received) == 2
    confirmation = by_subject[f"Please confirm your booking {reference}: Open Show"]
    ticket = by_subject[f"Your ticket {reference}: Open Show"]
    for message in received:
        assert message["To"] == submitted.reservation.email
        assert message["From"] == "Box office <boxoffice@localhost>"

    text, html = text_and_html(confirmation)
    for link in (
        tickets.confirm_url(submitted.confirm_token),
        tickets.cancel_url(submitted.cancel_token),
    ):
        assert link in text
        assert f'href="{link}"' in html
    assert reference in text and reference in html

    text, html = text_and_html(ticket)
    link = tickets.ticket_url(confirmed.ticket_token)
    assert link in text
    assert f'href="{link}"' in html
    assert inline_qr(ticket) == tickets.qr_png(confirmed.ticket_token)
    event = calendar(ticket)
    assert "BEGIN:VEVENT" in event
    assert f"URL:{link}" in event


def assert_scrubbed(engine) -> None:
    for message in messages(engine):
        assert message.status == "sent"
        assert all(message.context.get(key) is None for key in outbox.SECRET_KEYS)


# --- what a mail holds -----------------------------------------------------------------------


def test_every_kind_has_a_text_and_an_html_part(session, engine, make_performance, confirmed):
    performance = make_performance(capacity=10)
    kept = confirmed(performance, 2)
    dropped = confirmed(performance, 1)
    booking.cancel_reservation(session, reference=dropped.reservation.reference)
    booking.cancel_performance(session, performance_id=performance.id)
    outbox.queue_test_message(session, to_address="me@example.org")
    kinds = {}
    for message in messages(engine):
        email = mail.render(message)
        assert email["To"] == message.to_address
        assert email["Subject"] == message.subject
        text, html = text_and_html(email)
        assert html.startswith("<!doctype html>")
        assert f"<title>{message.subject}</title>" in html
        kinds[message.kind] = (text, html)
    assert sorted(kinds) == [
        "cancelled",
        "confirmation",
        "performance_cancelled",
        "test",
        "ticket",
    ]
    # The test mail signs with the theatre's name, as every mail does.
    assert kinds["test"][0] == (
        "This is a test message from azctl. If you can read it, mail works.\n\n-- \nBox office\n"
    )
    assert "mail works" in kinds["test"][1]
    text, html = kinds["performance_cancelled"]
    assert "this performance has been cancelled" in text
    assert "this performance has been cancelled" in html
    assert kept.reservation.reference in text


def test_the_html_part_escapes_what_visitors_typed(session, engine, make_performance, book):
    submitted = book(
        make_performance(capacity=10),
        2,
        name='<script>alert("hi")</script> & Co',
        email="mallory@example.org",
    )
    booking.confirm_booking(session, token=submitted.confirm_token)
    for message in messages(engine):
        text, html = text_and_html(mail.render(message))
        assert 'Hello <script>alert("hi")</script> & Co,' in text
        assert "<script" not in html
        assert "Hello &lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; Co," in html


def test_the_ticket_mail_shows_its_qr_code_inline_and_attaches_the_event(
    session, engine, make_performance, book
):
    submitted = book(make_performance(capacity=10), 3, name="Giulia Bianchi")
    result = booking.confirm_booking(session, token=submitted.confirm_token)
    [ticket] = messages(engine, kind="ticket")
    email = mail.render(ticket)
    assert email.get_content_type() == "multipart/mixed"
    assert inline_qr(email) == tickets.qr_png(result.ticket_token)
    event = calendar(email)
    assert "SUMMARY:Open Show" in event
    assert "Giulia" not in event
    text, html = text_and_html(email)
    assert tickets.ticket_url(result.ticket_token) in text
    assert "Giulia Bianchi" in html


# --- over SMTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["plain", "starttls", "smtps"])
def test_mail_goes_out_over_smtp_with_a_login(
    session, engine, make_performance, book, smtp_peer, security
):
    peer = smtp_peer(security=security, login=SENDER)
    submitted = book(make_performance(capacity=10), 2, email="giulia@example.org")
    result = booking.confirm_booking(session, token=submitted.confirm_token)

    report = outbox.send_due(
        session, transport=mail.SMTPTransport(peer.url, timeout=5), render=mail.render
    )

    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    check_booking_mails(peer.wait_for(2), submitted, result)
    assert_scrubbed(engine)
    again = outbox.send_due(
        session, transport=mail.SMTPTransport(peer.url, timeout=5), render=mail.render
    )
    assert again.sent == 0
    assert len(peer.messages) == 2


def test_a_wrong_password_is_retried_with_backoff(
    session, engine, make_performance, book, smtp_peer
):
    peer = smtp_peer(login=SENDER)
    submitted = book(make_performance(capacity=10), 2)
    start = times.now_utc()
    wrong = mail.SMTPTransport(peer.url_with(user=SENDER[0], password="guess"), timeout=5)

    report = outbox.send_due(session, transport=wrong, render=mail.render, now=start)

    assert (report.sent, report.retrying) == (0, 1)
    [message] = messages(engine)
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.last_error.startswith("SMTPAuthenticationError: (535")
    assert message.next_attempt_at == start + timedelta(seconds=30)
    assert message.context["confirm_token"] == submitted.confirm_token
    assert peer.messages == []

    right = mail.SMTPTransport(peer.url, timeout=5)
    early = outbox.send_due(session, transport=right, render=mail.render, now=start)
    assert early.sent == 0
    later = start + timedelta(seconds=30)
    assert outbox.send_due(session, transport=right, render=mail.render, now=later).sent == 1
    [received] = peer.wait_for(1)
    assert received["To"] == submitted.reservation.email
    assert tickets.confirm_url(submitted.confirm_token) in text_and_html(received)[0]
    stored = fresh(engine, OutboxMessage, message.id)
    assert (stored.status, stored.attempts, stored.context["confirm_token"]) == ("sent", 2, None)


@pytest.mark.parametrize(
    "refusal", ["451 4.3.0 Try again later", "550 5.7.1 Not accepted from this sender"]
)
def test_a_refusing_server_is_tried_again_later(
    session, engine, make_performance, book, smtp_peer, refusal
):
    peer = smtp_peer(refuse=refusal)
    submitted = book(make_performance(capacity=10), 2)
    transport = mail.SMTPTransport(peer.url, timeout=5)
    start = times.now_utc()

    report = outbox.send_due(session, transport=transport, render=mail.render, now=start)

    assert (report.sent, report.retrying) == (0, 1)
    [message] = messages(engine)
    assert message.status == "queued"
    code, _space, reason = refusal.partition(" ")
    assert message.last_error.startswith(f"SMTPDataError: ({code}")
    assert reason in message.last_error
    assert message.context["cancel_token"] == submitted.cancel_token

    peer.refuse = None
    later = start + outbox.backoff(1)
    assert outbox.send_due(session, transport=transport, render=mail.render, now=later).sent == 1
    [received] = peer.wait_for(1)
    assert tickets.cancel_url(submitted.cancel_token) in text_and_html(received)[0]
    assert_scrubbed(engine)
