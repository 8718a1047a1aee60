"""The door screen driven as staff and a scanner drive it: every answer's banner, repeated and
quick scans, manual check-in after a search, walk-in seats, counters that follow other doors, and
a database that goes away and comes back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from textual.notifications import Notify

from azctl import db
from azctl.models import Performance
from azctl.services import booking, checkin, tickets, times, tokens
from azctl.tui.confirm import ConfirmScreen
from azctl.tui.door import DoorScreen
from azctl.tui.search import SearchScreen
from tests.tui.helpers import (
    answered,
    at_the_door,
    banner,
    banner_text,
    check_ins,
    counter,
    door_app,
    recent_rows,
    scan,
    scan_field_has_focus,
    until,
)


@pytest.mark.parametrize("form", ["bare token", "ticket url"])
async def test_a_scanned_ticket_is_admitted_in_green(
    form, engine, session, tonight, confirmed, anna
):
    ticket = confirmed(tonight, 3)
    text = ticket.ticket_token if form == "bare token" else tickets.ticket_url(ticket.ticket_token)
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        if form == "bare token":
            await scan(pilot, text)
        else:
            # At a typist's pace, through the pilot's own key names (the URL's ':' and '/').
            await pilot.press(*text, "enter")
        await answered(pilot, "ADMIT 3")

        reference = ticket.reservation.reference
        assert banner(pilot.app).has_class("-admit")
        assert reference in banner_text(pilot.app)
        assert pilot.app.screen.query_one("#scan").value == ""
        assert scan_field_has_focus(pilot.app)
        await until(pilot, lambda: counter(pilot.app, "admitted") == "3", "3 admitted")
        assert counter(pilot.app, "to-come") == "0"
        assert recent_rows(pilot.app)[0][1:5] == ["ok", reference, "anna", "scan"]
    assert bells == []
    [row] = check_ins(engine)
    assert (row.reservation_id, row.staff_id, row.source) == (
        ticket.reservation.id,
        anna.id,
        "qr_scan",
    )


def unknown(session, make_performance, book, confirmed):
    return make_performance(), tokens.new_token(), "no such ticket"


def not_confirmed(session, make_performance, book, confirmed):
    door = make_performance()
    ticket = confirmed(door)
    booking.cancel_reservation(session, reference=ticket.reservation.reference)
    return door, ticket.ticket_token, f"{ticket.reservation.reference} is cancelled"


def wrong_performance(session, make_performance, book, confirmed):
    door = make_performance()
    other = make_performance(starts_in=timedelta(days=1))
    ticket = confirmed(other)
    return (
        door,
        ticket.ticket_token,
        f"ticket is for Open Show, {times.short_local(other.starts_at)}",
    )


def too_early(session, make_performance, book, confirmed):
    door = make_performance(starts_in=timedelta(hours=5))
    opens = times.short_local(door.starts_at - timedelta(hours=3))
    return door, confirmed(door).ticket_token, f"the door opens at {opens}"


def too_late(session, make_performance, book, confirmed):
    door = make_performance(starts_in=-timedelta(hours=5))
    then = times.now_utc() - timedelta(hours=6)
    submitted = book(door, now=then)
    ticket = booking.confirm_booking(session, token=submitted.confirm_token, now=then)
    closes = times.short_local(door.starts_at + timedelta(hours=4))
    return door, ticket.ticket_token, f"the door closed at {closes}"


def performance_cancelled(session, make_performance, book, confirmed):
    door = make_performance()
    ticket = confirmed(door)
    booking.cancel_performance(session, performance_id=door.id)
    return door, ticket.ticket_token, f"Open Show, {times.short_local(door.starts_at)}"


@pytest.mark.parametrize(
    ("headline", "setting"),
    [
        ("UNKNOWN TICKET", unknown),
        ("NOT CONFIRMED", not_confirmed),
        ("WRONG PERFORMANCE", wrong_performance),
        ("TOO EARLY", too_early),
        ("TOO LATE", too_late),
        ("PERFORMANCE CANCELLED", performance_cancelled),
    ],
)
async def test_a_ticket_that_may_not_come_in_gets_a_yellow_banner_and_a_bell(
    headline, setting, engine, session, make_performance, book, confirmed, anna
):
    door, text, detail = setting(session, make_performance, book, confirmed)
    app, bells = door_app(door, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, text)
        await answered(pilot, headline)

        lines = banner_text(pilot.app).splitlines()
        assert lines[0] == headline
        assert detail in lines[1]
        assert banner(pilot.app).has_class("-warn")
        assert scan_field_has_focus(pilot.app)
    assert bells == [1]
    assert check_ins(engine) == []


async def test_the_same_ticket_twice_is_refused_in_red_saying_when_and_by_whom(
    engine, session, tonight, confirmed, anna
):
    ticket = confirmed(tonight, 2)
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ADMIT 2")
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ALREADY CHECKED IN")

        first = check_ins(engine)[0].checked_in_at
        assert f"at {times.to_local(first):%H:%M} by anna" in banner_text(pilot.app)
        assert banner(pilot.app).has_class("-refuse")
        assert not banner(pilot.app).has_class("-admit")
        await until(pilot, lambda: len(recent_rows(pilot.app)) == 2, "two scans listed")
        assert [row[1] for row in recent_rows(pilot.app)] == ["already checked in", "ok"]
        await until(pilot, lambda: counter(pilot.app, "admitted") == "2", "2 admitted")
    assert bells == [1]
    assert len(check_ins(engine)) == 1


async def test_two_scans_in_quick_succession_are_both_answered(
    engine, session, tonight, confirmed, anna
):
    first, second = confirmed(tonight, 1), confirmed(tonight, 2)
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        # The second burst starts before the first answer is back: no wait between them.
        await scan(pilot, first.ticket_token, second.ticket_token)
        await answered(pilot, second.reservation.reference)

        assert banner_text(pilot.app).startswith("ADMIT 2")
        await until(pilot, lambda: len(recent_rows(pilot.app)) == 2, "both scans listed")
        listed = {row[2] for row in recent_rows(pilot.app)}
        assert listed == {first.reservation.reference, second.reservation.reference}
        await until(pilot, lambda: counter(pilot.app, "admitted") == "3", "3 admitted")
        assert scan_field_has_focus(pilot.app)
    assert bells == []
    assert {row.reservation_id for row in check_ins(engine)} == {
        first.reservation.id,
        second.reservation.id,
    }


@pytest.mark.parametrize("typed", ["name", "email", "reference"])
async def test_a_visitor_found_by_search_is_checked_in_by_hand_after_confirming(
    typed, engine, session, tonight, confirmed, anna
):
    confirmed(tonight, 1, name="Marco Rossi", email="marco@example.org")
    visitor = confirmed(tonight, 4, name="Zebulon Quark", email="zq@example.net")
    reference = visitor.reservation.reference
    query = {"name": "zebul", "email": "ZQ@EXAMPLE", "reference": reference.lower()}[typed]
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
        search = pilot.app.screen
        await until(pilot, lambda: len(search.rows) == 2, "every booking listed at first")
        await pilot.press(*query)
        await until(pilot, lambda: len(search.rows) == 1, "one match")
        assert search.rows[0].reservation.reference == reference
        await pilot.press("enter")

        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert pilot.app.screen.question == f"Check in {reference}: Zebulon Quark, 4 seats?"
        assert check_ins(engine) == []
        await pilot.press("y")
        await answered(pilot, "ADMIT 4")

        assert isinstance(pilot.app.screen, DoorScreen)
        assert scan_field_has_focus(pilot.app)
        await until(pilot, lambda: recent_rows(pilot.app), "the check-in listed")
        assert recent_rows(pilot.app)[0][1:5] == ["ok", reference, "anna", "by hand"]
    assert bells == []
    [row] = check_ins(engine)
    assert (row.reservation_id, row.source, row.staff_id) == (
        visitor.reservation.id,
        "manual",
        anna.id,
    )


async def test_saying_no_or_leaving_the_search_checks_no_one_in(
    engine, session, tonight, confirmed
):
    confirmed(tonight, 2, name="Zebulon Quark")
    app, _bells = door_app(tonight)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door again")
        assert scan_field_has_focus(pilot.app)

        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
        search = pilot.app.screen
        await until(pilot, lambda: len(search.rows) == 1, "the booking listed")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door again")
        assert scan_field_has_focus(pilot.app)
        assert banner_text(pilot.app).startswith("READY")
    assert check_ins(engine) == []


async def test_walk_in_seats_are_sold_and_given_back_within_capacity(
    engine, session, make_performance, confirmed, anna
):
    door = make_performance(capacity=3)
    confirmed(door, 2)
    app, bells = door_app(door, anna)
    notes: list[str] = []

    def keep_notes(message) -> None:
        if isinstance(message, Notify):
            notes.append(f"{message.notification.severity}: {message.notification.message}")

    async with app.run_test(message_hook=keep_notes) as pilot:
        await at_the_door(pilot)
        assert (counter(pilot.app, "free"), counter(pilot.app, "walk-ins")) == ("1", "0")

        await pilot.press("f3")
        await until(pilot, lambda: counter(pilot.app, "walk-ins") == "1", "1 walk-in")
        assert counter(pilot.app, "free") == "0"
        assert notes == ["information: Sold 1 walk-in seat: 0 free now."]

        await pilot.press("f3")
        await until(pilot, lambda: len(notes) == 2, "the refusal")
        assert notes[1] == "error: cannot occupy 1 more seat: only 0 are free"
        assert bells == [1]
        assert counter(pilot.app, "walk-ins") == "1"

        await pilot.press("f4")
        await until(pilot, lambda: counter(pilot.app, "walk-ins") == "0", "the seat given back")
        assert counter(pilot.app, "free") == "1"
        assert notes[2] == "information: Gave back 1 walk-in seat: 1 free now."
        assert scan_field_has_focus(pilot.app)
    with db.new_session(engine) as fresh:
        assert fresh.get(Performance, door.id).manually_occupied_seats == 0


async def test_counters_follow_check_ins_made_at_another_door(
    engine, session, tonight, confirmed, anna
):
    ticket = confirmed(tonight, 3)
    confirmed(tonight, 2)
    app, _bells = door_app(tonight, anna, refresh_seconds=0.1)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        assert [counter(pilot.app, name) for name in ("expected", "admitted", "to-come")] == [
            "5",
            "0",
            "5",
        ]
        with db.new_session(engine) as other_door:
            checkin.scan(other_door, text=ticket.ticket_token, performance_id=tonight.id)

        await until(pilot, lambda: counter(pilot.app, "admitted") == "3", "the other door's 3")
        assert counter(pilot.app, "to-come") == "2"
        assert recent_rows(pilot.app)[0][1:3] == ["ok", ticket.reservation.reference]


async def test_a_lost_database_turns_the_door_offline_and_its_admissions_are_uploaded_later(
    engine, session, tonight, confirmed, anna
):
    ticket = confirmed(tonight, 2)
    lost = {"now": False}

    def refuse_while_lost(*_args) -> None:
        if lost["now"]:
            raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", refuse_while_lost)
    app, bells = door_app(tonight, anna, refresh_seconds=0.1, probe_seconds=0.1)
    try:
        async with app.run_test() as pilot:
            await at_the_door(pilot)
            notice = pilot.app.screen.query_one("#offline-notice")
            assert not notice.display
            lost["now"] = True
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "ADMIT 2 · OFFLINE")

            assert notice.display
            assert "OFFLINE" in str(notice.content)
            assert "server closed the connection" in str(notice.content)
            assert "1 to upload" in str(notice.content)
            assert banner(pilot.app).has_class("-admit")
            assert bells == [1], "one bell for going offline, none for the admission"
            assert scan_field_has_focus(pilot.app)
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "ALREADY CHECKED IN · OFFLINE")

            lost["now"] = False
            await until(pilot, lambda: not notice.display, "the notice to go")
            await until(pilot, lambda: len(check_ins(engine)) == 1, "the upload")
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "ALREADY CHECKED IN")
            assert "OFFLINE" not in banner_text(pilot.app)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_while_lost)
    [row] = check_ins(engine)
    assert row.source == "offline"


async def test_a_door_that_never_reached_its_database_says_no_answer(
    engine, session, tonight, confirmed, anna
):
    """Without a copy there is nothing to admit from: the scan is refused aloud, not guessed."""
    ticket = confirmed(tonight, 2)

    def refuse(*_args) -> None:
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    app, bells = door_app(tonight, anna, refresh_seconds=60)
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door screen")
        event.listen(engine, "before_cursor_execute", refuse)
        try:
            pilot.app.screen.local.copy = None
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "NO ANSWER FROM THE DATABASE")
            assert banner(pilot.app).has_class("-refuse")
            assert bells
        finally:
            event.remove(engine, "before_cursor_execute", refuse)
    assert check_ins(engine) == []
