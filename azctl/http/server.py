"""`azctl serve`: the app under gunicorn, and optionally the worker (DESIGN §9) beside it.

The worker runs as its own process (`azctl worker`) in gunicorn's process group, started when
gunicorn is ready and stopped with it: a thread in gunicorn's arbiter would be copied, mid-lock,
into every worker it forks.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import falcon
from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from azctl import db
from azctl.http.app import create_app, get_app
from azctl.settings import Settings, get_settings


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running the app `load` returns in each worker (azctl's own, unless told)."""

    def __init__(
        self,
        options: dict[str, Any],
        *,
        with_worker: bool,
        load: Callable[[], falcon.App] = get_app,
    ) -> None:
        self.options = options
        self.with_worker = with_worker
        self.load_app = load
        self.worker: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.with_worker:
            self.cfg.set("when_ready", self._start_worker)
            self.cfg.set("on_exit", self._stop_worker)

    def load(self) -> falcon.App:
        return self.load_app()

    def _start_worker(self, _arbiter: Any) -> None:
        self.worker = subprocess.Popen([sys.executable, "-m", "azctl", "worker"])

    def _stop_worker(self, _arbiter: Any) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)  # it finishes the work in hand, then exits
            try:
                self.worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout=10)


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


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _same_host(bind_host: str, public_host: str | None) -> bool:
    return bind_host == public_host or {bind_host, public_host} <= _LOOPBACK


def public_url_warning(*, bind: str, settings: Settings) -> str | None:
    """A warning when `AZCTL_PUBLIC_URL` is left at its default but the server listens elsewhere.

    Every link in mail and every QR code is built from the public URL, so they would lead to
    an address this server does not answer. (Redirects after a POST are paths, and keep working.)
    """
    if "public_url" in settings.model_fields_set:
        return None
    public = urlsplit(settings.public_url)
    host, _colon, port = bind.rpartition(":")
    if _same_host(host.strip("[]"), public.hostname) and port == str(public.port):
        return None
    return (
        f"Warning: AZCTL_PUBLIC_URL is not set, so links in mail and QR codes lead to"
        f" {settings.public_url}, not to --bind {bind}; set it to the address visitors use."
    )


def serve(*, bind: str, workers: int, with_worker: bool) -> None:
    """Check the database and settings once, here, so a mistake is one clear line, not a
    traceback from every worker; then hand over to gunicorn."""
    settings = get_settings()
    create_app(engine=db.get_engine(), settings=settings)
    warning = public_url_warning(bind=bind, settings=settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    db.dispose_engines()  # no connection may be shared with the forked workers
    Server(gunicorn_options(bind=bind, workers=workers), with_worker=with_worker).run()
