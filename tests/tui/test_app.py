"""`azctl tui` before the door: today's performances, the only one opened by itself, and a wrong
`--perf` or `--as` refused in one line before the screen is drawn."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from textual.widgets import DataTable, Label, Static
from typer.testing import CliRunner

from azctl.main import app as azctl
from azctl.services import staff, times
from azctl.tui.app import DoorApp
from azctl.tui.door import DoorScreen
from azctl.tui.performances import PerformancesScreen
from tests.tui.helpers import scan_field_has_focus, until


def today_at(hour: int, minute: int = 0) -> timedelta:
    """How far from now a performance starts at this local time today (for `make_performance`).

    Early hours, so that it is today whenever the test runs; already started does not matter."""
    moment = times.local_to_utc(
        times.to_local(times.now_utc()).date(), time(hour, minute), field=""
    )
    return moment - times.now_utc().replace(second=0, microsecond=0)


def listed(app: DoorApp) -> list[str]:
    table = app.screen.query_one("#performances", DataTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


def door_title(app: DoorApp) -> str:
    return str(app.screen.query_one("#door-title", Static).content)


async def on_the_list(pilot, rows: int) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, PerformancesScreen), "the list")
    await until(pilot, lambda: len(listed(pilot.app)) == rows, f"{rows} performances listed")


async def test_the_only_performance_today_opens_its_door_straight_away(
    session, make_performance, anna
):
    today = make_performance(starts_in=today_at(0, 30))
    make_performance(starts_in=today_at(0, 30) + timedelta(days=1))
    async with DoorApp(staff=anna).run_test() as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door screen")
        assert pilot.app.screen.performance_id == today.id
        when = times.short_local(today.starts_at)
        label = f"Open Show, {when} · Teatro Studio · main door · anna"
        await until(pilot, lambda: door_title(pilot.app) == label, "its label")
        assert scan_field_has_focus(pilot.app)

        await pilot.press("escape")
        await on_the_list(pilot, 1)
        assert listed(pilot.app) == [str(today.id)]
        # Coming back to the list leaves staff on it, to pick another performance or quit.
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(pilot.app.screen, PerformancesScreen)


async def test_several_performances_today_are_listed_to_choose_from(session, make_performance):
    early = make_performance(starts_in=today_at(0, 30))
    late = make_performance(starts_in=today_at(1, 30))
    async with DoorApp().run_test() as pilot:
        await on_the_list(pilot, 2)
        assert listed(pilot.app) == [str(early.id), str(late.id)]
        caption = pilot.app.screen.query_one("#performances-caption", Label)
        assert str(caption.content) == "Today's performances: pick the one at your door."

        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door screen")
        assert pilot.app.screen.performance_id == late.id
        assert door_title(pilot.app).endswith("main door · no staff name (--as)")


async def test_a_day_without_performances_lists_the_next_ones(session, make_performance):
    tomorrow = make_performance(starts_in=today_at(0, 30) + timedelta(days=1))
    async with DoorApp().run_test() as pilot:
        await on_the_list(pilot, 1)
        assert listed(pilot.app) == [str(tomorrow.id)]
        caption = pilot.app.screen.query_one("#performances-caption", Label)
        assert str(caption.content) == "No performance today. The next ones:"
        assert isinstance(pilot.app.screen, PerformancesScreen)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--perf", "999"], "Error: no performance with id 999\n"),
        (["--as", "nobody"], "Error: no staff member 'nobody'\n"),
        (["--as", "bob"], "Error: staff member 'bob' is disabled\n"),
    ],
)
def test_a_wrong_perf_or_staff_member_is_refused_in_one_line(
    arguments, error, session, make_performance
):
    make_performance()
    staff.add_staff(session, username="bob", role="box_office")
    staff.disable_staff(session, username="bob")
    result = CliRunner().invoke(azctl, ["tui", *arguments])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", error)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_door_with_a_copy_opens_offline_when_its_database_cannot_be_reached(
    session, tonight, anna, monkeypatch
):
    """`azctl tui` refuses a database it cannot reach, unless this door kept a copy of this
    performance's tickets: then it opens, offline, as `--as` says, to be looked up later."""
    from azctl.services import door_copy
    from azctl.settings import get_settings
    from azctl.tui import app as door_app

    copy = door_copy.take_copy(session, performance_id=tonight.id, door="side")
    door_copy.save(copy, door_copy.copy_path(performance_id=tonight.id, door="side"))
    # Nothing listens on port 9 of this machine: connecting is refused at once.
    monkeypatch.setenv("AZCTL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    get_settings.cache_clear()
    opened: list[DoorApp] = []
    monkeypatch.setattr(door_app.DoorApp, "run", lambda self: opened.append(self))  # noqa: PLW0108

    result = CliRunner().invoke(azctl, ["tui", "--perf", str(tonight.id), "--as", "anna"])
    assert result.exit_code == 1, "no copy for the main door: refused in one line"
    assert opened == []
    assert len(result.stderr.strip().splitlines()) == 1

    result = CliRunner().invoke(
        azctl, ["tui", "--perf", str(tonight.id), "--as", "anna", "--door", "side"]
    )
    assert result.exit_code == 0, result.stderr
    [app] = opened
    assert (app.performance_id, app.door, app.staff.username, app.staff.id) == (
        tonight.id,
        "side",
        "anna",
        None,
    )
