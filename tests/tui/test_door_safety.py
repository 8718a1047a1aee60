"""What went wrong at the door (issue 11), each as the staff member and the scanner met it: a burst
typed into the search or answering a dialog, a reference typed into the scan field, an old answer
left on the banner, walk-ins missing from the list or sold days early, accents in a search, a
pending booking offered for check-in, and a bug in a worker."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from textual.notifications import Notify
from textual.widgets import Input, Label

from azctl import db
from azctl.models import Performance
from azctl.services import checkin, tokens
from azctl.tui.app import DoorApp
from azctl.tui.confirm import ConfirmScreen
from azctl.tui.door import DoorScreen
from azctl.tui.performances import PerformancesScreen
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
from tests.tui.test_app import today_at


class Notes(list[str]):
    """Every notification the app shows, as `severity: title: message`."""

    def __call__(self, message) -> None:
        if isinstance(message, Notify):
            note = message.notification
            self.append(f"{note.severity}: {note.title}: {note.message}")


def search_value(app) -> str:
    return app.screen.query_one("#search-query", Input).value


async def search_for(pilot, text: str, matches: int) -> SearchScreen:
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
    search = pilot.app.screen
    await pilot.press(*text)
    await until(pilot, lambda: search.rows_for == text, f"the matches for {text!r}")
    assert len(search.rows) == matches
    return search


async def test_a_burst_while_the_search_is_open_admits_the_tickets_holder_and_types_nothing(
    engine, session, tonight, confirmed, anna
):
    giulia = confirmed(tonight, 2, name="Giulia Bianchi")
    holder = confirmed(tonight, 3, name="Marco Rossi")
    app, _bells = door_app(tonight, anna)
    notes = Notes()
    async with app.run_test(message_hook=notes) as pilot:
        await at_the_door(pilot)
        search = await search_for(pilot, "giulia", 1)

        await scan(pilot, holder.ticket_token)
        await answered(pilot, "ADMIT 3")

        assert pilot.app.screen is search, "no question was opened for the searched visitor"
        assert search_value(pilot.app) == "giulia"
        assert [row.reservation.reference for row in search.rows] == [giulia.reservation.reference]
        assert f"information: ADMIT 3: {holder.reservation.reference}" in " | ".join(notes)
    [row] = check_ins(engine)
    assert (row.reservation_id, row.source) == (holder.reservation.id, "qr_scan")


async def test_bursts_while_the_question_is_open_never_answer_it_and_enter_does_nothing(
    engine, session, tonight, confirmed, anna
):
    giulia = confirmed(tonight, 2, name="Giulia Bianchi")
    first, second = confirmed(tonight, 1), confirmed(tonight, 4)
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await search_for(pilot, "giulia", 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        question = pilot.app.screen

        # The burst and the next scan's: each ends in Enter, and neither is an answer.
        await scan(pilot, first.ticket_token, second.ticket_token)
        await answered(pilot, second.reservation.reference)
        await until(pilot, lambda: len(check_ins(engine)) == 2, "both tickets checked in")
        assert pilot.app.screen is question

        await pilot.press("enter")
        await pilot.pause(0.2)
        assert pilot.app.screen is question, "Enter is not yes"
        assert {row.reservation_id for row in check_ins(engine)} == {
            first.reservation.id,
            second.reservation.id,
        }

        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door again")
        assert scan_field_has_focus(pilot.app)
    assert giulia.reservation.id not in {row.reservation_id for row in check_ins(engine)}


async def test_a_person_typing_slowly_into_the_search_searches_and_enter_chooses(
    engine, session, tonight, confirmed, anna
):
    giulia = confirmed(tonight, 2, name="Giulia Bianchi")
    confirmed(tonight, 1, name="Marco Rossi")
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
        search = pilot.app.screen
        # A person's pace: a tenth of a second between keys, and between the last and Enter.
        await pilot.press(*[key for character in "giu" for key in (character, "wait:100")])
        await until(pilot, lambda: len(search.rows) == 1, "one match")
        assert search_value(pilot.app) == "giu"
        await pilot.press("wait:100", "enter")

        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        reference = giulia.reservation.reference
        assert pilot.app.screen.question == f"Check in {reference}: Giulia Bianchi, 2 seats?"
        await pilot.press("y")
        await answered(pilot, "ADMIT 2")
    [row] = check_ins(engine)
    assert (row.reservation_id, row.source) == (giulia.reservation.id, "manual")


@pytest.mark.parametrize("form", ["as printed", "lower case with spaces"])
async def test_a_reference_typed_into_the_scan_field_is_checked_in_by_hand_after_a_yes(
    form, engine, session, tonight, confirmed, anna
):
    visitor = confirmed(tonight, 2, name="Anna Verdi")
    reference = visitor.reservation.reference
    typed = reference if form == "as printed" else " " + reference.lower().replace("-", " ")
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press(*typed, "wait:150", "enter")

        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert pilot.app.screen.question == f"Check in {reference}: Anna Verdi, 2 seats?"
        assert check_ins(engine) == []
        await pilot.press("y")
        await answered(pilot, "ADMIT 2")
        await until(pilot, lambda: recent_rows(pilot.app), "the check-in listed")
        assert recent_rows(pilot.app)[0][1:5] == ["ok", reference, "anna", "by hand"]
    [row] = check_ins(engine)
    assert (row.reservation_id, row.source) == (visitor.reservation.id, "manual")


def unknown_reference(tonight, book, confirmed, session) -> tuple[str, str]:
    return "AZ-222222", "no booking AZ-222222"


def pending_reference(tonight, book, confirmed, session) -> tuple[str, str]:
    reference = book(tonight, 2).reservation.reference
    return reference, f"booking {reference} is pending"


def already_in_reference(tonight, book, confirmed, session) -> tuple[str, str]:
    ticket = confirmed(tonight, 2)
    checkin.scan(session, text=ticket.ticket_token, performance_id=tonight.id)
    return ticket.reservation.reference, "ALREADY CHECKED IN"


@pytest.mark.parametrize(
    ("headline", "setting"),
    [
        ("UNKNOWN TICKET", unknown_reference),
        ("NOT CONFIRMED", pending_reference),
        ("ALREADY CHECKED IN", already_in_reference),
    ],
)
async def test_a_reference_that_would_be_refused_is_answered_at_once_without_a_question(
    headline, setting, engine, session, tonight, book, confirmed, anna
):
    reference, detail = setting(tonight, book, confirmed, session)
    before = len(check_ins(engine))
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, reference)
        await answered(pilot, headline)

        assert detail in banner_text(pilot.app)
        assert isinstance(pilot.app.screen, DoorScreen)
        await until(
            pilot,
            lambda: recent_rows(pilot.app) and recent_rows(pilot.app)[0][4] == "by hand",
            "the attempt listed",
        )
    assert bells == [1]
    assert len(check_ins(engine)) == before


async def test_the_banner_goes_back_to_ready_by_itself(engine, session, tonight, confirmed, anna):
    ticket = confirmed(tonight, 2)
    app, _bells = door_app(tonight, anna, banner_seconds=1.5)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ADMIT 2")
        await scan(pilot, ticket.ticket_token)
        await answered(pilot, "ALREADY CHECKED IN")
        assert banner(pilot.app).has_class("-refuse")

        await until(pilot, lambda: banner_text(pilot.app).startswith("READY"), "READY again")
        assert not banner(pilot.app).has_class("-refuse")
        assert scan_field_has_focus(pilot.app)


async def test_walk_ins_are_listed_with_the_scans(engine, session, tonight, anna):
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: recent_rows(pilot.app), "the walk-in listed")
        assert recent_rows(pilot.app)[0][1:5] == ["seat sold", "", "anna", "walk-in"]
        await pilot.press("f4")
        await until(pilot, lambda: len(recent_rows(pilot.app)) == 2, "the seat given back")
        assert recent_rows(pilot.app)[0][1:5] == ["seat given back", "", "anna", "walk-in"]
        assert counter(pilot.app, "walk-ins") == "0"


async def test_walk_ins_days_before_the_door_opens_are_sold_only_after_a_yes(
    engine, session, make_performance, anna
):
    later = make_performance(starts_in=timedelta(days=10))
    app, bells = door_app(later, anna)

    def walk_ins() -> int:
        with db.new_session(engine) as fresh:
            return fresh.get(Performance, later.id).manually_occupied_seats

    async with app.run_test() as pilot:
        await at_the_door(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "the door opens at" in pilot.app.screen.question
        assert pilot.app.screen.question.endswith("Sell a walk-in seat anyway?")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, DoorScreen), "the door again")
        assert walk_ins() == 0
        assert recent_rows(pilot.app) == []

        await pilot.press("f3")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: counter(pilot.app, "walk-ins") == "1", "the seat sold")
    assert walk_ins() == 1
    assert bells == [1, 1]


@pytest.mark.parametrize(("name", "typed"), [("Françoise Çelik", "celik"), ("Ayse Celik", "çelik")])
async def test_the_search_finds_a_name_whatever_the_accents(
    name, typed, engine, session, tonight, confirmed, anna
):
    visitor = confirmed(tonight, 2, name=name)
    confirmed(tonight, 1, name="Marco Rossi")
    app, _bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        search = await search_for(pilot, typed, 1)
        assert search.rows[0].reservation.id == visitor.reservation.id


async def test_a_pending_booking_says_so_in_the_search_and_is_not_offered(
    engine, session, tonight, book, anna
):
    pending = book(tonight, 2, name="Paola Attesa")
    app, bells = door_app(tonight, anna)
    async with app.run_test() as pilot:
        await at_the_door(pilot)
        search = await search_for(pilot, "paola", 1)
        table = search.query_one("#search-results")
        assert str(table.get_row_at(0)[4]) == "PENDING: not confirmed"

        await pilot.press("enter")
        status = search.query_one("#search-status", Label)
        await until(pilot, lambda: "cannot be checked in" in str(status.content), "the reason")
        assert str(status.content) == (
            f"{pending.reservation.reference} is PENDING: not confirmed: it cannot be checked in."
        )
        assert pilot.app.screen is search
    assert bells == [1]
    assert check_ins(engine) == []


async def test_a_bug_in_a_worker_is_shown_in_red_and_the_door_goes_on(
    engine, session, tonight, confirmed, anna, monkeypatch, caplog
):
    ticket = confirmed(tonight, 2)
    real_scan = checkin.scan

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(checkin, "scan", broken)
    app, bells = door_app(tonight, anna)
    with caplog.at_level(logging.ERROR, logger="azctl.tui.app"):
        async with app.run_test() as pilot:
            await at_the_door(pilot)
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "SOMETHING WENT WRONG")
            assert "check-in: RuntimeError" in banner_text(pilot.app)
            assert banner(pilot.app).has_class("-refuse")
            assert bells

            monkeypatch.setattr(checkin, "scan", real_scan)
            await scan(pilot, ticket.ticket_token)
            await answered(pilot, "ADMIT 2")
    assert "check-in failed" in caplog.text
    assert "RuntimeError: a bug" in caplog.text


@pytest.mark.parametrize(
    ("size", "banner_rows", "counter_rows"), [((80, 24), 5, 4), ((120, 50), 12, 8)]
)
async def test_the_banner_and_counters_grow_with_the_terminal(
    size, banner_rows, counter_rows, engine, session, tonight, anna
):
    app, _bells = door_app(tonight, anna)
    async with app.run_test(size=size) as pilot:
        await at_the_door(pilot)
        screen = pilot.app.screen
        assert banner(pilot.app).outer_size.height >= banner_rows
        assert screen.query_one("#counters").outer_size.height == counter_rows
        assert screen.query_one("#recent").outer_size.height >= 3


async def test_a_burst_with_no_door_open_is_dropped_aloud(engine, session, make_performance):
    early = make_performance(starts_in=today_at(0, 30))
    make_performance(starts_in=today_at(1, 30))
    notes = Notes()
    app = DoorApp()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(message_hook=notes) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, PerformancesScreen), "the list")
        await until(pilot, lambda: pilot.app.screen.summaries, "the performances listed")
        await scan(pilot, tokens.new_token())
        await until(pilot, lambda: notes, "a note")
        assert notes == ["warning: not scanned: Open a performance's door before scanning."]
        assert isinstance(pilot.app.screen, PerformancesScreen), "Enter opened no door"
        assert pilot.app.screen.summaries[0].performance.id == early.id
    assert bells == [1]
