"""A page read as a visitor of one language reads it: the texts to look for, as the catalog
translates them, and the English a page of another language must not show.

    _ = words("it")
    assert page.get_by_role("heading").inner_text() == _("There is a problem")
    assert english_left(page, "it") == []
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from functools import lru_cache

from babel.messages.pofile import read_po
from playwright.sync_api import Page

from azctl.services import i18n

_UNTRANSLATED = "untranslated: "


class _Untranslated(gettext.NullTranslations):
    """Asked only for what a catalog lacks: says so instead of handing back the English."""

    def gettext(self, message: str) -> str:
        return f"{_UNTRANSLATED}{message}"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"{_UNTRANSLATED}{msgid1}"


def _catalog(language: str) -> gettext.NullTranslations:
    catalog = i18n.translations(language)
    if language != i18n.SOURCE_LANGUAGE:
        catalog.add_fallback(_Untranslated())
    return catalog


def _checked(text: str, language: str, message: str) -> str:
    assert not text.startswith(_UNTRANSLATED), f"no {language} translation of {message!r}"
    return text


def words(language: str) -> Callable[[str], str]:
    """The catalog's `language` for an English source text. For a language other than
    English, a text the catalog lacks fails the test (the visitor would read English); a
    translation that happens to be the English ("Email") is fine."""
    catalog = _catalog(language)

    def translated(message: str) -> str:
        return _checked(str(catalog.gettext(message)), language, message)

    return translated


def counted(language: str, singular: str, plural: str, count: int) -> str:
    """The catalog's `language` for an English text about `count` things, with the count
    in it, as a page's `{% trans count=... %}` writes it; checked like `words`."""
    text = str(_catalog(language).ngettext(singular, plural, count))
    return _checked(text, language, singular) % {"count": count}


# A message's runs of words without a placeholder or markup: what would show through, word
# for word, if a page used the message untranslated.
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%s|<[^>]*>")
_SHORTEST_TELLTALE = 16  # characters; shorter runs ("Seats", "Email") may be the same in Italian


@lru_cache(maxsize=4)
def english_telltales(language: str) -> frozenset[str]:
    """Runs of English text from the messages `language` translates otherwise: one of them on
    a page written in `language` is a string left in English."""
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    telltales: set[str] = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if not english or english in strings:
                continue
            for piece in _PLACEHOLDER.split(english):
                run = piece.strip(" .,:;!?*()")
                if len(run) >= _SHORTEST_TELLTALE and not any(run in text for text in strings):
                    telltales.add(run)
    return frozenset(telltales)


# All a visitor (or their screen reader) can be told: the text, the window's title and the
# attributes read aloud or shown in place of something.
_TOLD = """() => [document.title, document.body.innerText,
    ...Array.from(document.querySelectorAll('[alt], [aria-label], [title], [placeholder]'),
        element => ['alt', 'aria-label', 'title', 'placeholder']
            .map(name => element.getAttribute(name) || '').join(' '))].join(' ')"""


def english_left(page: Page, language: str) -> list[str]:
    """The English runs of the catalog (`english_telltales`) a page written in `language`
    shows or says; none for English itself."""
    if language == i18n.SOURCE_LANGUAGE:
        return []
    told = " ".join(str(page.evaluate(_TOLD)).split())
    return sorted(run for run in english_telltales(language) if run in told)
