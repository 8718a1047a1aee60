"""The booking form as a visitor sees it once refused, on a 320 px phone and a desktop: each
message reads on a line of its own above its field, across the field's width, and the consent's
label stays beside its box. axe cannot tell a message squeezed into a narrow column beside a
checkbox from one laid out well; this looks at where the browser put them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator

from tests.e2e.browser import SCREENS
from tests.e2e.pages import Site, send_booking_form

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# How far apart (CSS px) two edges may be and still count as lined up.
SLACK = 2


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box


def test_each_refused_fields_message_is_above_it_across_its_width(
    site: Site, browser_context: Callable[..., BrowserContext]
) -> None:
    for screen in SCREENS:
        page = browser_context(screen=screen, language="it").new_page()
        send_booking_form(site, page, email="giulia@example", consent=False, status=422)
        messages = page.locator(".field .error")
        assert messages.count() == 2  # the email and the consent

        for index in range(messages.count()):
            message = messages.nth(index)
            field = message.locator("xpath=..")
            described = field.locator(f"[aria-describedby~='{message.get_attribute('id')}']")
            message_box, field_box, input_box = _box(message), _box(field), _box(described)
            where = f"{screen.name}: #{message.get_attribute('id')}"
            assert message_box["width"] >= field_box["width"] - SLACK, where
            assert message_box["y"] + message_box["height"] <= input_box["y"] + SLACK, where

        box, label = _box(page.locator("#consent")), _box(page.locator("label[for=consent]"))
        assert label["x"] >= box["x"] + box["width"], f"{screen.name}: the label is not beside"
        assert box["y"] < label["y"] + label["height"], f"{screen.name}: the label is below"
        hint = _box(page.locator("#consent-hint"))
        assert hint["y"] >= label["y"] + label["height"] - SLACK, f"{screen.name}: hint not below"
