"""The worker's round (DESIGN §9) and retention (§8): every kind of due work done in one round, a
kind that fails leaves the others to run, and personal data erased exactly when it is due, on a
clock the test moves, with every count kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import (
    OutboxMessage,
    OutboxStatus,
    Performance,
    Reservation,
    ReservationStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from azctl.services import booking, checkin, reports, retention, times, waitlist, worker
from azctl.settings import get_settings, reload_settings
from tests.services.helpers import fresh, messages

DAY = timedelta(days=1)

# What a round that found nothing else to do counts after mail and expiry.
NOTHING_ELSE = {"lapsed": 0, "offers": 0, "reminders": 0, "retention": 0}


def eml_files() -> list[str]:
    mail_dir = get_settings().effective_mail_dir
    return sorted(path.name for path in mail_dir.glob("*.eml")) if mail_dir.exists() else []


# The round ---------------------------------------------------------------------------------


def test_a_round_sends_mail_and_expires_lapsed_pendings(
    engine: Engine, make_performance: Callable[..., Performance], book: Callable[..., object]
) -> None:
    performance = make_performance(starts_in=timedelta(days=10))
    lapsing = book(performance).reservation  # type: ignore[attr-defined]
    book(performance)
    later = times.now_utc() + get_settings().confirm_ttl + timedelta(minutes=1)

    report = worker.run_round(engine, now=later)

    assert report.failed == {}
    assert report.done == {
        "mail": 2,
        "expire": 2,
        "lapsed": 0,
        "offers": 0,
        "reminders": 0,
        "retention": 0,
    }
    assert len(eml_files()) == 2
    assert fresh(engine, Reservation, lapsing.id).status == ReservationStatus.EXPIRED
    assert {message.status for message in messages(engine)} == {OutboxStatus.SENT}

    again = worker.run_round(engine, now=later)
    assert again.done == {
        "mail": 0,
        "expire": 0,
        "lapsed": 0,
        "offers": 0,
        "reminders": 0,
        "retention": 0,
    }
    assert not again.did_something
    assert len(eml_files()) == 2


def test_a_kind_that_fails_leaves_the_others_to_run(
    engine: Engine, make_performance: Callable[..., Performance], book: Callable[..., object]
) -> None:
    book(make_performance())
    ran: list[str] = []

    def broken(_engine: Engine, _now: datetime | None) -> int:
        ran.append("broken")
        raise RuntimeError("a bug in a kind\nwith a second line")

    def counting(_engine: Engine, _now: datetime | None) -> int:
        ran.append("counting")
        return 7

    kinds = [("broken", broken), ("mail", worker.deliver_mail), ("counting", counting)]
    report = worker.run_round(engine, kinds=kinds)

    assert ran == ["broken", "counting"]
    assert report.failed == {"broken": "RuntimeError: a bug in a kind"}
    assert report.done == {"mail": 1, "counting": 7}
    assert not report.database_away
    assert len(eml_files()) == 1
    assert report.describe() == "mail 1, counting 7; broken failed: RuntimeError: a bug in a kind"


def test_a_round_without_a_database_reports_every_kind_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("AZCTL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    reload_settings()
    report = worker.run_round()
    assert set(report.failed) == {name for name, _kind in worker.KINDS}
    assert report.done == {}
    assert report.database_away
    assert all("OperationalError" in error for error in report.failed.values())


def test_the_loop_backs_off_while_the_database_is_away() -> None:
    assert worker.backoff(5.0, 0) == 5.0
    assert worker.backoff(5.0, 1) == 10.0
    assert worker.backoff(5.0, 3) == 40.0
    assert worker.backoff(5.0, 10) == worker.MAX_BACKOFF
    assert worker.backoff(120.0, 4) == 120.0  # never shorter than the interval asked for


def test_the_loop_survives_failing_rounds_and_stops_when_told(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = threading.Event()
    reports_seen: list[worker.RoundReport] = []
    calls = 0

    def flaky(_engine: Engine, _now: datetime | None) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first round breaks")
        if calls == 3:
            stop.set()
        return 1

    monkeypatch.setattr(worker, "KINDS", [("flaky", flaky)])
    loop = threading.Thread(
        target=worker.run_worker,
        kwargs={"stop": stop, "interval": 0.01, "on_report": reports_seen.append},
    )
    loop.start()
    loop.join(timeout=30)
    assert not loop.is_alive()
    assert calls == 3
    assert [report.failed for report in reports_seen] == [
        {"flaky": "RuntimeError: first round breaks"},
        {},
        {},
    ]


def test_a_kind_sees_the_stop_its_worker_was_told() -> None:
    assert not worker.stopping()
    stop = threading.Event()
    with worker.shift(stop):
        assert not worker.stopping()
        stop.set()
        assert worker.stopping()
    assert not worker.stopping()


# Retention ---------------------------------------------------------------------------------


def add_waitlist_entry(
    session: Session, performance: Performance, *, status: str, email: str
) -> WaitlistEntry:
    """A waiting-list entry written directly: the list's own service is not this test's."""
    assert performance.id is not None
    entry = WaitlistEntry(
        performance_id=performance.id,
        reference=f"WL-{email.split('@', maxsplit=1)[0].upper()[:10]}",
        status=status,
        name="Wanda Waiting",
        email=email,
        phone="+39 02 1234567",
        party_size=3,
        notes="near the aisle",
    )
    with db.write(session):
        session.add(entry)
    return entry


def season(
    session: Session,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
    book: Callable[..., booking.SubmittedBooking],
) -> Performance:
    """A performance with a checked-in booking, a confirmed one, a pending one, a cancelled
    one and two waiting-list entries (one still waiting, one that left)."""
    performance = make_performance(capacity=20, starts_in=timedelta(days=3))
    assert performance.id is not None
    arrived = confirmed(performance, 2, phone="+39 333 1234567", notes="birthday")
    confirmed(performance, 3)
    book(performance, 1)
    gone = confirmed(performance, 4)
    booking.cancel_reservation(session, reference=gone.reservation.reference)
    checkin.manual(
        session,
        reference=arrived.reservation.reference,
        performance_id=performance.id,
        now=performance.starts_at,
    )
    add_waitlist_entry(session, performance, status=WaitlistStatus.WAITING, email="w1@example.org")
    add_waitlist_entry(session, performance, status=WaitlistStatus.LEFT, email="w2@example.org")
    return performance


def counts(engine: Engine, performance_id: int) -> dict[str, object]:
    """Everything a report counts of one performance, as the database has it now."""
    with db.new_session(engine) as session:
        summary = reports.performance_summary(session, performance_id=performance_id).as_dict()
        summary.pop("booking")  # open/started: a matter of the real clock, not of the data
        by_status = session.exec(
            select(Reservation.status, sa.func.count(), sa.func.sum(Reservation.party_size))
            .where(Reservation.performance_id == performance_id)
            .group_by(col(Reservation.status))
        ).all()
        waitlist = session.exec(
            select(WaitlistEntry.status, sa.func.count(), sa.func.sum(WaitlistEntry.party_size))
            .where(WaitlistEntry.performance_id == performance_id)
            .group_by(col(WaitlistEntry.status))
        ).all()
    return {
        "summary": summary,
        "reservations": sorted(map(tuple, by_status)),
        "waitlist": sorted(map(tuple, waitlist)),
    }


def personal(engine: Engine, performance_id: int) -> list[tuple[object, ...]]:
    with db.new_session(engine) as session:
        rows = session.exec(
            select(Reservation.name, Reservation.email, Reservation.phone, Reservation.notes)
            .where(Reservation.performance_id == performance_id)
            .order_by(col(Reservation.id))
        ).all()
        entries = session.exec(
            select(WaitlistEntry.name, WaitlistEntry.email, WaitlistEntry.phone)
            .where(WaitlistEntry.performance_id == performance_id)
            .order_by(col(WaitlistEntry.id))
        ).all()
    return [tuple(row) for row in [*rows, *entries]]


def test_retention_erases_exactly_what_is_due_and_keeps_every_count(
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
    book: Callable[..., booking.SubmittedBooking],
) -> None:
    performance = season(session, make_performance, confirmed, book)
    assert performance.id is not None
    kept = personal(engine, performance.id)

    # 364 days after the start: the mail goes out and the pending booking expires, but no
    # personal data is due yet. Mail: four asked to confirm, three tickets, one cancellation;
    # the waiting list of a performance long started is closed.
    report = worker.run_round(engine, now=performance.starts_at + 364 * DAY)
    assert report.done == {
        "mail": 4 + 3 + 1,
        "expire": 1,
        "lapsed": 1,
        "offers": 0,
        "reminders": 0,
        "retention": 0,
    }
    assert personal(engine, performance.id) == kept
    before = counts(engine, performance.id)
    assert before["summary"]["checked_in_seats"] == 2  # type: ignore[index]

    # 366 days after: every booking and entry of it is erased, and every count stays.
    erased_at = performance.starts_at + 366 * DAY
    report = worker.run_round(engine, now=erased_at)
    assert report.failed == {}
    assert report.done["retention"] == 4 + 2
    assert counts(engine, performance.id) == before
    with db.new_session(engine) as check:
        reservations = check.exec(
            select(Reservation).where(Reservation.performance_id == performance.id)
        ).all()
        entries = check.exec(
            select(WaitlistEntry).where(WaitlistEntry.performance_id == performance.id)
        ).all()
        outbox_rows = check.exec(select(OutboxMessage)).all()
    assert len(reservations) == 4
    for row in reservations:
        assert (row.name, row.email, row.phone, row.notes) == ("(erased)", "", None, None)
        assert row.erased_at == erased_at
    for entry in entries:
        assert (entry.name, entry.phone, entry.notes) == ("(erased)", None, None)
        assert "@" not in entry.email
        assert entry.erased_at == erased_at
    assert outbox_rows
    for message in outbox_rows:
        assert message.to_address == ""
        assert message.context == {}

    # Idempotent: a later round erases nothing more, and leaves the first erasure's mark.
    assert worker.run_round(engine, now=erased_at + DAY).done["retention"] == 0
    assert {row.erased_at for row in reservations} == {
        fresh(engine, Reservation, row.id).erased_at for row in reservations
    }


def test_retention_takes_only_the_performances_past_it(
    engine: Engine,
    session: Session,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
) -> None:
    old = make_performance(starts_in=timedelta(days=1), show_slug="old-show")
    recent = make_performance(starts_in=timedelta(days=3), show_slug="new-show")
    confirmed(old, 2, name="Olga Old")
    confirmed(recent, 2, name="Rita Recent")
    old_entry = add_waitlist_entry(session, old, status=WaitlistStatus.OFFERED, email="o@x.org")
    recent_entry = add_waitlist_entry(
        session, recent, status=WaitlistStatus.WAITING, email="r@x.org"
    )

    # The old one started 366 days ago, the recent one 364.
    now = old.starts_at + 366 * DAY
    assert recent.starts_at + 364 * DAY == now
    with db.new_session(engine) as work:
        assert retention.erase_due(work, now=now) == 2

    assert personal(engine, old.id or 0)[0] == ("(erased)", "", None, None)
    assert personal(engine, recent.id or 0)[0][0] == "Rita Recent"
    assert fresh(engine, WaitlistEntry, old_entry.id).erased_at == now
    assert fresh(engine, WaitlistEntry, old_entry.id).status == WaitlistStatus.OFFERED
    assert fresh(engine, WaitlistEntry, recent_entry.id).email == "r@x.org"
    assert fresh(engine, WaitlistEntry, recent_entry.id).erased_at is None


def test_two_active_entries_of_one_performance_can_both_be_erased(
    engine: Engine, session: Session, make_performance: Callable[..., Performance]
) -> None:
    """Active entries are unique by email per performance: erased ones must not collide."""
    performance = make_performance()
    first = add_waitlist_entry(session, performance, status=WaitlistStatus.WAITING, email="a@x.it")
    second = add_waitlist_entry(session, performance, status=WaitlistStatus.WAITING, email="b@x.it")
    with db.new_session(engine) as work:
        assert retention.erase_due(work, now=performance.starts_at + 400 * DAY) == 2
    emails = {fresh(engine, WaitlistEntry, entry.id).email for entry in (first, second)}
    assert len(emails) == 2
    assert not any("@" in email for email in emails)


def test_mail_still_queued_past_retention_is_given_up_not_sent(
    engine: Engine, make_performance: Callable[..., Performance], book: Callable[..., object]
) -> None:
    performance = make_performance()
    book(performance)  # its confirmation mail stays queued
    report = worker.run_round(
        engine,
        now=performance.starts_at + 366 * DAY,
        kinds=[("retention", worker.erase_past_retention), ("mail", worker.deliver_mail)],
    )
    assert report.done == {"retention": 1, "mail": 0}
    [message] = messages(engine)
    assert (message.status, message.to_address, message.context) == (OutboxStatus.FAILED, "", {})
    assert eml_files() == []


def test_the_waiting_lists_mail_is_scrubbed_with_its_entry(
    engine: Engine, session: Session, make_performance: Callable[..., Performance]
) -> None:
    """A waiting-list mail names its entry, so retention finds it: sent mail loses its address
    and context, and mail still queued is given up."""
    performance = make_performance(capacity=2)
    submitted = booking.submit_booking(
        session, performance_id=performance.id, name="Ada", email="ada@example.org", party_size=2
    )
    booking.confirm_booking(session, token=submitted.confirm_token)
    waitlist.join(
        session,
        performance_id=performance.id,
        name="Giulia Bianchi",
        email="giulia@example.org",
        party_size=2,
    )
    [joined] = [message for message in messages(engine) if message.kind == "waitlist_joined"]
    assert joined.waitlist_entry_id is not None and joined.to_address == "giulia@example.org"
    with db.new_session(engine) as work:
        retention.erase_due(work, now=performance.starts_at + 366 * DAY)
    scrubbed = fresh(engine, OutboxMessage, joined.id)
    assert (scrubbed.status, scrubbed.to_address, scrubbed.context) == (OutboxStatus.FAILED, "", {})
    assert all("giulia" not in str(row.to_address) for row in messages(engine))


@pytest.mark.parametrize(("setting", "erased"), [("off", 0), ("30d", 1), ("400d", 0)])
def test_the_retention_setting_decides_what_is_due(
    engine: Engine,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    erased: int,
) -> None:
    monkeypatch.setenv("AZCTL_RETENTION", setting)
    reload_settings()
    performance = make_performance()
    confirmed(performance)
    report = worker.run_round(
        engine,
        now=performance.starts_at + 366 * DAY,
        kinds=[("retention", worker.erase_past_retention)],
    )
    assert report.done == {"retention": erased}


def test_a_performance_held_by_another_worker_is_left_for_the_next_round(
    backend: str,
    engine: Engine,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
) -> None:
    if backend != "postgresql":
        pytest.skip("row locks: SQLite has one writer, which a second worker simply waits for")
    performance = make_performance()
    confirmed(performance)
    now = performance.starts_at + 366 * DAY
    with db.new_session(engine) as holder, db.write(holder):
        db.lock_performance(holder, performance.id or 0)
        with db.new_session(engine) as work:
            assert retention.erase_due(work, now=now) == 0  # skipped, not waited for
    with db.new_session(engine) as work:
        assert retention.erase_due(work, now=now) == 1
