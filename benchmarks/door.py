"""A busy door: check-in latency with two doors scanning different tickets of one performance,
and one door screen online, offline and back.

A performance an hour from now (its door open) with confirmed tickets. First two doors scan
through the service (`checkin.scan`, a session each, as two door screens do), then two door
phones scan another batch through `POST /api/checkins` of a real `azctl serve` on 127.0.0.1 with
a staff token. Every scan is a ticket's first: the whole check-in, with its row lock, insert and
scan log. Then a real door screen (door_offline.py) admits a batch online, loses its database (a
TCP proxy between them is cut), admits another batch OFFLINE from its local copy, and uploads its
journal once the proxy is restored: Enter-to-banner times online and offline, and the time from
the database answering again to the journal uploaded.

    python benchmarks/door.py --database-url postgresql+psycopg://USER@HOST/DB [--quick]

Checks: every first scan admits; a second scan of each ticket is refused as already checked in;
one check-in row per ticket and one scan log row per scan; the seats checked in are the seats the
tickets are for. The door screen's every scan shows ADMIT (with OFFLINE while offline), every
offline admission is journalled, and is recorded once, as an offline check-in, none forced.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

import door_offline
import harness
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from azctl import db
from azctl.models import CheckIn, CheckInSource, DoorPass, ScanLog, Staff
from azctl.services import checkin, reports

FULL = {"tickets_per_door": 300, "screen_scans": 300}
QUICK = {"tickets_per_door": 20, "screen_scans": 20}
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
    sizes = QUICK if arguments.quick else FULL
    batch = DOORS * (WARM_UP + sizes["tickets_per_door"])
    screen_batch = WARM_UP + sizes["screen_scans"]
    with harness.own_database(arguments.database_url, "door") as url:
        performance_id, member, api_token, tickets = harness.tonight(2 * batch + 2 * screen_batch)
        seats = sum(party for _token, party in tickets)
        tokens = [token for token, _party in tickets]
        service_tokens, http_tokens = tokens[:batch], tokens[batch : 2 * batch]
        online_tokens, offline_tokens = tokens[2 * batch :][::2], tokens[2 * batch :][1::2]
        service_seconds, service_results = at_once(
            [(door_screen(performance_id, member), batch) for batch in halves(service_tokens)]
        )
        db.dispose_engines()
        with harness.serving(workers=arguments.workers) as server:
            phone = over_http(server, performance_id, api_token)
            http_seconds, http_results = at_once([(phone, b) for b in halves(http_tokens)])
            scanned_twice = tokens[: 2 * batch]
            _seconds, again = at_once([(phone, b) for b in halves(scanned_twice)])
            rss = server.worker_peak_rss_mb()
        screen = door_offline.online_then_offline(
            url, performance_id, member, online_tokens, offline_tokens
        )
        with db.session_scope() as session:
            summary = reports.performance_summary(session, performance_id=performance_id)
            counted = _counts(session, performance_id)

    service = harness.milliseconds(_measured(service_seconds))
    http = harness.milliseconds(_measured(http_seconds))
    online = harness.milliseconds(screen.online_seconds[WARM_UP:])
    offline = harness.milliseconds(screen.offline_seconds[WARM_UP:])
    figures = {
        "database": "postgresql",
        "doors": DOORS,
        "scans_per_door": sizes["tickets_per_door"],
        "workers": arguments.workers,
        "service_p50_ms": service["p50_ms"],
        "service_p99_ms": service["p99_ms"],
        "http_p50_ms": http["p50_ms"],
        "http_p99_ms": http["p99_ms"],
        "worker_peak_rss_mb": rss,
        "screen_scans": sizes["screen_scans"],
        "screen_online_p50_ms": online["p50_ms"],
        "screen_online_p99_ms": online["p99_ms"],
        "screen_offline_p50_ms": offline["p50_ms"],
        "screen_offline_p99_ms": offline["p99_ms"],
        "journalled": screen.journalled,
        "uploaded": counted["offline_check_ins"],
        "upload_ms": round(screen.upload_seconds * 1000, 1),
        "probe_s": screen.probe_seconds,
    }
    headlines = set(screen.headlines)
    checks = {
        "every first scan admits": set(service_results) == {"ok"} and set(http_results) == {"ok"},
        "every second scan is already checked in": set(again) == {"already_checked_in"},
        "one check-in per ticket, for its seats": counted["check_ins"] == len(tickets)
        and summary.seats.checked_in_seats == seats,
        "one scan log row per scan": counted["scan_logs"]
        == 2 * len(scanned_twice) + len(online_tokens) + len(offline_tokens),
        "the door screen admits every scan, OFFLINE while offline": headlines
        <= {"ADMIT 1", "ADMIT 2", "ADMIT 1 · OFFLINE", "ADMIT 2 · OFFLINE"}
        and len(screen.headlines) == len(online_tokens) + len(offline_tokens)
        and not any("OFFLINE" in line for line in screen.headlines[: len(online_tokens)])
        and all("OFFLINE" in line for line in screen.headlines[len(online_tokens) :]),
        "every offline admission journalled": screen.journalled == len(offline_tokens),
        "every offline admission recorded once, none forced": counted["offline_check_ins"]
        == counted["offline_passes"]
        == len(offline_tokens)
        and counted["forced"] == 0,
    }
    return harness.report("door", figures, checks)


def _counts(session: Session, performance_id: int) -> dict[str, int]:
    def count(model: type[SQLModel], *where: Any) -> int:
        wanted = [model.performance_id == performance_id, *where]  # type: ignore[attr-defined]
        return session.exec(select(sa.func.count()).select_from(model).where(*wanted)).one()

    return {
        "check_ins": count(CheckIn),
        "scan_logs": count(ScanLog),
        "offline_check_ins": count(CheckIn, CheckIn.source == CheckInSource.OFFLINE),
        "offline_passes": count(DoorPass, DoorPass.offline),
        "forced": count(DoorPass, DoorPass.forced),
    }


def _measured(seconds: list[float]) -> list[float]:
    return seconds[DOORS * WARM_UP :]


if __name__ == "__main__":
    harness.run(main)
