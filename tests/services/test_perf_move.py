"""Moving a performance (`performance_moves.move_performance`, DESIGN §5, §8): the new start,
every link's expiry carried along, reminders following the new time, every visitor told in their
own language with a calendar entry that updates the one they have; refusals change nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from azctl import errors
from azctl.models import Performance, Reservation
from azctl.services import booking, catalog, mail, performance_moves, reminders, times
from tests.services.helpers import fresh, messages, performance_row, refused, tokens_of
from tests.services.test_mail import calendar, inline_qr, text_and_html

ROME = ZoneInfo("Europe/Rome")
BOOKED = datetime(2027, 5, 1, 10, 0, tzinfo=ROME)
FIRST = datetime(2027, 5, 15, 20, 30, tzinfo=ROME)
LATER = datetime(2027, 5, 22, 18, 0, tzinfo=ROME)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)


@pytest.fixture
def performance(session: Session) -> Performance:
    catalog.add_venue(session, name="Teatro Studio", city="Milano", address="Via Rivoli 6")
    catalog.add_show(session, title="Amleto", slug="amleto", publish=True)
    return catalog.add_performance(
        session, show_slug="amleto", venue_slug="teatro-studio", starts_at=FIRST, room_capacity=50
    )


@pytest.fixture
def submit(session: Session, performance: Performance):
    counter = iter(range(1, 10000))

    def make(language: str | None = None, when: datetime = BOOKED) -> booking.SubmittedBooking:
        number = next(counter)
        return booking.submit_booking(
            session,
            performance_id=performance.id,
            name=f"Visitor {number}",
            email=f"visitor{number}@example.org",
            party_size=2,
            language=language,
            now=when,
        )

    return make


def confirm(session, submitted, when: datetime = BOOKED) -> booking.ConfirmedBooking:
    return booking.confirm_booking(session, token=submitted.confirm_token, now=when)


def move(session, performance, starts_at, now=BOOKED + timedelta(days=2)):
    return performance_moves.move_performance(
        session, performance_id=performance.id, starts_at=starts_at, now=now
    )


def moved_mail(engine, reservation):
    [row] = messages(engine, reservation_id=reservation.id, kind="performance_moved")
    email = mail.render(row)
    text, html = text_and_html(email)
    return row, email, text, html


def test_the_performance_moves_and_every_visitor_is_told(session, engine, performance, submit):
    english = confirm(session, submit("en"))
    italian = confirm(session, submit("it"))
    pending = submit("it")
    dropped = submit("en")
    booking.cancel_reservation(session, reference=dropped.reservation.reference)

    moved = move(session, performance, LATER, now=BOOKED + timedelta(hours=1))
    assert (moved.previous_start, moved.confirmed_told, moved.pending_told) == (FIRST, 2, 1)
    assert performance_row(engine, performance.id).starts_at == LATER

    _row, email, text, html = moved_mail(engine, english.reservation)
    assert str(email["Subject"]) == "New date and time: Amleto, Sat 22 May, 18:00"
    assert "which was to be on Saturday, 15 May 2027, 20:30, has moved" in text
    assert "When: Saturday, 22 May 2027, 18:00" in text
    assert "Ticket: http://127.0.0.1:8000/t/" in text
    assert "/cancel/" in text
    assert inline_qr(email)
    event = calendar(email)
    assert f"UID:{english.reservation.reference}@azctl" in event
    assert "DTSTART:20270522T160000Z" in event
    assert int(re.search(r"SEQUENCE:(\d+)", event)[1]) > 0

    _row, email, text, html = moved_mail(engine, italian.reservation)
    assert str(email["Subject"]) == "Nuova data e ora: Amleto, sab 22 mag, 18:00"
    assert "prevista per sabato 15 maggio 2027, 20:30, è stata spostata" in text
    assert "sabato 22 maggio 2027, 18:00" in text
    assert "Biglietto" in text
    assert '<html lang="it">' in html

    row, email, text, html = moved_mail(engine, pending.reservation)
    assert "ticket_token" not in row.context
    assert "il link nella mail precedente resta valido per confermarla" in text
    assert not list(email.iter_attachments())
    assert messages(engine, reservation_id=dropped.reservation.id, kind="performance_moved") == []


def test_a_pending_booking_whose_link_has_lapsed_is_not_told(session, engine, performance, submit):
    lapsed = submit()
    moved = move(session, performance, LATER, now=BOOKED + timedelta(days=2))
    assert moved.pending_told == 0
    assert messages(engine, reservation_id=lapsed.reservation.id, kind="performance_moved") == []


def test_the_calendar_entry_outranks_the_tickets(session, engine, performance, submit):
    confirmed = confirm(session, submit())
    [ticket] = messages(engine, reservation_id=confirmed.reservation.id, kind="ticket")
    first = int(re.search(r"SEQUENCE:(\d+)", calendar(mail.render(ticket)))[1])
    with patch.object(times, "now_utc", return_value=times.now_utc() + timedelta(seconds=5)):
        move(session, performance, LATER)
    _row, email, _text, _html = moved_mail(engine, confirmed.reservation)
    assert int(re.search(r"SEQUENCE:(\d+)", calendar(email))[1]) > first


def test_links_follow_the_new_start(session, engine, performance, submit):
    confirmed = confirm(session, submit())
    pending = submit(when=FIRST - timedelta(hours=3))  # its confirm link ends at the old start
    fresh_pending = submit()  # its link ends 24 h after booking, long before either start

    move(session, performance, LATER)

    first_ticket, new_ticket = tokens_of(engine, confirmed.reservation.id, "check_in")
    # The door closes 4 h after the new start; the first ticket is not revoked, and moves too.
    assert first_ticket.revoked_at is None
    assert first_ticket.expires_at == new_ticket.expires_at == LATER + timedelta(hours=4)
    for token in tokens_of(engine, confirmed.reservation.id, "cancel"):
        assert token.expires_at == LATER
    for token in tokens_of(engine, pending.reservation.id, "cancel"):
        assert token.expires_at == LATER
    [link] = tokens_of(engine, pending.reservation.id, "confirmation")
    assert FIRST <= link.expires_at <= LATER
    assert fresh(engine, Reservation, pending.reservation.id).expires_at == link.expires_at
    [link] = tokens_of(engine, fresh_pending.reservation.id, "confirmation")
    assert link.expires_at == BOOKED + timedelta(hours=24)


def test_moved_earlier_no_link_outlives_the_new_start(session, engine, performance, submit):
    pending = submit(when=FIRST - timedelta(hours=3))
    earlier = FIRST - timedelta(hours=1)
    move(session, performance, earlier, now=FIRST - timedelta(hours=2))
    for token in tokens_of(engine, pending.reservation.id):
        assert token.expires_at <= earlier


def test_reminders_follow_the_new_time(session, engine, performance, submit):
    confirmed = confirm(session, submit())
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 14, 21, 0)) == 1

    move(session, performance, LATER, now=rome(2027, 5, 15, 9, 0))
    assert fresh(engine, Reservation, confirmed.reservation.id).reminder_queued_at is None
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 20, 0)) == 0
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 21, 17, 59)) == 0
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 21, 18, 0)) == 1
    reminded = messages(engine, reservation_id=confirmed.reservation.id, kind="reminder")
    assert len(reminded) == 2
    assert "DTSTART:20270522T160000Z" in calendar(mail.render(reminded[-1]))


def test_moved_inside_the_reminder_window_the_move_mail_stands_for_the_reminder(
    session, engine, performance, submit
):
    confirmed = confirm(session, submit())
    soon = rome(2027, 5, 10, 20, 30)
    move(session, performance, soon, now=rome(2027, 5, 10, 9, 0))
    assert fresh(engine, Reservation, confirmed.reservation.id).reminder_queued_at is not None
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 10, 9, 1)) == 0
    assert messages(engine, kind="reminder") == []


def test_a_booking_confirmed_after_the_old_moment_is_reminded_at_the_new_one(
    session, engine, performance, submit
):
    late = confirm(
        session, submit(when=FIRST - timedelta(hours=3)), when=FIRST - timedelta(hours=3)
    )
    move(session, performance, LATER, now=FIRST - timedelta(hours=2))
    assert reminders.queue_due_reminders(engine, LATER - timedelta(hours=24)) == 1
    assert len(messages(engine, reservation_id=late.reservation.id, kind="reminder")) == 1


def test_refusals_change_nothing(session, engine, performance, submit):
    confirm(session, submit())
    catalog.add_performance(
        session, show_slug="amleto", venue_slug="teatro-studio", starts_at=LATER, room_capacity=5
    )
    now = BOOKED + timedelta(days=2)
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        move(session, performance, rome(2027, 5, 2, 20, 30), now=now)
    assert "is in the past" in str(info.value)
    with refused(engine, errors.Conflict, "conflict") as info:
        move(session, performance, LATER, now=now)
    assert str(info.value) == "amleto already plays at teatro-studio on Sat 22 May 18:00"
    with refused(engine, errors.InvalidInput, "invalid_input"):
        move(session, performance, FIRST, now=now)
    with refused(engine, errors.InvalidState, "invalid_state"):
        move(session, performance, LATER + timedelta(days=1), now=FIRST + timedelta(minutes=1))
    booking.cancel_performance(session, performance_id=performance.id)
    with refused(engine, errors.InvalidState, "invalid_state") as info:
        move(session, performance, LATER + timedelta(days=1), now=now)
    assert "cancelled" in str(info.value)
    with refused(engine, errors.NotFound, "not_found"):
        performance_moves.move_performance(session, performance_id=999, starts_at=LATER, now=now)
