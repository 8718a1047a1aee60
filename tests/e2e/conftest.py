"""End-to-end fixtures: the public endpoint served for real by gunicorn, in a process of its own,
and Debian's headless Chromium to visit its pages (tests/e2e/browser.py has the helpers).

    def test_something(database_url, gunicorn_server):
        ...seed the database through the services...
        server = gunicorn_server(extra_env={"AZCTL_SMTP_URL": "smtp://127.0.0.1:2525"})
        answer = server.get("/api/shows")

The server's port is chosen before the test seeds anything and `AZCTL_PUBLIC_URL` of this process
is set to it (`public_url`), so links and QR codes made here point at the server, as the server's
own do. The server shares this process's data dir and `AZCTL_SECRET_KEY`, so a token made here is
one the server knows. It is stopped (SIGTERM, then SIGKILL) when the test ends.

    def test_a_page(site, browser_context):
        page = browser_context(screen=PHONE, language="it").new_page()
        site.open(page, f"/confirm/{site.book().confirm_token}")

`site` is a server on a seeded SQLite database (tests/e2e/pages.py); `browser_context` makes
contexts of one Chromium launched per test module (`chromium_browser`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlencode

import gunicorn.config
import pytest

from azctl.http import forgery
from azctl.settings import get_settings, reload_settings
from tests.http.helpers import form_token_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext
    from sqlmodel import Session

    from azctl.models import Performance
    from tests.e2e.pages import Site

STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
# gunicorn >= 27 opens a control socket in ~/.gunicorn unless told not to: nothing outside tmp.
_NO_CONTROL_SOCKET = (
    ["--no-control-socket"]
    if any(setting.name == "control_socket_disable" for setting in gunicorn.config.KNOWN_SETTINGS)
    else []
)
# Straight to 127.0.0.1, whatever proxy the environment names.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Message  # case-insensitive: headers["retry-after"] == headers["Retry-After"]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class LiveServer:
    """A running `gunicorn 'azctl.http.app:get_app()'` and what it was started with."""

    base_url: str
    port: int
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(repr=False, default=None)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log(self) -> str:
        """What gunicorn and the app have written so far (access log included)."""
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> HttpAnswer:
        """One request, redirects followed as a browser would (a 303 ends on its target);
        an HTTP error status is an answer, not an exception."""
        request = urllib.request.Request(
            self.url(path), data=body, headers=dict(headers or {}), method=method
        )
        try:
            with _opener.open(request, timeout=timeout) as response:
                return HttpAnswer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return HttpAnswer(error.code, error.headers, error.read())

    def get(
        self, path: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0
    ) -> HttpAnswer:
        return self.request("GET", path, headers=headers, timeout=timeout)

    def post_form(
        self,
        path: str,
        fields: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> HttpAnswer:
        """POSTs the form of the page at `path` as a browser does: GETs the page, then sends
        `fields` with its anti-forgery token and the cookie it set (redirects followed)."""
        shown = self.get(path, headers=headers, timeout=timeout)
        jar = SimpleCookie()
        for header in shown.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        token = form_token_in(shown.text)
        assert forgery.COOKIE in jar and token, f"{path} has no form: {shown.status}"
        return self.request(
            "POST",
            path,
            body=urlencode({**(fields or {}), forgery.FIELD: token}).encode(),
            headers={
                **(headers or {}),
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{forgery.COOKIE}={jar[forgery.COOKIE].value}",
            },
            timeout=timeout,
        )

    def stop(self) -> None:
        """SIGTERM, a wait for gunicorn to stop its workers and exit, else SIGKILL to all of
        them (they share the process group it was started in); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout=STOP_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the group the server was started in: its own session, gunicorn and its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for this test's server."""
    return _unused_port()


@pytest.fixture
def public_url(server_port: int, monkeypatch: pytest.MonkeyPatch) -> str:
    """`http://127.0.0.1:PORT` of this test's server, also this process's AZCTL_PUBLIC_URL."""
    url = f"http://127.0.0.1:{server_port}"
    monkeypatch.setenv("AZCTL_PUBLIC_URL", url)
    reload_settings()
    return url


@pytest.fixture
def gunicorn_server(
    server_port: int, public_url: str, tmp_path: Path
) -> Iterator[Callable[..., LiveServer]]:
    """Starts the endpoint under gunicorn and waits until GET /health answers 200.

    Call it after seeding: `gunicorn_server(database_url=None, extra_env=None, workers=1,
    gunicorn_args=(), startup_timeout=30.0) -> LiveServer`. `database_url` defaults to this
    process's configured database (the `database_url` fixture's, when the test uses it);
    `extra_env` adds to or overrides the server's `AZCTL_*` (e.g. `AZCTL_SMTP_URL`,
    `AZCTL_RATE_LIMIT`). One server at a time (the port and public URL are the test's), but a
    stopped one may be followed by another on the same port, e.g. to show nothing was lost.
    """
    started: list[LiveServer] = []

    def start(
        *,
        database_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        workers: int = 1,
        gunicorn_args: Sequence[str] = (),
        startup_timeout: float = STARTUP_SECONDS,
    ) -> LiveServer:
        assert all(server.process.poll() is not None for server in started), (
            "one server at a time: it owns the test's port and public URL; stop() the last one"
        )
        settings = get_settings()
        url = database_url or settings.effective_database_url
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.update(
            {
                "AZCTL_DATA_DIR": str(settings.data_dir),
                "AZCTL_DATABASE_URL": url,
                "AZCTL_PUBLIC_URL": public_url,
                **({"AZCTL_SECRET_KEY": settings.secret_key} if settings.secret_key else {}),
                **(extra_env or {}),
            }
        )
        log_path = tmp_path / f"gunicorn-{len(started) + 1}.log"
        log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "azctl.http.app:get_app()",
            "--bind",
            f"127.0.0.1:{server_port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--graceful-timeout",
            "5",
            *_NO_CONTROL_SOCKET,
            *gunicorn_args,
        ]
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = LiveServer(
            base_url=public_url,
            port=server_port,
            database_url=url,
            env=env,
            process=process,
            log_path=log_path,
            _log=log,
        )
        started.append(server)
        _wait_until_healthy(server, startup_timeout)
        return server

    yield start
    for server in started:
        server.stop()


def _wait_until_healthy(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {server.process.returncode} before answering:\n"
                + server.log()
            )
        try:
            answer = server.get("/health", timeout=1.0)
        except OSError as error:  # refused while gunicorn binds and boots its worker
            last = repr(error)
        else:
            if answer.status == 200:
                return
            last = f"{answer.status} {answer.text[:200]}"
        # The pause between tries, cut short if gunicorn dies meanwhile.
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.05)
    server.stop()
    pytest.fail(f"gunicorn did not answer GET /health in {timeout}s ({last}):\n{server.log()}")


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once for the whole test module (skipped, or failed
    under CI=true, when it is missing); each test makes its own contexts in it."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import browser

    browser.chromium_executable()  # skip or fail before starting Playwright's driver
    with sync_playwright() as playwright:
        launched = browser.launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser_context(chromium_browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """`browser_context(screen=, language=, javascript=, dark=, reduced_motion=, bypass_csp=)`:
    a fresh context (a new visitor: no cookies) as `browser.new_context` makes it; all of them
    are closed when the test ends."""
    from tests.e2e import browser

    made: list[BrowserContext] = []

    def make(**settings: object) -> BrowserContext:
        context = browser.new_context(chromium_browser, **settings)  # type: ignore[arg-type]
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def site(
    session: Session,
    make_performance: Callable[..., Performance],
    gunicorn_server: Callable[..., LiveServer],
) -> Site:
    """A server on a database with a show on sale, ready for a browser (tests/e2e/pages.py)."""
    from tests.e2e.pages import Site

    return Site.start(session, make_performance, gunicorn_server)
