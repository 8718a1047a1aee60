"""Scan-to-banner time at the door: how long from a scanner's Enter to the answer on screen.

Drives the real door app (Textual's headless pilot, at 80x24): each ticket's token is typed key
by key as a USB scanner types it, then Enter; the clock runs from the Enter key event to the
first screen refresh that shows the answer's banner. Every scan is a first scan of a confirmed
ticket, so each one is admitted: the full check-in, with its row lock, insert and scan log.

    python benchmarks/door_scan.py [DATABASE_URL] [--scans 500]

The URL defaults to AZCTL_DATABASE_URL, and without either to a throwaway SQLite file. On
PostgreSQL the data goes into a schema of its own, `azctl_bench_door_scan` (dropped and made anew,
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
import time
from collections import Counter
from datetime import datetime

import harness
import sqlalchemy as sa
import textual
from textual import events

from azctl.models import Staff
from azctl.services import checkin
from azctl.tui.app import DoorApp
from azctl.tui.banner import ResultBanner

WARM_UP_SCANS = 10
ANSWER_TIMEOUT_SECONDS = 30.0


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
    with harness.own_database(arguments.url, "door_scan") as url:
        performance_id, member, _api_token, tickets = harness.tonight(
            WARM_UP_SCANS + arguments.scans
        )
        tokens = [token for token, _seats in tickets]
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
