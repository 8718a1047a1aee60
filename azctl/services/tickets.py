"""What a visitor holds: the links built from raw tokens, the QR code and the calendar entry.

The QR code holds `{AZCTL_PUBLIC_URL}/t/{TOKEN}` and nothing else: no name, email, phone, notes
or party size.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from azctl.settings import get_settings


def confirm_url(token: str) -> str:
    return f"{get_settings().public_url}/confirm/{token}"


def cancel_url(token: str) -> str:
    return f"{get_settings().public_url}/cancel/{token}"


def ticket_url(token: str) -> str:
    return f"{get_settings().public_url}/t/{token}"


def offer_url(token: str) -> str:
    """A waiting-list offer's page: GET shows it, POST accepts it."""
    return f"{get_settings().public_url}/offer/{token}"


def leave_url(token: str) -> str:
    """The page that takes a party off a waiting list."""
    return f"{get_settings().public_url}/leave/{token}"


def qr_png(token: str, *, scale: int = 8) -> bytes:
    """The ticket's QR code as PNG; error correction M survives a scratched phone screen."""
    return _qr(token, kind="png", scale=scale)


def qr_svg(token: str, *, scale: int = 8) -> bytes:
    return _qr(token, kind="svg", scale=scale)


def _qr(token: str, *, kind: str, scale: int) -> bytes:
    # Imported here: a ticket's link is needed by every booking, its picture only by the ticket
    # page and mail, and a CLI listing should not pay for a QR library.
    import segno

    buffer = io.BytesIO()
    segno.make(ticket_url(token), error="m").save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_param(value: str) -> str:
    """A parameter value (`CN=`), quoted; RFC 5545 allows no DQUOTE or control character in it."""
    return '"' + "".join(c for c in value if c != '"' and c.isprintable()) + '"'


# SEQUENCE counts seconds from here to when the file was made: it only grows.
_SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def calendar_sequence(made_at: datetime) -> int:
    """A calendar event's SEQUENCE: the seconds from 2020 to when its file was made.

    Every `.ics` of a booking has one UID (`{reference}@azctl`), whatever it says: the ticket's,
    a reminder's, a move's, an exchange's, the ticket page's download. A calendar keeps the one
    with the highest SEQUENCE, so the newest file, which tells the latest time, always wins.
    """
    return max(0, int((made_at - _SEQUENCE_EPOCH).total_seconds()))


def ics_event(
    *,
    uid: str,
    title: str,
    location: str,
    starts_at: datetime,
    url: str,
    hours: float = 2,
    organizer: tuple[str, str] | None = None,
    sequence: int = 0,
) -> bytes:
    """A one-event iCalendar file (RFC 5545) for the visitor's calendar.

    A later file with the same `uid` and a higher `sequence` updates the event a calendar
    already holds (a performance moved: `calendar_mails.calendar_sequence`) instead of adding
    a second one.

    `organizer` (the theatre's name and mail address) names who holds the event, so the
    calendar shows the theatre beside the show; its name is the description too.
    """
    extra = []
    if organizer is not None:
        name, address = organizer
        extra = [
            f"DESCRIPTION:{_ics_text(name)}",
            f"ORGANIZER;CN={_ics_param(name)}:mailto:{address}",
        ]
    stamp = "%Y%m%dT%H%M%SZ"
    start = starts_at.astimezone(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//azctl//box office//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{datetime.now(UTC).strftime(stamp)}",
        f"DTSTART:{start.strftime(stamp)}",
        f"DTEND:{(start + timedelta(hours=hours)).strftime(stamp)}",
        f"SUMMARY:{_ics_text(title)}",
        f"LOCATION:{_ics_text(location)}",
        f"URL:{url}",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
