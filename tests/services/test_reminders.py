"""Reminders (DESIGN §8): one mail per confirmed booking, AZCTL_REMINDER_BEFORE before its
performance, on a clock the tests move (the services take `now`).

The moment is counted on the theatre's wall clock: `24h` before Sunday 20:30 is Saturday 20:30
local, also across the daylight-saving changes in Europe/Rome (then 23 or 25 real hours before).
"""

from __future__ import annotations

import html as html_entities
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from azctl import db
from azctl.models import OutboxMessage, Performance, Reservation
from azctl.services import booking, catalog, checkin, mail, reminders
from azctl.settings import reload_settings
from tests.services.helpers import fresh, messages, tokens_of
from tests.services.test_mail import calendar, inline_qr, text_and_html

ROME = ZoneInfo("Europe/Rome")


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def at(session: Session):
    """Makes performances of "Amleto" at Teatro Studio (Via Rivoli 6, Milano) starting then."""
    catalog.add_venue(session, name="Teatro Studio", city="Milano", address="Via Rivoli 6")
    catalog.add_show(session, title="Amleto", slug="amleto", publish=True)

    def make(starts_at: datetime) -> Performance:
        return catalog.add_performance(
            session,
            show_slug="amleto",
            venue_slug="teatro-studio",
            starts_at=starts_at,
            room_capacity=50,
        )

    return make


@pytest.fixture
def confirm(session: Session):
    """A booking made and confirmed at `when` (the clock of the test)."""
    counter = iter(range(1, 10000))

    def make(
        performance: Performance, when: datetime, language: str | None = None
    ) -> booking.ConfirmedBooking:
        number = next(counter)
        submitted = booking.submit_booking(
            session,
            performance_id=performance.id,
            name=f"Visitor {number}",
            email=f"visitor{number}@example.org",
            party_size=2,
            language=language,
            now=when,
        )
        return booking.confirm_booking(session, token=submitted.confirm_token, now=when)

    return make


def reminders_of(engine, confirmed: booking.ConfirmedBooking) -> list[OutboxMessage]:
    return messages(engine, reservation_id=confirmed.reservation.id, kind="reminder")


def test_a_reminder_is_queued_at_its_moment_and_not_before(engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    confirmed = confirm(performance, rome(2027, 5, 1, 10, 0))
    moment = rome(2027, 5, 14, 20, 30)

    assert reminders.queue_due_reminders(engine, moment - timedelta(minutes=1)) == 0
    assert reminders_of(engine, confirmed) == []
    assert fresh(engine, Reservation, confirmed.reservation.id).reminder_queued_at is None

    assert reminders.queue_due_reminders(engine, moment) == 1
    [row] = reminders_of(engine, confirmed)
    assert row.to_address == confirmed.reservation.email
    assert fresh(engine, Reservation, confirmed.reservation.id).reminder_queued_at == moment


def test_the_reminder_carries_ticket_cancel_link_address_and_calendar(engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    confirmed = confirm(performance, rome(2027, 5, 1, 10, 0))
    reminders.queue_due_reminders(engine, rome(2027, 5, 15, 9, 0))

    [row] = reminders_of(engine, confirmed)
    email = mail.render(row)
    text, html = text_and_html(email)
    reference = confirmed.reservation.reference
    assert str(email["Subject"]) == "See you soon: Amleto, Sat 15 May, 20:30"
    assert f"Ticket: http://127.0.0.1:8000/t/{row.context['ticket_token']}" in text
    assert f"/cancel/{row.context['cancel_token']}" in text
    assert "your seats go to the waiting list" in text
    assert "Via Rivoli 6, Milano" in text
    assert "Saturday, 15 May 2027, 20:30" in html_entities.unescape(html)
    assert inline_qr(email)
    event = calendar(email)
    assert f"UID:{reference}@azctl" in event
    assert "DTSTART:20270515T183000Z" in event


def test_the_reminders_ticket_is_new_and_the_first_ticket_keeps_working(engine, at, confirm):
    """Raw tokens are never stored, so the reminder's link is a new check-in token; the old
    one (printed, perhaps) is not revoked, and both last until the door closes."""
    performance = at(rome(2027, 5, 15, 20, 30))
    confirmed = confirm(performance, rome(2027, 5, 1, 10, 0))
    reminders.queue_due_reminders(engine, rome(2027, 5, 15, 9, 0))

    tickets = tokens_of(engine, confirmed.reservation.id, "check_in")
    assert len(tickets) == 2
    assert [token.revoked_at for token in tickets] == [None, None]
    assert tickets[0].expires_at == tickets[1].expires_at == rome(2027, 5, 16, 0, 30)
    cancels = tokens_of(engine, confirmed.reservation.id, "cancel")
    assert all(token.revoked_at is None for token in cancels)
    assert cancels[-1].expires_at == rome(2027, 5, 15, 20, 30)


def test_one_reminder_only_however_many_rounds(engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    first, second = confirm(performance, rome(2027, 5, 1)), confirm(performance, rome(2027, 5, 2))

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 14, 21, 0)) == 2
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 14, 21, 0)) == 0
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 19, 0)) == 0
    assert len(reminders_of(engine, first)) == len(reminders_of(engine, second)) == 1


def test_workers_racing_queue_each_reminder_once(database_url, engine, at, confirm):
    """Four workers, each on an engine of its own, all at once: every booking reminded once."""
    performances = [at(rome(2027, 5, 15, hour, 30)) for hour in (16, 18, 21)]
    confirmed = [confirm(p, rome(2027, 5, 1)) for p in performances for _ in range(7)]
    engines = [db.create_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    counts: list[int] = []
    failures: list[BaseException] = []

    def work(worker_engine) -> None:
        try:
            start.wait(timeout=30)
            counts.append(reminders.queue_due_reminders(worker_engine, rome(2027, 5, 15, 12, 0)))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    for worker_engine in engines:
        worker_engine.dispose()
    assert failures == []
    assert sum(counts) == len(confirmed) == 21
    assert len(messages(engine, kind="reminder")) == 21
    for one in confirmed:
        assert len(reminders_of(engine, one)) == 1


def test_a_booking_confirmed_after_the_moment_gets_none(engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    early = confirm(performance, rome(2027, 5, 14, 20, 29))
    late = confirm(performance, rome(2027, 5, 14, 20, 30))
    later = confirm(performance, rome(2027, 5, 15, 12, 0))

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 12, 1)) == 1
    assert len(reminders_of(engine, early)) == 1
    assert reminders_of(engine, late) == reminders_of(engine, later) == []
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 20, 0)) == 0


def test_none_for_pending_cancelled_or_started(session, engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    booking.submit_booking(
        session,
        performance_id=performance.id,
        name="Pending",
        email="pending@example.org",
        party_size=1,
        now=rome(2027, 5, 1),
    )
    dropped = confirm(performance, rome(2027, 5, 1))
    booking.cancel_reservation(session, reference=dropped.reservation.reference)
    cancelled = at(rome(2027, 5, 16, 20, 30))
    confirm(cancelled, rome(2027, 5, 1))
    booking.cancel_performance(session, performance_id=cancelled.id)
    started = at(rome(2027, 5, 13, 20, 30))
    confirm(started, rome(2027, 5, 1))

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 20, 0)) == 0
    assert messages(engine, kind="reminder") == []


def test_none_for_a_party_already_in_the_hall(session, engine, at, confirm, monkeypatch):
    """With a reminder an hour before, the door (open 3 h before) may have admitted them."""
    monkeypatch.setenv("AZCTL_REMINDER_BEFORE", "1h")
    reload_settings()
    performance = at(rome(2027, 5, 15, 20, 30))
    inside, outside = confirm(performance, rome(2027, 5, 1)), confirm(performance, rome(2027, 5, 1))
    checkin.manual(
        session,
        reference=inside.reservation.reference,
        performance_id=performance.id,
        now=rome(2027, 5, 15, 19, 0),
    )

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 19, 30)) == 1
    assert reminders_of(engine, inside) == []
    assert len(reminders_of(engine, outside)) == 1


def test_none_when_reminders_are_off(engine, at, confirm, monkeypatch):
    monkeypatch.setenv("AZCTL_REMINDER_BEFORE", "off")
    reload_settings()
    performance = at(rome(2027, 5, 15, 20, 30))
    confirm(performance, rome(2027, 5, 1))

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 15, 20, 0)) == 0
    assert messages(engine, kind="reminder") == []


def test_another_duration_is_counted_from_the_start(engine, at, confirm, monkeypatch):
    monkeypatch.setenv("AZCTL_REMINDER_BEFORE", "2d")
    reload_settings()
    performance = at(rome(2027, 5, 15, 20, 30))
    confirm(performance, rome(2027, 5, 1))

    assert reminders.queue_due_reminders(engine, rome(2027, 5, 13, 20, 29)) == 0
    assert reminders.queue_due_reminders(engine, rome(2027, 5, 13, 20, 30)) == 1


def test_an_italian_booking_is_reminded_in_italian(engine, at, confirm):
    performance = at(rome(2027, 5, 15, 20, 30))
    confirmed = confirm(performance, rome(2027, 5, 1), language="it")
    reminders.queue_due_reminders(engine, rome(2027, 5, 15, 9, 0))

    [row] = reminders_of(engine, confirmed)
    email = mail.render(row)
    text, html = text_and_html(email)
    assert str(email["Subject"]) == "A presto: Amleto, sab 15 mag, 20:30"
    assert '<html lang="it">' in html
    assert "un promemoria: vi aspettiamo a breve" in text
    assert "sabato 15 maggio 2027, 20:30" in text
    assert "i posti andranno a chi è in lista d'attesa" in text
    assert "Biglietto" in text or "biglietto" in text
    assert "waiting list" not in text + html


@pytest.mark.parametrize(
    ("starts", "moment", "real_24h"),
    [
        # Spring forward (the night of Sat 27 to Sun 28 March 2027): 23 real hours before.
        (rome(2027, 3, 28, 20, 30), utc(2027, 3, 27, 19, 30), utc(2027, 3, 27, 18, 30)),
        # Fall back (the night of Sat 30 to Sun 31 October 2027): 25 real hours before.
        (rome(2027, 10, 31, 20, 30), utc(2027, 10, 30, 18, 30), utc(2027, 10, 30, 19, 30)),
    ],
    ids=["march", "october"],
)
def test_across_the_daylight_saving_change_the_reminder_keeps_the_wall_clock(
    engine, at, confirm, starts, moment, real_24h
):
    """Chosen: the same wall-clock time the day before (20:30 on Saturday for 20:30 on Sunday),
    not 24 real hours."""
    performance = at(starts)
    confirmed = confirm(performance, starts - timedelta(days=20))
    assert moment.astimezone(ROME).replace(tzinfo=None) == datetime(
        starts.year, starts.month, starts.day - 1, 20, 30
    )
    assert reminders.reminder_moment(performance.starts_at) == moment

    earlier = min(moment, real_24h)
    assert reminders.queue_due_reminders(engine, earlier - timedelta(minutes=1)) == 0
    if real_24h < moment:  # March: 24 real hours before is still too early
        assert reminders.queue_due_reminders(engine, real_24h) == 0
    assert reminders.queue_due_reminders(engine, moment - timedelta(seconds=1)) == 0
    assert reminders.queue_due_reminders(engine, moment) == 1
    assert len(reminders_of(engine, confirmed)) == 1
