"""`azctl perf move ID --at "YYYY-MM-DD HH:MM"` (DESIGN §5): the performance moves, every
visitor is mailed in their booking's language with the new calendar entry, reminders follow the
new time; a refusal is one line on stderr, exit 1, and nothing changed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl.models import Performance
from azctl.services import booking, catalog, mail, reminders
from tests.commands.helpers import Cli, assert_error, json_output, succeeded
from tests.helpers import unchanged
from tests.services.helpers import messages
from tests.services.test_mail import calendar, text_and_html

ROME = ZoneInfo("Europe/Rome")
FIRST = datetime(2099, 5, 15, 20, 30, tzinfo=ROME)


@pytest.fixture
def performance(session: Session) -> Performance:
    catalog.add_venue(session, name="Teatro Studio", city="Milano", address="Via Rivoli 6")
    catalog.add_show(session, title="Amleto", slug="amleto", publish=True)
    return catalog.add_performance(
        session, show_slug="amleto", venue_slug="teatro-studio", starts_at=FIRST, room_capacity=50
    )


def confirmed(session: Session, performance: Performance, number: int, language: str):
    submitted = booking.submit_booking(
        session,
        performance_id=performance.id,
        name=f"Visitor {number}",
        email=f"visitor{number}@example.org",
        party_size=2,
        language=language,
    )
    return booking.confirm_booking(session, token=submitted.confirm_token)


def test_move_prints_the_performance_and_mails_each_visitor_in_their_language(
    cli: Cli, session: Session, engine: Engine, performance: Performance
):
    english = confirmed(session, performance, 1, "en")
    italian = confirmed(session, performance, 2, "it")

    shown = json_output(
        cli("perf", "move", str(performance.id), "--at", "2099-05-22 18:00", "--json")
    )
    assert shown["id"] == performance.id
    assert shown["starts_at"] == "2099-05-22T18:00:00+02:00"
    assert shown["confirmed_seats"] == 4
    assert json_output(cli("perf", "show", str(performance.id), "--json")) == shown

    for visitor, phrase in ((english, "has moved"), (italian, "è stata spostata")):
        [row] = messages(engine, reservation_id=visitor.reservation.id, kind="performance_moved")
        email = mail.render(row)
        text, _html = text_and_html(email)
        assert phrase in text
        event = calendar(email)
        assert f"UID:{visitor.reservation.reference}@azctl" in event
        assert "DTSTART:20990522T160000Z" in event


def test_move_says_what_it_did(cli: Cli, session: Session, performance: Performance):
    confirmed(session, performance, 1, "en")
    result = succeeded(cli("perf", "move", str(performance.id), "--at", "2099-05-22 18:00"))
    assert (
        "Moved performance 1 from Fri 15 May 20:30 to Fri 22 May 18:00;"
        " told 1 confirmed booking and 0 pending ones." in result.stderr.replace("\n", " ")
    )
    assert "Amleto" in result.stdout


def test_reminders_follow_the_new_time(
    cli: Cli, session: Session, engine: Engine, performance: Performance
):
    visitor = confirmed(session, performance, 1, "en")
    succeeded(cli("perf", "move", str(performance.id), "--at", "2099-05-22 18:00"))

    assert reminders.queue_due_reminders(engine, datetime(2099, 5, 14, 21, tzinfo=ROME)) == 0
    assert reminders.queue_due_reminders(engine, datetime(2099, 5, 21, 18, tzinfo=ROME)) == 1
    [row] = messages(engine, reservation_id=visitor.reservation.id, kind="reminder")
    assert "DTSTART:20990522T160000Z" in calendar(mail.render(row))


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2020-01-10 20:30", "--at: 2020-01-10 20:30 is in the past"),
        ("2099-05-15 20:30", "performance 1 already starts at Fri 15 May 20:30"),
        ("2099-05-22 18:00", "amleto already plays at teatro-studio on Fri 22 May 18:00"),
        ("2099-13-01 20:30", "--at: 2099-13-01 is not a date"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(
    cli: Cli, session: Session, engine: Engine, performance: Performance, at: str, message: str
):
    confirmed(session, performance, 1, "en")
    catalog.add_performance(
        session,
        show_slug="amleto",
        venue_slug="teatro-studio",
        starts_at=datetime(2099, 5, 22, 18, tzinfo=ROME),
        room_capacity=5,
    )
    with unchanged(engine):
        assert_error(cli("perf", "move", str(performance.id), "--at", at), message)


def test_a_cancelled_or_missing_performance_is_refused(
    cli: Cli, session: Session, engine: Engine, performance: Performance
):
    booking.cancel_performance(session, performance_id=performance.id)
    with unchanged(engine):
        assert_error(
            cli("perf", "move", str(performance.id), "--at", "2099-05-22 18:00"),
            f"performance {performance.id} is cancelled",
        )
        assert_error(
            cli("perf", "move", "999", "--at", "2099-05-22 18:00"), "no performance with id 999"
        )
