"""Visitors browsing: requests per second of the public listing, one performance's seats, and the
visitor's season and show pages.

A season of 8 published shows with 6 performances each (one unpublished show beside them), some
seats confirmed, behind a real `azctl serve` on 127.0.0.1; 16 clients send `GET /api/shows`, then
`GET /api/performances/{id}` over every performance, then the season page `GET /`, then
`GET /shows/{slug}` over every show, as fast as they are answered. The yardstick is a bare Falcon
app answering one constant body, the very bytes of our listing (and, for the pages, of our season
page), served by gunicorn with the same options: the same bytes travel, so the ratio is the app's
own cost.

    python benchmarks/browse.py --database-url postgresql+psycopg://USER@HOST/DB [--quick]

Checks: the listing and the season page hold exactly the published shows; every performance
answer shows the seats the database has left; every show page names its show; every answer under
load is 200 and the same as before the load.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import harness

from azctl import db
from azctl.services import booking, catalog, times

FULL = {"requests": 4000, "clients": 16}
QUICK = {"requests": 200, "clients": 4}
SHOWS, PERFORMANCES, SEATS = 8, 6, 120


def season() -> dict[int, int]:
    """Published shows with upcoming performances, some seats sold; performance id → seats left."""
    start = times.now_utc().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    left: dict[int, int] = {}
    with db.session_scope() as session:
        catalog.add_venue(session, name="Teatro Grande", city="Brescia", slug="grande")
        catalog.add_show(session, title="Prova generale", slug="prova", publish=False)
        for number in range(SHOWS):
            slug = f"show-{number}"
            catalog.add_show(
                session,
                title=f"Show {number}",
                slug=slug,
                summary="A comedy in three acts.",
                publish=True,
            )
            for day in range(PERFORMANCES):
                performance = catalog.add_performance(
                    session,
                    show_slug=slug,
                    venue_slug="grande",
                    starts_at=start + timedelta(days=day, hours=number),
                    room_capacity=SEATS,
                )
                assert performance.id is not None
                sold = 0
                for visitor in range(day % 3):
                    submitted = booking.submit_booking(
                        session,
                        performance_id=performance.id,
                        name=f"Visitor {visitor}",
                        email=f"visitor{visitor}@example.org",
                        party_size=2,
                    )
                    booking.confirm_booking(session, token=submitted.confirm_token)
                    sold += 2
                left[performance.id] = SEATS - sold
    return left


def hammer(server: harness.Server, paths: list[str], clients: int) -> tuple[float, list[str]]:
    """`clients` threads GET the paths in turn: requests per second, and what went wrong.

    Nothing changes during a run, so each path's first answer (checked before) is what every
    later one must be, byte for byte: a check that costs the client no more for us than for the
    yardstick.
    """
    lock = threading.Lock()
    pending = iter(paths)
    first: dict[str, bytes] = {}
    wrong: list[str] = []

    def client() -> None:
        while True:
            with lock:
                path = next(pending, None)
            if path is None:
                return
            answer = server.request("GET", path)
            with lock:
                expected = first.setdefault(path, answer.body)
                if answer.status != 200 or answer.body != expected:
                    wrong.append(f"{path}: {answer.status} {answer.body[:120]!r}")

    return len(paths) / harness.together([client] * clients), wrong


def check_pages(server: harness.Server) -> list[str]:
    """The season page names every published show and not the unpublished one; each show's page
    names its show."""
    wrong = []
    season_page = server.request("GET", "/")
    for number in range(SHOWS):
        if f"Show {number}".encode() not in season_page.body:
            wrong.append(f"/: Show {number} is missing")
        page = server.request("GET", f"/shows/show-{number}")
        if page.status != 200 or f"Show {number}".encode() not in page.body:
            wrong.append(f"/shows/show-{number}: {page.status}")
    if season_page.status != 200 or b"Prova generale" in season_page.body:
        wrong.append(f"/: {season_page.status}, or it lists the unpublished show")
    return wrong


def check_answers(server: harness.Server, left: dict[int, int]) -> list[str]:
    """The listing holds exactly the published shows, and every performance the seats left."""
    wrong = []
    published = {f"show-{number}" for number in range(SHOWS)}
    shows = server.request("GET", "/api/shows").json()["shows"]
    if {show["slug"] for show in shows} != published:
        wrong.append(f"/api/shows lists {sorted(show['slug'] for show in shows)}")
    for show in shows:
        for performance in show["performances"]:
            if performance["available_seats"] != left[performance["id"]]:
                wrong.append(f"/api/shows: performance {performance['id']} seats wrong")
    for performance_id, seats in left.items():
        answer = server.request("GET", f"/api/performances/{performance_id}")
        if answer.status != 200 or answer.json()["available_seats"] != seats:
            wrong.append(f"/api/performances/{performance_id}: {answer.status} {answer.body!r}")
    return wrong


def bare_rate(
    body: bytes, suffix: str, paths: list[str], workers: int, clients: int
) -> tuple[float, list[str]]:
    """The yardstick's rate over `paths`: the bare app answering `body` to each of them."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as constant:
        constant.write(body)
        constant.flush()
        bare = [sys.executable, str(Path(__file__).with_name("bare_app.py")), "--body"]
        with harness.serving([*bare, constant.name, "--workers", str(workers)]) as server:
            hammer(server, paths[:clients], clients)  # its first answers, as ours had
            return hammer(server, paths, clients)


def main() -> int:
    arguments = harness.arguments(__doc__.splitlines()[0])
    size = QUICK if arguments.quick else FULL
    count, clients = size["requests"], size["clients"]
    listing = ["/api/shows"] * count
    with harness.own_database(arguments.database_url, "browse"):
        left = season()
        db.dispose_engines()
        ids = sorted(left)
        with harness.serving(workers=arguments.workers) as server:
            wrong = check_answers(server, left) + check_pages(server)
            body = server.request("GET", "/api/shows").body
            season_page = server.request("GET", "/").body
            rps_shows, wrong_shows = hammer(server, listing, clients)
            paths = [f"/api/performances/{ids[n % len(ids)]}" for n in range(count)]
            rps_performance, wrong_performance = hammer(server, paths, clients)
            rps_season, wrong_season = hammer(server, ["/"] * count, clients)
            show_pages = [f"/shows/show-{n % SHOWS}" for n in range(count)]
            rps_show_page, wrong_show_page = hammer(server, show_pages, clients)
            rss = server.worker_peak_rss_mb()

    baseline_rps, wrong_bare = bare_rate(body, ".json", listing, arguments.workers, clients)
    baseline_page_rps, wrong_bare_page = bare_rate(
        season_page, ".html", ["/"] * count, arguments.workers, clients
    )
    wrong_pages = wrong_season + wrong_show_page
    for line in (wrong + wrong_shows + wrong_performance + wrong_pages + wrong_bare)[:5]:
        print(line, file=sys.stderr)
    figures = {
        "database": "postgresql",
        "requests": count,
        "clients": clients,
        "workers": arguments.workers,
        "shows": SHOWS,
        "performances": SHOWS * PERFORMANCES,
        "listing_bytes": len(body),
        "rps_shows": round(rps_shows, 1),
        "rps_performance": round(rps_performance, 1),
        "baseline_rps": round(baseline_rps, 1),
        "ratio": round(min(rps_shows, rps_performance) / baseline_rps, 2),
        "season_page_bytes": len(season_page),
        "rps_season_page": round(rps_season, 1),
        "rps_show_page": round(rps_show_page, 1),
        "baseline_page_rps": round(baseline_page_rps, 1),
        "page_ratio": round(min(rps_season, rps_show_page) / baseline_page_rps, 2),
        "worker_peak_rss_mb": rss,
    }
    checks = {
        "the listing and every performance answer the database's seats": not wrong,
        "answers stayed the same under load": not wrong_shows and not wrong_performance,
        "pages stayed the same under load": not wrong_pages,
        "the bare app answered": not wrong_bare and not wrong_bare_page,
    }
    return harness.report("browse", figures, checks)


if __name__ == "__main__":
    harness.run(main)
