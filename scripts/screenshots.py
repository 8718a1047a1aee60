"""The README's screenshots of the visitor's pages, taken from a real server.

    python scripts/screenshots.py [--out docs/screenshots] [--language it]

Needs the test extra (Playwright) and Debian's chromium. Loads the demo season (what `azctl
demo` loads) into a throwaway SQLite database, serves it with gunicorn as "Teatro AzioneLab",
and has headless Chromium take full-page screenshots of the season, a show, the booking form
refused for a mistyped email, and a ticket, each on a phone (375 px) and a desktop (1280 px):
docs/screenshots/<page>-<phone|desktop>.png. A page the app does not serve (yet) is skipped
with a message; the rest are still taken. Everything it made but the screenshots is removed
when it exits; it exits 1 if it took none.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # azctl and tests.e2e.browser from this checkout

from playwright.sync_api import Page, sync_playwright  # noqa: E402

THEATRE = {
    "AZCTL_THEATRE_NAME": "Teatro AzioneLab",
    "AZCTL_THEATRE_URL": "https://example.org/azionelab",
    "AZCTL_PRIVACY_URL": "https://example.org/azionelab/privacy",
}
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Shot:
    name: str
    width: int
    height: int
    scale: float
    mobile: bool


SCREENS = (Shot("phone", 375, 812, 2, True), Shot("desktop", 1280, 800, 1, False))
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to 127.0.0.1


@dataclass(frozen=True)
class Demo:
    ticket_token: str
    show_slug: str
    performance_id: int  # a later performance of that show, all its seats still free


def _seed(env: dict[str, str]) -> Demo:
    """Migrate the throwaway database and load the demo season, as `azctl demo` does."""
    os.environ.update(env)
    from sqlmodel import col, select

    from azctl import db
    from azctl.models import Performance, Show
    from azctl.services import demo
    from azctl.settings import reload_settings

    reload_settings()
    engine = db.get_engine()
    db.migrate(engine)
    with db.session_scope(engine) as session:
        report = demo.load_demo(session)
        show_slug = demo.DEMO_SHOWS[0]
        later = session.exec(
            select(Performance.id)
            .join(Show)
            .where(Show.slug == show_slug, Performance.id != report.tonight_id)
            .order_by(col(Performance.starts_at))
        ).first()
    engine.dispose()
    assert report.ticket_token and later is not None, report
    return Demo(ticket_token=report.ticket_token, show_slug=show_slug, performance_id=later)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(url: str) -> int:
    try:
        with _opener.open(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


@contextlib.contextmanager
def _server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """gunicorn serving the app on `port` until the block ends (SIGTERM, then SIGKILL)."""
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "azctl.http.app:get_app()"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--error-logfile", "-"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    sys.exit(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
                with contextlib.suppress(OSError):
                    if _status(f"{base}/health") == 200:
                        break
                if time.monotonic() > deadline:
                    sys.exit(f"gunicorn did not answer in {STARTUP_SECONDS}s:\n{log.read_text()}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_SECONDS)


class Skipped(Exception):
    """The page is not there (yet): say so and go on with the others."""


def _open(page: Page, url: str) -> None:
    answer = page.goto(url)
    status = answer.status if answer else "no answer"
    if status != 200:
        raise Skipped(f"{url} answered {status}")


def _refused_booking(page: Page, base: str, demo: Demo) -> None:
    """The booking form sent with a mistyped email: the message by the field, values kept.

    The browser's own check of `type=email` is turned off first, so the server's answer is
    what the screenshot shows (as for a browser that has none).
    """
    _open(page, f"{base}/book/{demo.performance_id}")
    fields = {"name": "Giulia Bianchi", "email": "giulia.bianchi@", "party_size": "2"}
    for field, value in fields.items():
        if page.locator(f"form [name={field}]").count() != 1:
            raise Skipped(f"the booking form has no field {field!r}")
        page.fill(f"form [name={field}]", value)
    consent = page.locator("form [name=consent]")
    if consent.count() == 1:
        consent.check()
    page.evaluate("() => document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()


def _visits(demo: Demo) -> dict[str, Callable[[Page, str], None]]:
    return {
        "season": lambda page, base: _open(page, f"{base}/"),
        "show": lambda page, base: _open(page, f"{base}/shows/{demo.show_slug}"),
        "booking": lambda page, base: _refused_booking(page, base, demo),
        "ticket": lambda page, base: _open(page, f"{base}/t/{demo.ticket_token}"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", default="it", help="the visitor's browser language")
    args = parser.parse_args()

    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    for name in [name for name in os.environ if name.startswith("AZCTL_")]:
        del os.environ[name]  # this machine's own settings are not the demo's
    args.out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="azctl-screenshots-") as scratch:
        port = _free_port()
        env = {
            **THEATRE,
            "AZCTL_DATA_DIR": scratch,
            "AZCTL_DATABASE_URL": f"sqlite:///{scratch}/azctl.db",
            "AZCTL_SECRET_KEY": secrets.token_urlsafe(32),
            "AZCTL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AZCTL_RATE_LIMIT": "off",
        }
        demo = _seed(env)
        with _server(env, port, Path(scratch) / "gunicorn.log") as base, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for name, visit in _visits(demo).items():
                for screen in SCREENS:
                    context = browser.new_context(
                        viewport={"width": screen.width, "height": screen.height},
                        device_scale_factor=screen.scale,
                        is_mobile=screen.mobile,
                        has_touch=screen.mobile,
                        locale=args.language,
                        extra_http_headers={"Accept-Language": args.language},
                    )
                    context.set_default_timeout(15_000)
                    try:
                        page = context.new_page()
                        visit(page, base)
                        path = args.out / f"{name}-{screen.name}.png"
                        page.screenshot(path=str(path), full_page=True)
                        taken.append(path)
                        print(f"took {path}")
                    except Skipped as skipped:
                        print(f"skipped {name} ({screen.name}): {skipped}")
                    finally:
                        context.close()
            browser.close()
    print(f"{len(taken)} screenshots in {args.out}")
    return 0 if taken else 1


if __name__ == "__main__":
    sys.exit(main())
