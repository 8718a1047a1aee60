"""The visitor's catalogs against the templates and code: every string a visitor can see is in
every language's catalog, translated, and compiled into the `.mo` that ships.

`scripts/catalogs` brings the catalogs up to date; these tests fail until a new string has been
extracted, translated and compiled (docs/i18n.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages import extract, mofile, pofile
from babel.messages.frontend import parse_mapping_cfg

from azctl.services import i18n

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = sorted(path.name for path in i18n.LOCALE_DIR.iterdir() if path.is_dir())


def _message_ids(messages) -> set[str]:
    """Singular msgids (a plural entry counts by its singular)."""
    return {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in messages
        if message.id
    }


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    """What `pybabel extract -F babel.cfg -k N_` finds in the sources right now."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**extract.DEFAULT_KEYWORDS, "N_": None}
    found = extract.extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, strip_comment_tags=True
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def _catalog(language: str):
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        return pofile.read_po(handle, locale=language)


def test_the_catalogs_know_every_string_of_the_templates_and_code(extracted: set[str]) -> None:
    assert len(extracted) > 50, "the extraction found too little: is babel.cfg right?"
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = pofile.read_po(handle)
    assert sorted(extracted - _message_ids(template)) == [], "run scripts/catalogs"
    assert sorted(_message_ids(template) - extracted) == [], "run scripts/catalogs"
    for language in LANGUAGES:
        assert sorted(extracted - _message_ids(_catalog(language))) == [], language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_and_its_placeholders_kept(language: str) -> None:
    catalog = _catalog(language)
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not (all(message.string) if isinstance(message.string, tuple) else message.string)
        )
    ]
    assert untranslated == [], f"translate these in {language}/LC_MESSAGES/messages.po"
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert problems == []


def _key(value):
    """A plural's forms as a tuple, whether the .po (tuple) or the .mo (list) gave them."""
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_that_ships_is_the_current_one(language: str) -> None:
    catalog = _catalog(language)
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").open("rb") as handle:
        compiled = mofile.read_mo(handle)
    written = {_key(message.id): _key(message.string) for message in catalog if message.string}
    shipped = {_key(message.id): _key(message.string) for message in compiled if message.id}
    written.pop("", None)
    assert shipped == written, "run scripts/catalogs to compile the .po"


def test_every_offered_language_but_english_has_a_catalog() -> None:
    assert set(LANGUAGES) >= {"it"}
    for language in LANGUAGES:
        assert i18n.translations(language).gettext("Skip to content") != "Skip to content"


def test_an_italian_theatre_offers_italian_first(monkeypatch) -> None:
    from azctl.settings import reload_settings

    monkeypatch.delenv("AZCTL_LANGUAGES")
    reload_settings()
    assert i18n.languages() == ("it", "en")
    assert i18n.choose(query=None, cookie=None, accept_language=None) == "it"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "chosen"),
    [
        ("it", "en", "en", "it"),  # ?lang= first
        ("xx", "it", "en", "it"),  # an unknown ?lang= is passed over
        (None, "it", "en;q=1", "it"),  # then the cookie
        (None, None, "de-DE,de;q=0.9,it;q=0.8,en;q=0.5", "it"),  # then Accept-Language, by q
        (None, None, "it-CH", "it"),  # a region counts as its language
        (None, None, "fr, *;q=0.1", "en"),  # anything: the default (tests: en)
        (None, None, "fr", "en"),
        (None, None, "it;q=0, en", "en"),  # q=0 means "not this"
        (None, None, ";;;,q=", "en"),  # junk: the default
    ],
)
def test_the_language_is_chosen_as_design_11_says(query, cookie, header, chosen) -> None:
    assert i18n.choose(query=query, cookie=cookie, accept_language=header) == chosen


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 12, 19, 30, tzinfo=UTC)  # 20:30 in Rome
    assert i18n.format_when(moment, "it") == "sabato 12 dicembre 2026, 20:30"
    assert i18n.format_when(moment, "en") == "Saturday, 12 December 2026, 20:30"
