"""A busy door: check-in latency with two doors scanning different tickets of one performance.

A performance an hour from now (its door open) with confirmed tickets. First two doors scan
through the service (`checkin.scan`, a session each, as two door screens do), then two door
phones scan another batch through `POST /api/checkins` of a real `azctl serve` on 127.0.0.1 with
a staff token. Every scan is a ticket's first: the whole check-in, with its row lock, insert and
scan log.

    python benchmarks/door.py --database-url postgresql+psycopg://USER@HOST/DB [--quick]

Checks: every first scan admits; a second scan of each ticket is refused as already checked in;
one check-in row per ticket and one scan log row per scan; the seats checked in are the seats the
tickets are for.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import harness
import sqlalchemy as sa
from sqlmodel import select

from azctl import db
from azctl.models import CheckIn, ScanLog, Staff
from azctl.services import checkin, reports

FULL = {"tickets_per_door": 300}
QUICK = {"tickets_per_door": 20}
DOORS = 2
WARM_UP = 10


Scanner = Callable[[str], str]


def at_once(doors: list[tuple[Scanner, list[str]]]) -> tuple[list[float], list[str]]:
    """Each door scans its own tickets with its own scanner, all doors at once: the seconds each
    scan took and its result, in the order they finished."""
    seconds: list[float] = []
    results: list[str] = []
    lock = threading.Lock()

    def door(scan_one: Scanner, batch: list[str]) -> None:
        for token in batch:
            began = time.perf_counter()
            result = scan_one(token)
            took = time.perf_counter() - began
            with lock:
                seconds.append(took)
                results.append(result)

    harness.together([functools.partial(door, *pair) for pair in doors])
    return seconds, results


def door_screen(performance_id: int, member: Staff) -> Scanner:
    """What a door screen does on Enter: a scan through the service, on its own session."""
    session = db.new_session()

    def scan_one(token: str) -> str:
        return checkin.scan(
            session, text=token, performance_id=performance_id, staff=member
        ).result.value

    return scan_one


def over_http(server: harness.Server, performance_id: int, api_token: str) -> Callable[[str], str]:
    headers = {"Authorization": f"Bearer {api_token}"}

    def scan_one(token: str) -> str:
        """A door phone's scan; its answer's result or problem code."""
        answer = server.request(
            "POST",
            "/api/checkins",
            {"token": token, "performance_id": performance_id},
            headers=headers,
        )
        body = answer.json()
        return str(body.get("result") or body.get("code") or answer.status)

    return scan_one


def halves(tokens: list[str]) -> list[list[str]]:
    return [tokens[door::DOORS] for door in range(DOORS)]


def main() -> int:
    arguments = harness.arguments(__doc__.splitlines()[0])
    per_door = (QUICK if arguments.quick else FULL)["tickets_per_door"]
    batch = DOORS * (WARM_UP + per_door)
    with harness.own_database(arguments.database_url, "door"):
        performance_id, member, api_token, tickets = harness.tonight(2 * batch)
        seats = sum(party for _token, party in tickets)
        tokens = [token for token, _party in tickets]
        service_tokens, http_tokens = tokens[:batch], tokens[batch:]
        service_seconds, service_results = at_once(
            [(door_screen(performance_id, member), batch) for batch in halves(service_tokens)]
        )
        db.dispose_engines()
        with harness.serving(workers=arguments.workers) as server:
            phone = over_http(server, performance_id, api_token)
            http_seconds, http_results = at_once([(phone, b) for b in halves(http_tokens)])
            _seconds, again = at_once([(phone, b) for b in halves(tokens)])
            rss = server.worker_peak_rss_mb()
        with db.session_scope() as session:
            summary = reports.performance_summary(session, performance_id=performance_id)
            count = sa.func.count()
            check_ins = session.exec(
                select(count).where(CheckIn.performance_id == performance_id)
            ).one()
            scan_logs = session.exec(
                select(count).where(ScanLog.performance_id == performance_id)
            ).one()

    service = harness.milliseconds(_measured(service_seconds))
    http = harness.milliseconds(_measured(http_seconds))
    figures = {
        "database": "postgresql",
        "doors": DOORS,
        "scans_per_door": per_door,
        "workers": arguments.workers,
        "service_p50_ms": service["p50_ms"],
        "service_p99_ms": service["p99_ms"],
        "http_p50_ms": http["p50_ms"],
        "http_p99_ms": http["p99_ms"],
        "worker_peak_rss_mb": rss,
    }
    checks = {
        "every first scan admits": set(service_results) == {"ok"} and set(http_results) == {"ok"},
        "every second scan is already checked in": set(again) == {"already_checked_in"},
        "one check-in per ticket, for its seats": check_ins == len(tickets)
        and summary.seats.checked_in_seats == seats,
        "one scan log row per scan": scan_logs == 2 * len(tickets),
    }
    return harness.report("door", figures, checks)


def _measured(seconds: list[float]) -> list[float]:
    return seconds[DOORS * WARM_UP :]


if __name__ == "__main__":
    harness.run(main)
