"""Every visitor page of tests/e2e/pages.py (`PAGES`) in Debian's headless Chromium, in Italian
and English, on a 320 px phone and a desktop, light and dark: axe-core finds no violation of a
WCAG 2.1 A or AA rule, `<html lang>` names the language the page is written in, an Italian
page shows no English string of the catalog (tests/e2e/catalogs.py), and the phone never scrolls
sideways (WCAG 1.4.10, reflow).

Italian as a visitor's browser asks for it (`Accept-Language: it`); English as an Italian
browser's visitor chooses it, with the switch in the page header, by keyboard (the cookie then
keeps it for the pages under test). To check one more page, add it to `PAGES`: it becomes a
subtest of each language and screen, named in a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from pytest_subtests import SubTests

from tests.e2e.browser import (
    PHONE,
    SCREENS,
    Screen,
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


@pytest.mark.parametrize("screen", SCREENS, ids=lambda screen: screen.name)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_in_each_language_screen_and_scheme(
    language: str,
    screen: Screen,
    site: Site,
    browser_context: Callable[..., BrowserContext],
    subtests: SubTests,
) -> None:
    """One visitor per language and screen goes through every page, one subtest a page; axe
    runs on each light, then dark (and with reduced motion), the colour scheme switched in
    place: the page is the same, only its colours change.

    One server and one browser context for all the pages of a language and screen: a server's
    start, a context and the switch to English cost more than most pages' checks, so they are
    paid four times, not four times per page. A page's visit still makes the booking it needs.
    """
    page = browser_context(screen=screen, language=ASKED_BY_THE_BROWSER).new_page()
    problems = watch_for_problems(page)
    if language != ASKED_BY_THE_BROWSER:
        _choose_english_by_the_switch(site, page)
    for name, visit in PAGES.items():
        with subtests.test(msg=name):
            problems.clear()
            page.emulate_media(color_scheme="light", reduced_motion="no-preference")
            visit(site, page)

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
