"""What every benchmark shares: its command line, a database of its own, a real `azctl serve`,
an HTTP client that goes straight to 127.0.0.1, percentiles, and the one JSON line it prints.

The benchmark scripts import this as `harness` (Python puts the script's own folder on the path).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from azctl import db
from azctl.models import Staff
from azctl.services import booking, catalog, staff, times
from azctl.settings import reload_settings

STARTUP_SECONDS = 60.0
DEFAULT_WORKERS = (os.cpu_count() or 1) + 1  # best of 2, 3, 4 and 5 in the rush on 2 cores


class CheckFailed(Exception):
    """A correctness check inside a benchmark failed: the run exits non-zero."""


def arguments(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """`--database-url URL [--quick] [--workers N]`, the URL defaulting to AZCTL_DATABASE_URL,
    and any options of a benchmark's own that `extra` adds to the parser."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AZCTL_DATABASE_URL"),
        help="a PostgreSQL URL (default: AZCTL_DATABASE_URL)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small run: the correctness checks, not figures"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="gunicorn workers (default: one per CPU, plus 1)",
    )
    if extra is not None:
        extra(parser)
    parsed = parser.parse_args()
    if not parsed.database_url or not parsed.database_url.startswith("postgresql"):
        parser.error("a PostgreSQL --database-url (or AZCTL_DATABASE_URL) is required")
    return parsed


@contextmanager
def own_database(url: str | None, name: str) -> Iterator[str]:
    """A fresh, migrated database for the run. On PostgreSQL a schema `azctl_bench_NAME` in the
    database at `url`, dropped at the end, so any database the user may write to will do;
    otherwise (no URL, or SQLite) a throwaway SQLite file. Yields the URL that selects it, also
    set as AZCTL_DATABASE_URL with a scratch AZCTL_DATA_DIR, for this process and its servers."""
    schema = f"azctl_bench_{name}"
    postgres = bool(url) and not str(url).startswith("sqlite")
    admin = db.create_engine(str(url)) if postgres else None
    with tempfile.TemporaryDirectory(prefix="azctl-bench-") as scratch:
        try:
            if admin is not None:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                    connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
                selected = (
                    sa.make_url(str(url))
                    .update_query_dict({"options": f"-csearch_path={schema}"})
                    .render_as_string(hide_password=False)
                )
            else:
                selected = f"sqlite:///{Path(scratch) / 'bench.db'}"
            os.environ["AZCTL_DATA_DIR"] = scratch
            os.environ["AZCTL_DATABASE_URL"] = selected
            os.environ.setdefault("AZCTL_SECRET_KEY", "azctl-benchmark-" + "k" * 32)
            os.environ["AZCTL_RATE_LIMIT"] = "off"  # the benchmark's clients share one address
            reload_settings()
            migrating = db.create_engine(selected)
            db.migrate(migrating)
            migrating.dispose()
            yield selected
        finally:
            db.dispose_engines()
            if admin is not None:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                admin.dispose()


def analyze() -> None:
    """Give the planner the statistics autovacuum would have gathered by the time a real
    database had this much data: a benchmark's tables are minutes old."""
    with db.get_engine().connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    db.dispose_engines()  # nothing pooled is shared with a server started after this


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as plain psycopg takes it (the schema option kept)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def new_performance(*, capacity: int, slug: str) -> int:
    """A published show with one performance tomorrow, `capacity` seats; returns its id."""
    with db.session_scope() as session:
        catalog.add_venue(session, name=f"Teatro {slug}", city="Milano", slug=slug)
        catalog.add_show(session, title=f"Show {slug}", slug=slug, publish=True)
        performance = catalog.add_performance(
            session,
            show_slug=slug,
            venue_slug=slug,
            starts_at=times.now_utc().replace(second=0, microsecond=0) + timedelta(days=1),
            room_capacity=capacity,
        )
        assert performance.id is not None
        return performance.id


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    """A gunicorn on 127.0.0.1 in a process group of its own; requests open a new connection
    each, as gunicorn's sync workers close every one after answering."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _peak_rss_kb: dict[int, int] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Answer:
        payload = None if body is None else json.dumps(body).encode()
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return Answer(response.status, data, time.perf_counter() - started)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def note_worker_memory(self) -> None:
        """Remember each worker's high-water resident size (VmHWM), before workers go away."""
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        kb = int(line.split()[1])
                        self._peak_rss_kb[pid] = max(kb, self._peak_rss_kb.get(pid, 0))

    def worker_peak_rss_mb(self) -> float:
        self.note_worker_memory()
        return round(max(self._peak_rss_kb.values(), default=0) / 1024, 1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)  # SIGKILL cannot be refused: this returns


@contextmanager
def serving(
    command: Sequence[str] | None = None, *, workers: int = DEFAULT_WORKERS
) -> Iterator[Server]:
    """`azctl serve` (or another gunicorn `command`, given the port) on a free port of
    127.0.0.1, its access and error log in a scratch file, as in production; waits for /health."""
    port = _unused_port()
    if command is None:
        command = [sys.executable, "-m", "azctl", "serve", "--workers", str(workers)]
    command = [*command, "--bind", f"127.0.0.1:{port}"]
    with tempfile.NamedTemporaryFile(prefix="azctl-bench-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process=process, port=port, log_path=log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.note_worker_memory()
        server.stop()
        log_path.unlink(missing_ok=True)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise CheckFailed(f"the server exited at start:\n{server.log_path.read_text()}")
        with contextlib.suppress(OSError):
            if server.request("GET", "/health", timeout=2).status == 200 and len(
                server.worker_pids()
            ):
                return
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.05)
    raise CheckFailed(f"the server did not answer in {STARTUP_SECONDS}s")


def together(clients: Sequence[Callable[[], None]]) -> float:
    """Run each client in a thread of its own, all released at once: the wall seconds until the
    last one is done."""
    start = threading.Barrier(len(clients) + 1)

    def released(client: Callable[[], None]) -> None:
        start.wait()
        client()

    threads = [threading.Thread(target=released, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def tonight(tickets: int) -> tuple[int, Staff, str, list[tuple[str, int]]]:
    """A performance an hour from now (its door open), its door keeper and their API token, and
    `tickets` confirmed tickets of 1 or 2 seats: each one's check-in token and seats."""
    with db.session_scope() as session:
        catalog.add_venue(session, name="Teatro Studio", city="Milano", slug="studio")
        catalog.add_show(session, title="La Locandiera", slug="locandiera", publish=True)
        performance = catalog.add_performance(
            session,
            show_slug="locandiera",
            venue_slug="studio",
            starts_at=times.now_utc().replace(second=0, microsecond=0) + timedelta(hours=1),
            room_capacity=tickets * 2,
        )
        assert performance.id is not None
        member, api_token = staff.add_staff(session, username="door", role="box_office")
        made = []
        for number in range(tickets):
            submitted = booking.submit_booking(
                session,
                performance_id=performance.id,
                name=f"Visitor {number}",
                email=f"visitor{number}@example.org",
                party_size=1 + number % 2,
            )
            confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
            made.append((confirmed.ticket_token, submitted.reservation.party_size))
        return performance.id, member, api_token, made


def milliseconds(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of durations, in milliseconds."""
    values = sorted(seconds)
    if len(values) < 2:
        only = values[0] * 1000 if values else 0.0
        return {"p50_ms": round(only, 2), "p99_ms": round(only, 2)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


def report(name: str, figures: dict[str, Any], checks: dict[str, bool]) -> int:
    """Print the run's one JSON line, last; 1 if a correctness check failed, else 0."""
    failed = sorted(check for check, held in checks.items() if not held)
    for check in failed:
        print(f"check failed: {check}", file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": name,
                **figures,
                "checks_failed": failed,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            }
        ),
        flush=True,
    )
    return 1 if failed else 0


def run(main: Callable[[], int]) -> None:
    """The exit status of `main`; a failed check is one line on stderr and exit 1."""
    try:
        status = main()
    except CheckFailed as failure:
        print(f"check failed: {failure}", file=sys.stderr)
        status = 1
    sys.exit(status)
