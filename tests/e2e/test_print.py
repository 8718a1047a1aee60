"""The ticket page prints on one A4 sheet, in either language, as Chromium prints it (print
stylesheet, A4, default margins): a visitor without a phone brings it on paper."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext

from tests.e2e.browser import PHONE, pdf_page_count
from tests.e2e.pages import Site


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_ticket_prints_on_one_a4_page_in_each_language(
    site: Site, browser_context: Callable[..., BrowserContext]
) -> None:
    ticket = site.book(confirmed=True, party_size=8, name="Maria Francesca Carlotta Bevilacqua")
    for language in ("it", "en"):
        # A phone in dark mode: what a visitor has in hand; print is light and page-sized.
        page = browser_context(screen=PHONE, language=language, dark=True).new_page()
        site.open(page, f"/t/{ticket.ticket_token}")
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf_page_count(pdf) == 1, f"{language}: {pdf_page_count(pdf)} A4 pages"


def test_the_pdf_page_count_counts_pages_not_the_page_tree(
    browser_context: Callable[..., BrowserContext],
) -> None:
    page = browser_context(javascript=False).new_page()
    page.set_content(
        "<!doctype html><title>Three</title>"
        + "".join(f'<p style="break-after: page">Page {n}</p>' for n in (1, 2, 3))
    )
    assert pdf_page_count(page.pdf(format="A4")) == 3
