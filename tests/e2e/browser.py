"""Headless Chromium (Debian's) for the visitor's pages: how to launch it, the screens and
settings a visitor's browser comes with, and the checks every page must pass.

The fixtures in tests/e2e/conftest.py use these helpers: `chromium_browser` (one browser per
test module, so a module pays the launch once) and `browser_context` (a fresh context per call,
closed at the end of the test). A test reads as a visitor's visit:

    page = browser_context(screen=PHONE, language="it", javascript=False).new_page()
    page.goto(server.url(path))
    assert_accessible(page)
    tab_to(page, "button", "Confirm")
    page.keyboard.press("Enter")

Everything here is plain Playwright (sync API) with nothing installed beyond the test extra:
axe-core comes with axe-playwright-python, the PDF page count is a regex.
"""

from __future__ import annotations

import contextlib
import os
import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Download,
    Locator,
    Page,
    Playwright,
    Request,
    Response,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
# How long a click, a navigation or a wait may take before the test fails (ms); generous for a
# loaded 2-core CI runner, far under the suite's budget.
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Screen:
    """A browser window a visitor has: its CSS size, whether it is a phone, its pixel density."""

    name: str
    width: int
    height: int
    mobile: bool = False
    scale: float = 1.0


# The narrowest phone WCAG 1.4.10 (reflow) asks for, and an ordinary laptop.
PHONE = Screen("phone", 320, 640, mobile=True, scale=2)
DESKTOP = Screen("desktop", 1280, 800)
SCREENS = (PHONE, DESKTOP)


def chromium_executable() -> Path:
    """Debian's Chromium; a test without it is skipped, or fails under CI=true where it must be."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: bash .ci/run installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return CHROMIUM


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(chromium_executable()), headless=True, args=CHROMIUM_ARGS
    )


def new_context(
    browser: Browser,
    *,
    screen: Screen = DESKTOP,
    language: str | None = None,
    javascript: bool = True,
    dark: bool = False,
    reduced_motion: bool = False,
    bypass_csp: bool = False,
) -> BrowserContext:
    """A fresh browser profile (no cookies) as a visitor's browser would be set up.

    `language` is both the browser's locale and its `Accept-Language` header (how a visitor's
    browser tells a site its language); None leaves Chromium's own (en-US).
    `bypass_csp` is for checks that inject a script of their own and nothing else: a visitor's
    browser always enforces the page's policy.
    """
    settings = {
        "screen": screen,
        "language": language,
        "javascript": javascript,
        "dark": dark,
        "reduced_motion": reduced_motion,
        "bypass_csp": bypass_csp,
    }
    context = browser.new_context(
        viewport={"width": screen.width, "height": screen.height},
        screen={"width": screen.width, "height": screen.height},
        is_mobile=screen.mobile,
        has_touch=screen.mobile,
        device_scale_factor=screen.scale,
        java_script_enabled=javascript,
        locale=language,
        extra_http_headers={"Accept-Language": language} if language else None,
        color_scheme="dark" if dark else "light",
        reduced_motion="reduce" if reduced_motion else "no-preference",
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    _settings[context] = settings
    return context


# What each context was made with, so a check can make a like one (see `axe_violations`).
_settings: weakref.WeakKeyDictionary[BrowserContext, dict[str, Any]] = weakref.WeakKeyDictionary()


def settings_of(context: BrowserContext) -> dict[str, Any]:
    """The `new_context` arguments `context` was made with."""
    return dict(_settings[context])


def watch_for_problems(page: Page) -> list[str]:
    """What goes wrong in the page from now on: script errors, CSP refusals (reported on the
    console), failed or refused requests, and 4xx/5xx answers to what a page loads (its
    images, say). The page itself may answer 4xx (a problem page does): the test asserts the
    status it expects of a page it opens.

    The list fills as the page runs; a test asserts it is empty at the end. The browser's own
    request for /favicon.ico (there is none) does not count, nor the navigation a download
    ends (Chromium aborts it once the file is being saved).
    """
    problems: list[str] = []
    refused_pages: set[str] = set()  # pages that answered 4xx or 5xx, as the test expects

    def ours(url: str) -> bool:
        return not url.endswith("/favicon.ico")

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # Chromium logs the status of a page that answers 4xx as a failed load, too, at the
        # page's address with its fragment (a refused form's `#errors`), which a request has not.
        said_by_page = url.partition("#")[0] in refused_pages and message.text.startswith(
            "Failed to load resource"
        )
        if message.type == "error" and ours(url) and not said_by_page:
            problems.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and ours(response.url):
            if response.request.is_navigation_request():
                refused_pages.add(response.url)
            else:
                problems.append(f"{response.status} {response.url}")

    # A link the browser saves (a calendar entry) ends its navigation as a download, which
    # Chromium reports as an aborted request, before or after the download itself.
    downloads: set[str] = set()

    def aborted_by_download(url: str) -> str:
        return f"{url}: net::ERR_ABORTED"

    def on_request_failed(request: Request) -> None:
        problem = f"{request.url}: {request.failure}"
        if problem != aborted_by_download(request.url) or request.url not in downloads:
            problems.append(problem)

    def on_download(download: Download) -> None:
        downloads.add(download.url)
        with contextlib.suppress(ValueError):
            problems.remove(aborted_by_download(download.url))

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on("requestfailed", on_request_failed)
    page.on("download", on_download)
    page.on("response", on_response)
    return problems


# ---------------------------------------------------------------------------------------------
# Accessibility: axe-core, WCAG 2.1 levels A and AA only (DESIGN §11 asks for AA; the "best
# practice" rules and AAA are advice, not the contract).

WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
_AXE_SCRIPT = Axe().axe_script  # the axe-core that axe-playwright-python ships
_AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": list(WCAG_21_AA)},
    "resultTypes": ["violations", "incomplete"],
}
# Rules whose "incomplete" (axe could not decide) counts as broken. axe cannot see colours a
# page leaves to the browser: with `color-scheme: light dark` and no background of its own, a
# dark page's background is the browser's canvas, which axe cannot read, so grey text on it is
# "incomplete", never a violation, however faint. A page must declare its background.
UNDECIDED_IS_BROKEN = ("color-contrast",)
UNDECIDED_HINT = "does the page declare the background of <html>, in light and dark?"
# How many offending elements of one rule a failure names (the rest are counted).
SHOWN_TARGETS = 3


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (its colour scheme as
    emulated now), with the rules of `UNDECIDED_IS_BROKEN` axe could not decide.

    axe is a script, which Playwright injects and runs through the DevTools protocol
    (`Runtime.evaluate`): the page's Content-Security-Policy (`default-src 'none'`, no script)
    does not govern that, so axe runs on the page exactly as served, policy and all
    (test_accessibility.py shows it finds a fault planted under that policy). It is injected
    once per page load: a second run after `page.emulate_media(color_scheme="dark")` is quick.

    axe needs JavaScript, though: it waits on timers and promises, which never run in a context
    made with `javascript=False` (the evaluation hangs). A page seen without JavaScript is
    therefore checked in a twin: a context with the same screen, language, colour scheme and
    cookies but JavaScript on, where the same address answers with this page's HTML (so even
    the answer to a POST is checked as the visitor got it), its images and the rest still
    fetched from the server. The pages run no script, so the twin shows what the visitor saw.
    """
    if page.context not in _settings:
        pytest.fail("axe needs a context made by new_context(): it must know if JavaScript is on")
    if settings_of(page.context)["javascript"]:
        return _run_axe(page)
    twin_settings = {**settings_of(page.context), "javascript": True}
    assert page.context.browser is not None
    twin = new_context(page.context.browser, **twin_settings)
    try:
        twin.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        html = page.content()
        address = page.url
        twin_page = twin.new_page()
        twin_page.route(
            lambda url: url == address,
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html
            ),
        )
        twin_page.goto(address)
        return _run_axe(twin_page)
    finally:
        twin.close()


def _run_axe(page: Page) -> list[dict]:
    if page.evaluate("() => typeof window.axe") == "undefined":
        page.evaluate(_AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", _AXE_OPTIONS)
    undecided = [
        {
            **rule,
            "impact": f"{rule['impact']}, undecided",
            "help": f"{rule['help']} (axe could not decide: {UNDECIDED_HINT})",
        }
        for rule in results["incomplete"]
        if rule["id"] in UNDECIDED_IS_BROKEN
    ]
    return [*results["violations"], *undecided]


def describe_violations(violations: list[dict]) -> str:
    """A paragraph per rule broken: its id, impact, what it asks, where, and axe's reasons
    for the first element."""
    paragraphs: list[str] = []
    for violation in violations:
        nodes = violation["nodes"]
        targets = [" ".join(map(str, node["target"])) for node in nodes[:SHOWN_TARGETS]]
        more = f" (and {len(nodes) - SHOWN_TARGETS} more)" if len(nodes) > SHOWN_TARGETS else ""
        first = nodes[0] if nodes else {"any": [], "all": [], "none": []}
        reasons = [check["message"] for check in first["any"] + first["all"] + first["none"]]
        paragraphs.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    at {'; '.join(targets)}{more}\n"
            f"    {' '.join(reasons)}"
        )
    return "\n".join(paragraphs)


def accessibility_problems(page: Page) -> str | None:
    """None when axe finds nothing; else the page's address and the rules it breaks."""
    violations = axe_violations(page)
    if not violations:
        return None
    return f"{page.url} breaks {len(violations)} WCAG 2.1 A/AA rule(s):\n" + describe_violations(
        violations
    )


def assert_accessible(page: Page) -> None:
    problems = accessibility_problems(page)
    assert problems is None, problems


# ---------------------------------------------------------------------------------------------
# The keyboard alone: Tab moves, Enter and Space press, keyboard.type writes. No mouse.

# How many Tab presses may pass before the wanted element has the focus: a page with more
# stops than this before its main action is itself a problem for keyboard visitors.
MAX_TABS = 40

# What has the focus, described for a failure message, and whether it is `wanted`.
_FOCUS = """wanted => {
    const element = document.activeElement;
    if (!element || element === document.body) return [false, 'the page itself'];
    const name = (element.getAttribute('aria-label') || element.innerText || element.value
                  || element.getAttribute('name') || '').trim().replace(/\\s+/g, ' ');
    const id = element.id ? '#' + element.id : '';
    return [element === wanted, `<${element.tagName.toLowerCase()}${id}> "${name.slice(0, 60)}"`];
}"""


def focused(page: Page) -> str:
    """What has the keyboard focus, for a failure message: tag, id and visible name."""
    return str(page.evaluate(_FOCUS, None)[1])


def tab_to(
    page: Page,
    role: str | Locator,
    name: str | re.Pattern[str] | None = None,
    *,
    limit: int = MAX_TABS,
) -> list[str]:
    """Press Tab until the element of `role` named `name` (or the element `role` locates) has
    the focus; returns what had the focus on the way (the tab order). Fails, naming what had
    the focus, if `limit` presses do not get there, and at once if the page has no such
    element or several.

    `name` matches the accessible name as Playwright's `get_by_role` does: a string as a
    case-insensitive substring, a compiled pattern as a regex. Works with JavaScript off (the
    focus is read through the DevTools protocol, not by a script of the page).
    """
    if isinstance(role, str):
        wanted = page.get_by_role(role, name=name)  # type: ignore[arg-type]
        what = f"{role} named {name!r}"
    else:
        wanted, what = role, str(role)
    found = wanted.count()
    if found != 1:
        pytest.fail(f"{found} elements, not one, are the {what} on {page.url}")
    target = wanted.element_handle()
    visited: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached, description = page.evaluate(_FOCUS, target)
        visited.append(description)
        if reached:
            return visited
    pytest.fail(
        f"{limit} Tab presses did not reach the {what} on {page.url}; the focus went: "
        + " -> ".join(visited)
    )


def type_here(page: Page, text: str) -> None:
    """Type `text` into the focused field, key by key, as a visitor would."""
    page.keyboard.type(text)


def tab_and_type(page: Page, label: str | re.Pattern[str], text: str) -> None:
    """Tab to the text field labelled `label`, then type into it. Other fields by their role:
    `tab_to(page, "spinbutton", "Seats")` and `type_here` for a number, `tab_to(page,
    "checkbox", "I agree")` and `page.keyboard.press("Space")` for a box to tick."""
    tab_to(page, "textbox", label)
    type_here(page, text)


# ---------------------------------------------------------------------------------------------
# Layout and print.

_OVERFLOW = "() => document.documentElement.scrollWidth"


def page_width(page: Page) -> int:
    """How wide the document is laid out (CSS px): wider than the window means a sideways
    scroll, which WCAG 1.4.10 (reflow) forbids at 320 px."""
    return int(page.evaluate(_OVERFLOW))


_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_page_count(pdf: bytes) -> int:
    """Pages in a PDF Chromium printed: its `/Type /Page` objects (not `/Pages`, the tree).

    Chromium (Skia) writes page objects uncompressed, so a regex counts them without pypdf.
    """
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return len(_PDF_PAGE.findall(pdf))
