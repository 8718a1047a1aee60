"""Two doors losing their database in the middle of a scanner's burst, and a door closed while
offline and opened again (DESIGN §10), end to end: the doors reach PostgreSQL through a TCP proxy
the test cuts and restores, the way a network goes away, while the test reads the database
directly. PostgreSQL only: a SQLite file opened inside this process has no connection to cut."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import col, select
from textual.app import App
from textual.widgets import Static

from azctl import db
from azctl.models import CheckIn, DoorPass, Staff
from azctl.services import door_copy, door_counts, tokens
from azctl.services.checkin_outcome import ScanResult
from tests.tcp_proxy import TcpProxy
from tests.tui.helpers import (
    DEADLINE_SECONDS,
    answered,
    at_the_door,
    banner_text,
    burst,
    database_through_proxy,
    door,
    door_app,
    scan,
    until,
)

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

# DESIGN §10: a door whose database does not answer within 2 s goes offline. It then needs a
# moment to act on its own 2 s timer (which fires a little after 2 s), or on the error that came
# first, in an event loop it shares here with the other door.
OFFLINE_WITHIN_SECONDS = 2.0 + 0.5
# Quick enough that the test waits little; slow enough that two doors failing to reach their
# database do not crowd the one event loop they share here, which a door's own process never does.
FAST = {"refresh_seconds": 1.0, "probe_seconds": 0.5, "offline_after": 2.0}


@pytest.fixture
def proxy(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    with database_through_proxy(database_url, monkeypatch) as proxy:
        yield proxy


def notice(app: App) -> Static:
    return door(app).query_one("#offline-notice", Static)


def shows_offline(app: App) -> bool:
    return (
        door(app).offline and notice(app).display and str(notice(app).content).startswith("OFFLINE")
    )


async def soon(condition: Callable[[], bool], what: str) -> None:
    """Until `condition()` holds, looking every few milliseconds with a bare sleep: the pilot's
    wait for an idle app would let the database answer the scans this test means to cut off."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


def note_when_offline(app: App, name: str, switched: dict[str, float]) -> None:
    """Keep the moment the door turns offline, which is the moment it writes its OFFLINE notice
    (one step, `go_offline`): the door's own time, without the time this test, sharing one event
    loop with two busy apps, takes to look."""

    def noted(offline: bool) -> None:
        if offline:
            switched.setdefault(name, time.monotonic())

    screen = door(app)
    screen.watch(screen, "offline", noted, init=False)


def all_uploaded(app: App) -> bool:
    return not door(app).offline and not notice(app).display and not door(app).local.pending


def all_answered(app: App, scans: int) -> bool:
    return door(app).check_ins_started == scans and not door(app).waiting


def token_hash(token: str) -> str:
    return tokens.hash_token(tokens.parse_scanned(token))


def check_ins_by_reservation(engine) -> dict[int, CheckIn]:
    """One check-in at most per reservation: the database's UNIQUE constraint sees to that."""
    with db.new_session(engine) as fresh:
        return {row.reservation_id: row for row in fresh.exec(select(CheckIn))}


def door_passes(engine, reservation_id: int) -> list[DoorPass]:
    with db.new_session(engine) as fresh:
        return list(
            fresh.exec(
                select(DoorPass)
                .where(DoorPass.reservation_id == reservation_id)
                .order_by(col(DoorPass.id))
            )
        )


async def test_two_doors_cut_off_mid_burst_go_offline_admit_from_their_copies_and_upload_once(
    proxy, engine, session, tonight, confirmed, anna
):
    bursts = {name: [confirmed(tonight, 1) for _ in range(4)] for name in ("main", "side")}
    both = confirmed(tonight, 2)
    main_app, _ = door_app(tonight, anna, door="main", **FAST)
    side_app, _ = door_app(tonight, anna, door="side", **FAST)
    apps = {"main": main_app, "side": side_app}
    async with main_app.run_test() as main, side_app.run_test() as side:
        pilots = {"main": main, "side": side}
        await asyncio.gather(at_the_door(main), at_the_door(side))
        assert proxy.connections > 0, "the doors reach their database through the proxy"
        switched: dict[str, float] = {}
        for name, app in apps.items():
            note_when_offline(app, name, switched)

        # The cut comes as soon as both doors have asked the database about the burst's first
        # two tickets, mostly before it has answered; the second two are typed into doors that
        # have lost it.
        for name, app in apps.items():
            burst(app, *(t.ticket_token for t in bursts[name][:2]))
        await soon(
            lambda: all(door(app).check_ins_started == 2 for app in apps.values()),
            "the doors to take the first half of the burst",
        )
        proxy.cut()
        cut_at = time.monotonic()
        for name, app in apps.items():
            burst(app, *(t.ticket_token for t in bursts[name][2:]))
        await until(
            main, lambda: all(shows_offline(app) for app in apps.values()), "both doors OFFLINE"
        )
        for name in apps:
            took = switched[name] - cut_at
            assert took <= OFFLINE_WITHIN_SECONDS, f"{name} went offline {took:.2f} s after the cut"

        for name, app in apps.items():
            await until(pilots[name], lambda app=app: all_answered(app, 4), f"{name}'s burst")
            last = bursts[name][-1].reservation.reference
            assert "ADMIT 1 · OFFLINE" in banner_text(app) and last in banner_text(app), name
            journalled = {entry.token_hash for entry in door(app).local.pending}
            after_cut = {token_hash(t.ticket_token) for t in bursts[name][2:]}
            assert after_cut <= journalled, f"{name} journalled what it admitted offline"

        for name, pilot in pilots.items():
            await scan(pilot, both.ticket_token)
            await answered(pilot, "ADMIT 2 · OFFLINE")
            assert both.reservation.reference in banner_text(apps[name])
        offline_nonces = {e.nonce for app in apps.values() for e in door(app).local.pending}

        proxy.restore()
        await until(
            main,
            lambda: all(all_uploaded(app) for app in apps.values()),
            "both journals uploaded and both doors online",
        )
        await until(
            main,
            lambda: all(
                "CONFLICTS 1" in str(door(app).query_one("#doors").content) for app in apps.values()
            ),
            "the conflict shown at both doors",
        )

    scanned = [*bursts["main"], *bursts["side"], both]
    check_ins = check_ins_by_reservation(engine)
    assert check_ins.keys() == {t.reservation.id for t in scanned}, "every ticket checked in"
    for name in apps:
        for ticket in bursts[name]:
            assert check_ins[ticket.reservation.id].door == name
            # One pass, also for a scan the database recorded though the door answered it from
            # its copy (the answer was cut off, or the call ran late): the door journalled it
            # under the nonce the database has, so its upload recorded nothing more.
            assert len(door_passes(engine, ticket.reservation.id)) == 1

    first = check_ins[both.reservation.id]
    passes = door_passes(engine, both.reservation.id)
    assert [(p.door, p.forced, p.conflict) for p in passes] == [
        (first.door, False, None),
        ({"main": "side", "side": "main"}[first.door], True, ScanResult.ALREADY_CHECKED_IN),
    ]
    [conflict] = door_counts.conflicts(session, performance_id=tonight.id)
    assert (conflict.reference, conflict.conflict) == (
        both.reservation.reference,
        ScanResult.ALREADY_CHECKED_IN,
    )
    with db.new_session(engine) as fresh:
        recorded = set(
            fresh.exec(select(DoorPass.nonce).where(col(DoorPass.nonce).in_(offline_nonces)))
        )
        counts = door_counts.door_counts(fresh, performance_id=tonight.id)
    assert recorded == offline_nonces, "every offline admission is a pass in the database"
    assert (counts.admitted_seats, counts.conflicts) == (10, 1)


async def test_a_door_closed_offline_reopens_offline_from_its_file_and_uploads_later(
    proxy, engine, session, tonight, confirmed, anna
):
    first, second = confirmed(tonight, 2), confirmed(tonight, 3)
    app, _ = door_app(tonight, anna, door="main", **FAST)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        proxy.cut()
        await until(pilot, lambda: shows_offline(pilot.app), "OFFLINE")
        await scan(pilot, first.ticket_token)
        await answered(pilot, "ADMIT 2 · OFFLINE")
    kept = door_copy.load(door_copy.copy_path(performance_id=tonight.id, door="main"))
    assert kept is not None and len(kept.journal) == 1, "the journal is in the door's file"
    assert check_ins_by_reservation(engine) == {}

    # Opened again as `azctl tui` opens a door it cannot reach: the staff member by name only.
    reopened, _ = door_app(
        tonight, Staff(username="anna", display_name="anna", role="box_office"), door="main", **FAST
    )
    async with reopened.run_test() as pilot:
        await until(pilot, lambda: shows_offline(pilot.app), "OFFLINE from the file")
        assert "1 to upload" in str(notice(pilot.app).content)
        await scan(pilot, first.ticket_token)
        await answered(pilot, "ALREADY CHECKED IN · OFFLINE")
        await scan(pilot, second.ticket_token)
        await answered(pilot, "ADMIT 3 · OFFLINE")

        proxy.restore()
        await until(pilot, lambda: all_uploaded(pilot.app), "the journal uploaded")

    check_ins = check_ins_by_reservation(engine)
    assert check_ins.keys() == {first.reservation.id, second.reservation.id}
    for ticket in (first, second):
        row = check_ins[ticket.reservation.id]
        assert (row.source, row.door, row.staff_id) == ("offline", "main", anna.id)
        assert len(door_passes(engine, ticket.reservation.id)) == 1
    assert door_counts.conflicts(session, performance_id=tonight.id) == []
