"""The door at several entrances and at the interval, driven as staff drive it: exit mode (F6),
a party back in once per exit, the seats inside now, each door's line, and staff's door note on
the ADMIT banner."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from azctl import db
from azctl.services import booking, checkin, door_counts
from azctl.tui.confirm import ConfirmScreen
from tests.tui.helpers import (
    answered,
    at_the_door,
    banner,
    banner_text,
    counter,
    door_app,
    recent_rows,
    scan,
    scan_field_has_focus,
    until,
)


def doors_line(app) -> str:
    return str(app.screen.query_one("#doors").content)


async def test_f6_lets_a_party_out_and_back_in_once(engine, session, tonight, confirmed, anna):
    ticket = confirmed(tonight, 3)
    reference = ticket.reservation.reference
    app, bells = door_app(tonight, anna, door="foyer")
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ADMIT 3")
        await until(pilot, lambda: counter(pilot.app, "inside") == "3", "3 inside")

        await pilot.press("f6")
        assert pilot.app.screen.has_class("-leaving")
        assert "EXIT MODE" in banner_text(pilot.app)
        assert scan_field_has_focus(pilot.app)
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "EXIT 3")
        await until(pilot, lambda: counter(pilot.app, "inside") == "0", "0 inside")
        assert counter(pilot.app, "admitted") == "3", "a party that left was admitted still"
        assert recent_rows(pilot.app)[0][1:3] == ["exit", reference]
        assert recent_rows(pilot.app)[0][5] == "foyer"

        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "NOT INSIDE")
        assert "has left already" in banner_text(pilot.app)
        assert bells == [1]

        await pilot.press("f6")
        assert not pilot.app.screen.has_class("-leaving")
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ADMIT 3 · BACK IN")
        await until(pilot, lambda: counter(pilot.app, "inside") == "3", "3 inside again")
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ALREADY CHECKED IN")
        assert "(foyer door)" in banner_text(pilot.app)
        await until(pilot, lambda: "foyer 6 in, 3 out" in doors_line(pilot.app), "the foyer")

    with db.new_session(engine) as fresh:
        counts = door_counts.door_counts(fresh, performance_id=tonight.id)
    assert (counts.admitted_seats, counts.inside_seats) == (3, 3)


async def test_two_doors_count_each_door_and_each_party_once(
    engine, session, tonight, confirmed, anna
):
    first, second = confirmed(tonight, 2), confirmed(tonight, 4)
    app, _bells = door_app(tonight, anna, door="main", refresh_seconds=0.2)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, first.ticket_token)
        await answered(pilot, "ADMIT 2")
        with db.new_session(engine) as side_door:
            checkin.scan(
                side_door, text=second.ticket_token, performance_id=tonight.id, door="side"
            )
            checkin.scan(
                side_door,
                text=first.ticket_token,
                performance_id=tonight.id,
                door="side",
                direction="out",
            )
            checkin.scan(side_door, text=first.ticket_token, performance_id=tonight.id, door="side")
        await until(
            pilot,
            lambda: doors_line(pilot.app) == "Doors: main 2 in · side 6 in, 2 out",
            "both doors on the line",
        )
        await until(pilot, lambda: counter(pilot.app, "admitted") == "6", "6 admitted")
        assert counter(pilot.app, "inside") == "6", "one party through two doors is one party"


async def test_the_door_note_shows_on_the_admit_banner_and_never_the_visitors_notes(
    engine, session, tonight, confirmed, anna
):
    ticket = confirmed(tonight, 2, notes="my own note, for the theatre")
    booking.flag_reservation(
        session, reference=ticket.reservation.reference, note="wheelchair space, row A"
    )
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ADMIT 2")
        assert "NOTE: wheelchair space, row A" in banner_text(pilot.app)
        assert "my own note" not in banner_text(pilot.app)
        assert banner(pilot.app).has_class("-admit")


async def test_offline_a_typed_reference_is_asked_without_a_name_and_admitted_from_the_copy(
    engine, session, tonight, confirmed, anna
):
    """The copy keeps no names: the question says so, and the admission is journalled."""
    ticket = confirmed(tonight, 2)
    reference = ticket.reservation.reference
    app, _bells = door_app(tonight, anna, refresh_seconds=60)

    def refuse(*_args) -> None:
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    async with app.run_test() as pilot:
        await at_the_door(pilot)
        door = pilot.app.screen
        event.listen(engine, "before_cursor_execute", refuse)
        try:
            await pilot.press(*reference, "enter")
            await until(pilot, lambda: door.offline, "offline")
            await question_and_yes(pilot, reference, ticket)
        finally:
            event.remove(engine, "before_cursor_execute", refuse)
        [entry] = door.local.pending
        assert (entry.reference, entry.direction, entry.staff) == (reference, "in", "anna")


async def question_and_yes(pilot, reference, ticket) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
    question = str(pilot.app.screen.query_one("#confirm-question").content)
    assert reference in question
    assert "names are not kept" in question
    assert ticket.reservation.name not in question
    await pilot.press("y")
    await answered(pilot, "ADMIT 2 · OFFLINE")
