"""Every visitor page of tests/e2e/pages.py (`PAGES`) in Debian's headless Chromium, in Italian
and English, on a 320 px phone and a desktop, light and dark: axe-core finds no violation of a
WCAG 2.1 A or AA rule, `<html lang>` names the language the page is written in, an Italian
page shows no English string of the catalog (tests/e2e/catalogs.py), and the phone never scrolls
sideways (WCAG 1.4.10, reflow).

Italian as a visitor's browser asks for it (`Accept-Language: it`); English as an Italian
browser's visitor chooses it, with the switch in the page header, by keyboard (the cookie then
keeps it for the page under test). To check one more page, add it to `PAGES`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from pytest_subtests import SubTests

from tests.e2e.browser import (
    PHONE,
    SCREENS,
    accessibility_problems,
    axe_violations,
    page_width,
    tab_to,
    watch_for_problems,
)
from tests.e2e.catalogs import english_left
from tests.e2e.pages import PAGES, Site

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGES = ("it", "en")
ASKED_BY_THE_BROWSER = "it"
# Any page has the switch; this one needs no booking.
SWITCH_ON = "/confirm/NOT-A-TOKEN"


def _choose_english_by_the_switch(site: Site, page: Page) -> None:
    """As a visitor whose browser asks for Italian: Tab to "English", Enter."""
    site.open(page, SWITCH_ON, status=404)
    assert page.get_attribute("html", "lang") == "it"
    tab_to(page, "link", "English")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "en", page.url


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe_in_each_language_screen_and_scheme(
    name: str,
    site: Site,
    browser_context: Callable[..., BrowserContext],
    subtests: SubTests,
) -> None:
    """One visit per language and screen; axe runs on it light, then dark (and with reduced
    motion), the colour scheme switched in place: the page is the same, only its colours
    change, and a visit and axe's injection cost more than a second run."""
    for language, screen in itertools.product(LANGUAGES, SCREENS):
        with subtests.test(msg=f"{name}, {language}, {screen.name}"):
            page = browser_context(screen=screen, language=ASKED_BY_THE_BROWSER).new_page()
            problems = watch_for_problems(page)
            if language != ASKED_BY_THE_BROWSER:
                _choose_english_by_the_switch(site, page)
            PAGES[name](site, page)

            assert page.get_attribute("html", "lang") == language
            left = english_left(page, language)
            assert left == [], f"{page.url} is in {language} but has English: {left}"
            if screen is PHONE:
                assert page_width(page) <= PHONE.width, "the page scrolls sideways at 320 px"
            light = accessibility_problems(page)
            page.emulate_media(color_scheme="dark", reduced_motion="reduce")
            dark = accessibility_problems(page)
            broken = [f"light: {light}"] * bool(light) + [f"dark: {dark}"] * bool(dark)
            assert not broken, "\n".join(broken)
            assert problems == [], problems


def _plant_an_unlabelled_image(page: Page) -> None:
    page.evaluate(
        "() => { const img = document.createElement('img');"
        " img.src = '/nothing.png'; img.id = 'planted';"
        " document.querySelector('main').append(img); }"
    )


def test_axe_runs_under_the_pages_policy_and_without_javascript(
    site: Site, browser_context: Callable[..., BrowserContext]
) -> None:
    """The check can fail: a fault planted in a page served with its strict policy (no script
    at all) is found, with JavaScript on (axe injected despite the policy) and off (axe run in
    a twin that gets this page's HTML)."""
    for javascript in (True, False):
        page = browser_context(javascript=javascript).new_page()
        answer = site.open(page, f"/t/{site.book(confirmed=True).ticket_token}")
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert axe_violations(page) == []
        _plant_an_unlabelled_image(page)
        found = axe_violations(page)
        assert [violation["id"] for violation in found] == ["image-alt"], found
        assert [node["target"] for node in found[0]["nodes"]] == [["#planted"]]
