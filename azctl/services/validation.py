"""Checks on values coming in from any front end, each refusing with the field it is about.

Each refusal also names its rule in a stable `reason` (`errors.InvalidInput.reason`), so a page
can say it in the visitor's words and language: `required`, `too_long`, `control_characters`,
`not_an_email`, `not_mailable`, `not_a_number`, `too_small`, `too_large`. The English messages
are for the CLI and the JSON API, and are not matched on.
"""

from __future__ import annotations

import re
import unicodedata

import email_validator

from azctl import errors

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_SLUG_LENGTH = 80


def required_text(field: str, value: str | None, *, max_length: int) -> str:
    """Trimmed text without control characters; blank is refused."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise errors.InvalidInput(field, f"{field} is required", reason="required")
    if len(cleaned) > max_length:
        raise errors.InvalidInput(
            field, f"{field} is longer than {max_length} characters", reason="too_long"
        )
    if _CONTROL.search(cleaned):
        raise errors.InvalidInput(
            field, f"{field} contains control characters", reason="control_characters"
        )
    return cleaned


def optional_text(field: str, value: str | None, *, max_length: int) -> str | None:
    """Like `required_text`, but blank means None."""
    if value is None or not value.strip():
        return None
    return required_text(field, value, max_length=max_length)


def email(value: str | None, *, field: str = "email") -> str:
    """An address by its syntax (email-validator, no DNS look-up), in the form mail is sent to.

    `o'brien@…` and `anna+teatro@…` are addresses, and so is `visitatore@università.it`. The
    local part is kept as typed (mailboxes may tell case apart); the domain is lower-cased and kept
    in its ASCII form (`xn--universit-y1a.it`), because that is what a `To:` header and any SMTP
    server carry. A local part with letters beyond ASCII would need SMTPUTF8 from every server on
    the way, so it is refused with its own message.
    """
    cleaned = required_text(field, value, max_length=254)
    try:
        checked = email_validator.validate_email(cleaned, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise errors.InvalidInput(
            field, f"{field}: {cleaned!r} is not an email address", reason="not_an_email"
        ) from None
    if checked.ascii_email is None:
        raise errors.InvalidInput(
            field,
            f"{field}: {cleaned!r} cannot be mailed: only the part after the @ may have letters "
            "beyond ASCII",
            reason="not_mailable",
        )
    return checked.ascii_email


def whole_number(field: str, value: object) -> int:
    """An int, and not a bool, float or numeric string passed where a count belongs."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidInput(
            field, f"{field} must be a whole number, got {value!r}", reason="not_a_number"
        )
    return value


_DIGITS = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 18  # beyond any count here; a longer run of digits is read as this large


def whole_number_text(field: str, text: str | None) -> int:
    """A whole number typed into a form (`" 2 "`, `"+2"`), to be checked with `count`.

    Blank is `required`; anything but ASCII digits with an optional sign (`"two"`, `"2.5"`,
    Arabic-Indic digits) is `not_a_number`. A huge number stays a number, kept small enough
    for `count` to call it `too_large` (or `too_small`) without building a giant int.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        raise errors.InvalidInput(field, f"{field} is required", reason="required")
    if not _DIGITS.fullmatch(cleaned):
        raise errors.InvalidInput(
            field, f"{field} must be a whole number, got {cleaned[:20]!r}", reason="not_a_number"
        )
    digits = cleaned.lstrip("+-")
    sign = -1 if cleaned.startswith("-") else 1
    return sign * (int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS)


def count(field: str, value: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    whole_number(field, value)
    if value < minimum:
        raise errors.InvalidInput(
            field, f"{field} must be at least {minimum}, got {value}", reason="too_small"
        )
    if maximum is not None and value > maximum:
        raise errors.InvalidInput(
            field, f"{field} must be at most {maximum}, got {value}", reason="too_large"
        )
    return value


MAX_SEATS = 100_000


def seats(field: str, value: int) -> int:
    """A number of seats: whole, not negative, and no more than any room holds."""
    return count(field, value, maximum=MAX_SEATS)


def is_slug(text: str) -> bool:
    return bool(_SLUG.match(text)) and len(text) <= MAX_SLUG_LENGTH


def slug(value: str, *, field: str = "slug") -> str:
    cleaned = value.strip().lower()
    if not is_slug(cleaned):
        raise errors.InvalidInput(
            field, f"{field}: {value!r} must be lowercase letters, digits and single hyphens"
        )
    return cleaned


def slugify(title: str, *, field: str) -> str:
    """A URL slug made from a title: `La Locandiera (2026)` → `la-locandiera-2026`."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    made = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:MAX_SLUG_LENGTH].strip("-")
    if not made:
        raise errors.InvalidInput(field, f"cannot make a slug from {title!r}: give --slug")
    return made


def one_line_text(field: str, value: str | None, *, max_length: int) -> str | None:
    """Text shown on one line (a show's summary in a listing): line breaks and runs of spaces
    become one space, since a summary pasted from a document arrives wrapped. Blank means None."""
    if value is None:
        return None
    if _CONTROL.search(value):  # before folding, which would hide some of them as spaces
        raise errors.InvalidInput(field, f"{field} contains control characters")
    return optional_text(field, " ".join(value.split()), max_length=max_length)


def paragraphs_text(field: str, value: str | None, *, max_length: int) -> str | None:
    """Plain text in paragraphs (a show's description): line breaks kept, written as LF whatever
    the file had (CR LF, CR), blank lines between paragraphs kept, tabs kept; any other control
    character refused, since nothing would show it. Blank means None."""
    if value is None:
        return None
    return optional_text(
        field, value.replace("\r\n", "\n").replace("\r", "\n"), max_length=max_length
    )
