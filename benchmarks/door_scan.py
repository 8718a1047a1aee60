"""Scan-to-banner time at the door: how long from a scanner's Enter to the answer on screen.

Drives the real door app (Textual's headless pilot, at 80x24): each ticket's token is typed key
by key as a USB scanner types it, then Enter; the clock runs from the Enter key event to the
first screen refresh that shows the answer's banner. Every scan is a first scan of a confirmed
ticket, so each one is admitted: the full check-in, with its row lock, insert and scan log.

    python benchmarks/door_scan.py [DATABASE_URL] [--scans 500]

The URL defaults to AZCTL_DATABASE_URL, and without either to a throwaway SQLite file. On
PostgreSQL the data goes into a schema of its own, `azctl_bench_door` (dropped and made anew,
and dropped again at the end), so any database the user may write to will do. Prints one JSON
line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import textual
from textual import events

from azctl import db
from azctl.models import Staff
from azctl.services import booking, catalog, checkin, staff, times
from azctl.settings import reload_settings
from azctl.tui.app import DoorApp
from azctl.tui.banner import ResultBanner

SCHEMA = "azctl_bench_door"
WARM_UP_SCANS = 10
ANSWER_TIMEOUT_SECONDS = 30.0


@contextmanager
def own_database(url: str | None) -> Iterator[str]:
    """A fresh, migrated database for the run: a schema of its own on PostgreSQL, a temporary
    file otherwise. AZCTL_DATABASE_URL points the app at it."""
    with tempfile.TemporaryDirectory(prefix="azctl-bench-") as scratch:
        os.environ["AZCTL_DATA_DIR"] = scratch
        if url is None or url.startswith("sqlite"):
            url = f"sqlite:///{Path(scratch) / 'bench.db'}"
            admin = None
        else:
            admin = db.create_engine(url)
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
                connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
            url = (
                sa.make_url(url)
                .update_query_dict({"options": f"-csearch_path={SCHEMA}"})
                .render_as_string(hide_password=False)
            )
        os.environ["AZCTL_DATABASE_URL"] = url
        reload_settings()
        migrating = db.create_engine(url)
        try:
            db.migrate(migrating)
            migrating.dispose()
            yield url
        finally:
            db.dispose_engines()
            if admin is not None:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
                admin.dispose()


def tonight_with_tickets(count: int) -> tuple[int, Staff, list[str]]:
    """A performance an hour from now, its door keeper, and `count` confirmed tickets' tokens."""
    with db.session_scope() as session:
        catalog.add_venue(session, name="Teatro Studio", city="Milano", slug="studio")
        catalog.add_show(session, title="La Locandiera", slug="locandiera", publish=True)
        performance = catalog.add_performance(
            session,
            show_slug="locandiera",
            venue_slug="studio",
            starts_at=times.now_utc().replace(second=0, microsecond=0) + timedelta(hours=1),
            room_capacity=count * 2,
        )
        assert performance.id is not None
        member, _token = staff.add_staff(session, username="door", role="box_office")
        tokens = []
        for number in range(count):
            submitted = booking.submit_booking(
                session,
                performance_id=performance.id,
                name=f"Visitor {number}",
                email=f"visitor{number}@example.org",
                party_size=1 + number % 2,
            )
            confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
            tokens.append(confirmed.ticket_token)
        return performance.id, member, tokens


async def time_scans(performance_id: int, member: Staff, tokens: list[str]) -> dict[str, object]:
    """Scan every token at the door; the seconds from each Enter to its banner on screen."""
    answered = asyncio.Event()
    shown_at: list[float] = []
    results: Counter[str] = Counter()
    show_outcome = ResultBanner.show_outcome

    def timed_show_outcome(
        banner: ResultBanner, outcome: checkin.ScanOutcome, at: datetime
    ) -> None:
        show_outcome(banner, outcome, at)
        results[outcome.result.value] += 1

        def painted() -> None:
            shown_at.append(time.perf_counter())
            answered.set()

        banner.call_after_refresh(painted)

    ResultBanner.show_outcome = timed_show_outcome  # type: ignore[method-assign]
    app = DoorApp(performance_id=performance_id, staff=member)
    elapsed: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.screen.query(ResultBanner):
            await pilot.pause()
        for token in tokens:
            for character in token:
                app.post_message(events.Key(character, character))
            await pilot.pause()
            answered.clear()
            pressed_at = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))
            await asyncio.wait_for(answered.wait(), ANSWER_TIMEOUT_SECONDS)
            elapsed.append(shown_at[-1] - pressed_at)
    ResultBanner.show_outcome = show_outcome  # type: ignore[method-assign]
    return {"elapsed": elapsed, "results": dict(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("AZCTL_DATABASE_URL"))
    parser.add_argument("--scans", type=int, default=500)
    arguments = parser.parse_args()
    with own_database(arguments.url) as url:
        performance_id, member, tokens = tonight_with_tickets(WARM_UP_SCANS + arguments.scans)
        timed = asyncio.run(time_scans(performance_id, member, tokens))
    measured = [seconds * 1000 for seconds in timed["elapsed"][WARM_UP_SCANS:]]  # type: ignore[index]
    print(
        json.dumps(
            {
                "benchmark": "door_scan",
                "database": sa.make_url(url).get_backend_name(),
                "scans": len(measured),
                "median_ms": round(statistics.median(measured), 2),
                "p99_ms": round(statistics.quantiles(measured, n=100, method="inclusive")[98], 2),
                "mean_ms": round(statistics.fmean(measured), 2),
                "max_ms": round(max(measured), 2),
                "results": timed["results"],
                "python": platform.python_version(),
                "textual": textual.__version__,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
