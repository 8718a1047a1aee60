"""`azctl serve`: the app under gunicorn, and optionally a mail sender beside it.

The mail sender runs as its own process (`azctl mail send --watch`) in gunicorn's process group,
started when gunicorn is ready and stopped with it: a thread in gunicorn's arbiter would be
copied, mid-lock, into every worker it forks.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import falcon
from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from azctl import db
from azctl.http.app import create_app, get_app
from azctl.settings import get_settings


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running the app `load` returns in each worker (azctl's own, unless told)."""

    def __init__(
        self,
        options: dict[str, Any],
        *,
        with_mailer: bool,
        load: Callable[[], falcon.App] = get_app,
    ) -> None:
        self.options = options
        self.with_mailer = with_mailer
        self.load_app = load
        self.mailer: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.with_mailer:
            self.cfg.set("when_ready", self._start_mailer)
            self.cfg.set("on_exit", self._stop_mailer)

    def load(self) -> falcon.App:
        return self.load_app()

    def _start_mailer(self, _arbiter: Any) -> None:
        self.mailer = subprocess.Popen([sys.executable, "-m", "azctl", "mail", "send", "--watch"])

    def _stop_mailer(self, _arbiter: Any) -> None:
        if self.mailer is not None and self.mailer.poll() is None:
            self.mailer.send_signal(signal.SIGTERM)  # it finishes the message in hand, then exits
            try:
                self.mailer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.mailer.kill()


def gunicorn_options(*, bind: str, workers: int) -> dict[str, Any]:
    """How `azctl serve` runs gunicorn; the benchmarks' bare app is served the same way."""
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "azctl",
        "timeout": 30,
        "graceful_timeout": 10,
    }
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        options["control_socket_disable"] = True  # gunicorn >= 27: no socket in ~/.gunicorn
    return options


def serve(*, bind: str, workers: int, with_mailer: bool) -> None:
    """Check the database and settings once, here, so a mistake is one clear line, not a
    traceback from every worker; then hand over to gunicorn."""
    create_app(engine=db.get_engine(), settings=get_settings())
    db.dispose_engines()  # no connection may be shared with the forked workers
    Server(gunicorn_options(bind=bind, workers=workers), with_mailer=with_mailer).run()
