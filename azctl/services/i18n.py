"""The visitor's languages: gettext catalogs, choosing a language, and dates written its way.

Every string a visitor reads, on a page or in a mail, is English in the templates and code and
goes through a catalog in `azctl/locale/<lang>/LC_MESSAGES/messages.po` (compiled to `.mo`, which
ships in the wheel). `pybabel extract -F babel.cfg` collects them; docs/i18n.md tells how to add a
language. Dates are written by Babel in the theatre's zone: "sabato 12 dicembre 2026, 20:30".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azctl.settings import get_settings

if TYPE_CHECKING:
    import jinja2
    from babel import Locale
    from babel.support import NullTranslations

# Babel and Jinja2 are imported where they are used: booking code imports this module for the
# language rules alone, and the CLI's start-up must not pay for catalogs it never reads.

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
# Babel's `en` writes dates the American way; the theatre's English readers are in Europe.
_BABEL_LOCALES = {"en": "en_GB"}
_ACCEPT_PART = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?"
)


def N_(message: str) -> str:  # the name pybabel looks for
    """Marks a string for the catalogs where it is defined; it is translated where it is shown."""
    return message


def languages() -> tuple[str, ...]:
    """The visitor's languages (AZCTL_LANGUAGES), the default first."""
    return get_settings().language_codes


def default_language() -> str:
    return languages()[0]


def known(language: str | None) -> str | None:
    """`language` if the theatre offers it (`it-IT` counts as `it`), else None."""
    if not language:
        return None
    offered = languages()
    wanted = language.strip().replace("-", "_")
    for candidate in (wanted, wanted.split("_")[0].lower()):
        if candidate in offered:
            return candidate
    return None


def from_accept_language(header: str | None) -> str | None:
    """The offered language a browser's `Accept-Language` prefers most, or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:20]):
        match = _ACCEPT_PART.fullmatch(part)
        if not match:
            continue
        try:
            weight = float(match[2]) if match[2] else 1.0
        except ValueError:
            continue
        if weight > 0:
            ranked.append((-weight, position, match[1]))
    for _weight, _position, tag in sorted(ranked):
        if tag == "*":
            return default_language()
        if chosen := known(tag):
            return chosen
    return None


def choose(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """DESIGN §11: `?lang=`, then the cookie, then `Accept-Language`, then the default."""
    return (
        known(query) or known(cookie) or from_accept_language(accept_language) or default_language()
    )


def for_reservation(language: str | None) -> str:
    """The language a booking's mails are written in: its own, if still offered."""
    return known(language) or default_language()


@lru_cache(maxsize=16)
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (English: the messages as written)."""
    from babel.support import NullTranslations, Translations

    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def gettext(language: str) -> Callable[[str], str]:
    return translations(language).gettext


@lru_cache(maxsize=16)
def babel_locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(_BABEL_LOCALES.get(language, language))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(get_settings().zone)


def format_when(moment: datetime, language: str) -> str:
    """A performance's time as that language writes it: "sabato 12 dicembre 2026, 20:30"."""
    from babel import dates

    local = _local(moment)
    locale = babel_locale(language)
    day = dates.format_date(local.date(), "full", locale=locale)
    return f"{day}, {dates.format_time(local, 'short', locale=locale)}"


def format_day(moment: datetime, language: str) -> str:
    """A short day and time for lists: "sab 12 dic, 20:30"."""
    from babel import dates

    local = _local(moment)
    locale = babel_locale(language)
    day = dates.format_skeleton("MMMEd", local, locale=locale)
    return f"{day}, {dates.format_time(local, 'short', locale=locale)}"


def format_number(value: int, language: str) -> str:
    from babel import numbers

    return numbers.format_decimal(value, locale=babel_locale(language))


def paragraphs(text: str | None) -> list[str]:
    """Plain text split at blank lines: a description's paragraphs, each shown escaped."""
    return [part.strip() for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def environment(loader: jinja2.BaseLoader, language: str, **options: Any) -> jinja2.Environment:
    """A Jinja2 environment that writes `language`: `{% trans %}`, `_()` and the date filters.

    One environment per language (cached by the caller), since gettext is installed on the
    environment and a worker's threads must not switch it under one another.
    """
    import jinja2

    env = jinja2.Environment(loader=loader, extensions=["jinja2.ext.i18n"], **options)
    # Templates write {% trans %} blocks over several lines; babel.cfg extracts them trimmed.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    env.filters["when"] = lambda moment: format_when(moment, language)
    env.filters["day"] = lambda moment: format_day(moment, language)
    env.filters["number"] = lambda value: format_number(value, language)
    env.filters["paragraphs"] = paragraphs
    return env
