"""`azctl tui` in a real terminal losing its database and getting it back (DESIGN §10): the door
process reaches PostgreSQL through a TCP proxy the test cuts and restores, tmux types the tickets
and reads the screen, and the test reads the database directly. PostgreSQL only, like the other
offline door tests (tests/tui/test_offline_doors.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from azctl import db
from azctl.models import CheckIn
from tests.tcp_proxy import TcpProxy
from tests.tui.helpers import database_through_proxy
from tests.tui.test_terminal import DEADLINE_SECONDS, EXITED, Terminal, door_command
from tests.tui.test_terminal import pytestmark as needs_tmux

pytestmark = [needs_tmux, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

OFFLINE_NOTICE = "OFFLINE · from the door's copy"


@pytest.fixture
def proxy(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    with database_through_proxy(database_url, monkeypatch) as proxy:
        yield proxy


def check_ins(engine) -> dict[int, CheckIn]:
    with db.new_session(engine) as fresh:
        return {row.reservation_id: row for row in fresh.exec(select(CheckIn))}


def scan(terminal: Terminal, token: str) -> None:
    """The ticket and Enter in one write, as fast as a scanner types them."""
    terminal.tmux("send-keys", "-t", "door", "-l", f"{token}\r")


def test_azctl_tui_goes_offline_when_its_database_is_cut_and_uploads_once_it_is_back(
    proxy, tmp_path, session, engine, tonight, confirmed, anna
):
    online, offline = confirmed(tonight, 2), confirmed(tonight, 3)
    terminal = Terminal(tmp_path / "tmux.sock")
    offline_screen = ""
    try:
        terminal.start([*door_command(tonight.id), "--door", "main"])
        terminal.wait_for(lambda: "main door · anna" in terminal.screen(), "the performance loaded")
        scan(terminal, online.ticket_token)
        terminal.wait_for(lambda: "ADMIT 2" in terminal.screen(), "ADMIT 2")

        proxy.cut()
        terminal.wait_for(lambda: OFFLINE_NOTICE in terminal.screen(), "the OFFLINE notice")
        scan(terminal, offline.ticket_token)
        terminal.wait_for(lambda: "ADMIT 3 · OFFLINE" in terminal.screen(), "ADMIT 3 · OFFLINE")
        offline_screen = terminal.screen()
        assert "1 to upload" in offline_screen
        assert check_ins(engine).keys() == {online.reservation.id}

        proxy.restore()
        terminal.wait_for(lambda: OFFLINE_NOTICE not in terminal.screen(), "the notice to go")
        deadline = time.monotonic() + DEADLINE_SECONDS
        while offline.reservation.id not in check_ins(engine):
            if time.monotonic() > deadline:
                raise AssertionError("gave up waiting for the journal's upload")
            time.sleep(0.05)

        terminal.tmux("send-keys", "-t", "door", "C-q")
        terminal.wait_for(lambda: EXITED in terminal.screen(), "azctl tui to exit")
        assert f"{EXITED} 0" in terminal.screen()
    except AssertionError as failure:
        if offline_screen:
            raise AssertionError(
                f"{failure}\n\nThe door while OFFLINE:\n{offline_screen}"
            ) from None
        raise
    finally:
        terminal.close()
    rows = check_ins(engine)
    assert rows.keys() == {online.reservation.id, offline.reservation.id}
    assert (rows[online.reservation.id].source, rows[offline.reservation.id].source) == (
        "qr_scan",
        "offline",
    )
    assert {row.staff_id for row in rows.values()} == {anna.id}
