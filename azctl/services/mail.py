"""Turning outbox rows into email in the booking's language, and the two ways of delivering it:
files or SMTP."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from azctl.models import OutboxMessage
from azctl.services import i18n, outbox, tickets, times
from azctl.services.outbox import Transport
from azctl.settings import get_settings

_LOADER = jinja2.PackageLoader("azctl.services", "templates")
_LINKS = (
    ("confirm_token", "confirm_url", tickets.confirm_url),
    ("cancel_token", "cancel_url", tickets.cancel_url),
    ("ticket_token", "ticket_url", tickets.ticket_url),
    ("offer_token", "offer_url", tickets.offer_url),
    ("leave_token", "leave_url", tickets.leave_url),
)
# The kinds that carry a ticket: its QR code inline and the performance as a calendar event.
TICKET_KINDS = frozenset({"ticket", "reminder", "performance_moved"})


@lru_cache(maxsize=16)
def templates(language: str) -> jinja2.Environment:
    """The mail templates written in `language`: one environment per language, made once.

    `{% trans %}` blocks are trimmed as `pybabel extract` trims them (babel.cfg), so a block
    laid over several lines finds its catalog entry.
    """
    env = i18n.environment(
        _LOADER,
        language,
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    return env


def language_of(message: OutboxMessage) -> str:
    """The language a row is written in: the one its context names (the booking's, at queue
    time), else, for rows queued before mails knew languages, the theatre's default."""
    return i18n.for_reservation(message.context.get("language"))


def _theatre() -> dict[str, str | None]:
    settings = get_settings()
    return {
        "name": settings.theatre_name,
        "url": settings.theatre_url,
        "privacy_url": settings.privacy_url,
    }


def _template_context(message: OutboxMessage, language: str) -> dict[str, Any]:
    """The row's context, the links made from its raw tokens, the subject (the page title), the
    theatre, and its times written in `language`.

    Times are ISO values in the context (`starts_at`, `confirm_by_at`); a row queued before they
    were keeps the `confirm_by` it was queued with.
    """
    context: dict[str, Any] = {
        **message.context,
        "subject": message.subject,
        "language": language,
        "theatre": _theatre(),
    }
    for token_key, url_key, url in _LINKS:
        if message.context.get(token_key):
            context[url_key] = url(str(message.context[token_key]))
    for iso_key, shown_key in (
        ("starts_at", "when"),
        ("confirm_by_at", "confirm_by"),
        ("previous_starts_at", "previous_when"),
        ("offer_until_at", "offer_until"),
    ):
        if message.context.get(iso_key):
            context[shown_key] = i18n.format_when(
                times.parse_iso(str(message.context[iso_key])), language
            )
    return context


def _sender_domain() -> str | None:
    """The domain of AZCTL_MAIL_FROM, for Message-IDs and Content-IDs (None: this host's name)."""
    return parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or None


def render(message: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, built at send time from the row's context, in the language
    the context names (the booking's).

    A text part and an HTML part (multipart/alternative) from the templates `<kind>.txt` and
    `<kind>.html`; a mail that carries a ticket (`TICKET_KINDS`: the ticket, the reminder, the
    notice of a moved performance) shows the QR code inline in its HTML (multipart/related, by
    `cid:`) and carries the `.ics` event as an attachment.
    """
    settings = get_settings()
    domain = _sender_domain()
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(times.now_utc())
    # The same for every try of one message, so a mailbox drops the copy a retry may deliver.
    created = f"{message.created_at:%Y%m%d%H%M%S%f}"
    email["Message-ID"] = f"<azctl.{message.id}.{created}@{domain or 'localhost'}>"
    qr_cid = make_msgid(idstring="qr", domain=domain)
    language = language_of(message)
    env = templates(language)
    context = {**_template_context(message, language), "qr_cid": qr_cid.strip("<>")}
    email.set_content(env.get_template(f"{message.kind}.txt").render(context))
    email.add_alternative(env.get_template(f"{message.kind}.html").render(context), subtype="html")
    if message.kind in TICKET_KINDS and message.context.get("ticket_token"):
        _add_ticket(email, context, qr_cid=qr_cid)
    return email


def _add_ticket(email: EmailMessage, context: dict[str, Any], *, qr_cid: str) -> None:
    """The QR code beside the HTML that shows it, and the performance as a calendar event."""
    html = email.get_body(("html",))
    assert html is not None
    html.add_related(
        tickets.qr_png(str(context["ticket_token"])),
        maintype="image",
        subtype="png",
        cid=qr_cid,
        disposition="inline",
        filename="ticket-qr.png",
    )
    email.add_attachment(
        tickets.ics_event(
            uid=f"{context['reference']}@azctl",
            title=str(context["show_title"]),
            location=str(context["venue_name"]),
            starts_at=times.parse_iso(str(context["starts_at"])),
            url=context["ticket_url"],
            organizer=_organizer(),
            sequence=int(context.get("calendar_sequence") or 0),
        ),
        maintype="text",
        subtype="calendar",
        filename="performance.ics",
    )


def _organizer() -> tuple[str, str] | None:
    """The theatre as the calendar event's organizer: its name and the sender's address."""
    address = parseaddr(get_settings().mail_from)[1]
    return (get_settings().theatre_name, address) if "@" in address else None


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


class _Deadline:
    """An SMTP client whose whole delivery ends by `deadline` (a `time.monotonic()` instant).

    smtplib's timeout bounds each wait on the socket, not a delivery made of a dozen of them;
    here each command's wait is cut to the time left, so a server that answers slowly to every
    command cannot stretch one message past its claim's lease.
    """

    deadline: float
    timeout: float
    sock: Any

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)

    def send(self, s: str | bytes) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("out of time")  # deliver() says what for
        if self.sock is not None:
            self.sock.settimeout(min(self.timeout, left))
        super().send(s)  # type: ignore[misc]


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTPS(_Deadline, smtplib.SMTP_SSL):
    pass


class SMTPTransport:
    """SMTP from a URL: `smtp://` (STARTTLS when `?starttls=1`), `smtps://`, with user:password.

    `timeout` bounds each wait on the server; `deadline` (seconds) the whole of one delivery.
    """

    def __init__(self, url: str, *, timeout: float = 20, deadline: float = 60) -> None:
        parts = urlsplit(url)  # checked by Settings: smtp:// or smtps:// with a host
        assert parts.hostname is not None
        self.implicit_tls = parts.scheme == "smtps"
        self.starttls = "starttls=1" in parts.query or "starttls=true" in parts.query
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = min(timeout, deadline)
        self.deadline = deadline

    def deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        deadline = time.monotonic() + self.deadline
        client: smtplib.SMTP
        if self.implicit_tls:
            client = _SMTPS(
                self.host, self.port, timeout=self.timeout, context=context, deadline=deadline
            )
        else:
            client = _SMTP(self.host, self.port, timeout=self.timeout, deadline=deadline)
        try:
            if self.starttls:
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        except OSError as exc:  # smtplib's errors too; a wait cut short reads "timed out"
            if time.monotonic() < deadline:
                raise
            raise TimeoutError(
                f"the mail server took more than {self.deadline:g} s over one message"
            ) from exc
        finally:
            # The message is the server's once it accepted it; a QUIT that fails changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
            client.close()


def transport_from_settings() -> Transport:
    """The configured transport; an SMTP delivery is given half of a claim's lease at most."""
    settings = get_settings()
    if settings.smtp_url:
        budget = outbox.delivery_budget(settings.mail_lease).total_seconds()
        return SMTPTransport(settings.smtp_url, deadline=budget)
    return FileTransport(settings.effective_mail_dir)
