"""Turning outbox rows into email, and the two ways of delivering it: files or SMTP."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from azctl.models import OutboxMessage
from azctl.services import tickets, times
from azctl.services.outbox import Transport
from azctl.settings import get_settings


def _when(context: dict[str, object]) -> str:
    return str(context.get("when", ""))


def _body(message: OutboxMessage) -> str:
    context = message.context
    kind = message.kind
    greeting = f"Hello {context.get('name', '')},\n\n"
    booking = (
        f"{context.get('show_title')} at {context.get('venue_name')}, {_when(context)}\n"
        f"Seats: {context.get('party_size')}   Reference: {context.get('reference')}\n\n"
    )
    if kind == "confirmation":
        return (
            f"{greeting}thank you for booking. Your seats are held only once you confirm:\n\n"
            f"{booking}"
            f"Confirm: {tickets.confirm_url(str(context['confirm_token']))}\n"
            f"This link works until {context.get('confirm_by')}.\n\n"
            f"Changed your mind? Cancel: {tickets.cancel_url(str(context['cancel_token']))}\n"
        )
    if kind == "ticket":
        return (
            f"{greeting}your booking is confirmed. Show this ticket at the door:\n\n"
            f"{booking}"
            f"Ticket: {tickets.ticket_url(str(context['ticket_token']))}\n\n"
            "The QR code is attached; a printout or a phone screen both work.\n"
        )
    if kind == "cancelled":
        return f"{greeting}your booking has been cancelled:\n\n{booking}"
    if kind == "performance_cancelled":
        return (
            f"{greeting}we are sorry: this performance has been cancelled,"
            f" and your booking with it.\n\n{booking}"
        )
    return "This is a test message from azctl. If you can read it, mail works.\n"


def render(message: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, built at send time from the row's context."""
    settings = get_settings()
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(times.now_utc())
    email["Message-ID"] = make_msgid(idstring=f"azctl-{message.id}")
    email.set_content(_body(message))
    context = message.context
    if message.kind == "ticket":
        token = str(context["ticket_token"])
        email.add_attachment(
            tickets.qr_png(token), maintype="image", subtype="png", filename="ticket-qr.png"
        )
        email.add_attachment(
            tickets.ics_event(
                uid=f"{context.get('reference')}@azctl",
                title=str(context.get("show_title", "")),
                location=str(context.get("venue_name", "")),
                starts_at=times.parse_iso(str(context["starts_at"])),
                url=tickets.ticket_url(token),
            ),
            maintype="text",
            subtype="calendar",
            filename="performance.ics",
        )
    return email


class FileTransport:
    """Writes each message as an `.eml` file: the embedded default, and a mailbox for tests."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").replace("/", "_").replace("@", "_at_")
        final = self.directory / f"{name}.eml"
        draft = self.directory / f".{name}.tmp"
        draft.write_bytes(bytes(message))
        os.replace(draft, final)


class SMTPTransport:
    """SMTP from a URL: `smtp://` (STARTTLS when `?starttls=1`), `smtps://`, with user:password."""

    def __init__(self, url: str, *, timeout: float = 20) -> None:
        parts = urlsplit(url)  # checked by Settings: smtp:// or smtps:// with a host
        assert parts.hostname is not None
        self.implicit_tls = parts.scheme == "smtps"
        self.starttls = "starttls=1" in parts.query or "starttls=true" in parts.query
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


def transport_from_settings() -> Transport:
    settings = get_settings()
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url)
    return FileTransport(settings.effective_mail_dir)
