"""The door: every scan result, the scan log, no personal data in answers, manual check-in, undo."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from azctl import db, errors
from azctl.models import CheckIn, Reservation, ScanLog
from azctl.services import booking, catalog, checkin, checkin_lists, times, tokens
from azctl.services.checkin import ScanResult
from tests.conftest import count_rows
from tests.services.helpers import fresh, refused, seats

VISITOR = {
    "name": "Zebulon Quark",
    "email": "zebulon.quark@example.org",
    "phone": "+39 333 7654321",
    "notes": "needs the wheelchair space",
}


def scan_logs(engine) -> list[ScanLog]:
    with db.new_session(engine) as session:
        return list(session.exec(select(ScanLog).order_by(col(ScanLog.id))))


def check_ins(engine) -> list[CheckIn]:
    with db.new_session(engine) as session:
        return list(session.exec(select(CheckIn).order_by(col(CheckIn.id))))


def visitor_ticket(session, performance, party_size=3):
    submitted = booking.submit_booking(
        session, performance_id=performance.id, party_size=party_size, **VISITOR
    )
    return booking.confirm_booking(session, token=submitted.confirm_token)


def assert_no_personal_data(outcome: checkin.ScanOutcome) -> None:
    answer = outcome.as_dict()
    assert not {"name", "email", "phone", "notes"} & set(answer)
    dumped = json.dumps(answer, default=str).lower()
    for value in VISITOR.values():
        assert value.lower() not in dumped
    assert "zebulon" not in dumped
    assert "zebulon" not in outcome.message.lower()


def test_http_statuses_follow_the_design_table():
    assert {result.value: result.http_status for result in ScanResult} == {
        "ok": 201,
        "already_checked_in": 409,
        "unknown_token": 404,
        "not_confirmed": 422,
        "wrong_performance": 422,
        "too_early": 422,
        "too_late": 422,
        "performance_cancelled": 422,
        "not_inside": 409,
    }


def test_ok_admits_the_party_and_records_who_and_when(session, engine, make_performance, anna):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance, 3)
    now = times.now_utc()
    outcome = checkin.scan(
        session, text=ticket.ticket_token, performance_id=performance.id, staff=anna, now=now
    )

    assert outcome.result is ScanResult.OK
    assert outcome.admitted
    assert (outcome.reference, outcome.party_size) == (ticket.reservation.reference, 3)
    assert outcome.performance_id == performance.id
    assert outcome.performance_label == f"Open Show, {times.short_local(performance.starts_at)}"
    assert (outcome.checked_in_at, outcome.checked_in_by) == (now, "anna")
    assert outcome.message == f"ADMIT 3: {ticket.reservation.reference}"
    assert_no_personal_data(outcome)

    [row] = check_ins(engine)
    assert (row.reservation_id, row.performance_id, row.staff_id, row.source) == (
        ticket.reservation.id,
        performance.id,
        anna.id,
        "qr_scan",
    )
    assert row.checked_in_at == now
    [log] = scan_logs(engine)
    assert (log.result, log.source, log.reservation_id, log.staff_id, log.performance_id) == (
        "ok",
        "qr_scan",
        ticket.reservation.id,
        anna.id,
        performance.id,
    )
    assert log.token_fingerprint == tokens.fingerprint(tokens.hash_token(ticket.ticket_token))
    assert seats(engine, performance.id).checked_in_seats == 3
    assert seats(engine, performance.id).still_to_come_seats == 0


def test_scanning_the_ticket_url_or_a_mangled_form_admits(
    session, engine, make_performance, subtests
):
    performance = make_performance(capacity=20)
    forms = {
        "ticket url": lambda token: f"http://127.0.0.1:8000/t/{token}",
        "lowercase with blanks": lambda token: f"  {token.lower()}  \n",
        "mangled url": lambda token: f"https>&&tickets.example.org&t&{token}",
        "hyphen groups": lambda token: "-".join(token[i : i + 4] for i in range(0, 32, 4)),
    }
    for name, form in forms.items():
        with subtests.test(form=name):
            ticket = visitor_ticket(session, performance, 1)
            outcome = checkin.scan(
                session, text=form(ticket.ticket_token), performance_id=performance.id
            )
            assert outcome.result == "ok"
            assert outcome.reference == ticket.reservation.reference
    assert len(check_ins(engine)) == len(forms)


def test_second_scan_is_already_checked_in_saying_when_and_by_whom(
    session, engine, make_performance, anna, make_staff
):
    bruno, _ = make_staff("bruno")
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance, 2)
    first_at = performance.starts_at - timedelta(minutes=40)
    checkin.scan(
        session, text=ticket.ticket_token, performance_id=performance.id, staff=anna, now=first_at
    )
    outcome = checkin.scan(
        session,
        text=ticket.ticket_token,
        performance_id=performance.id,
        staff=bruno,
        now=first_at + timedelta(minutes=5),
    )
    assert outcome.result is ScanResult.ALREADY_CHECKED_IN
    assert not outcome.admitted
    assert outcome.checked_in_at == first_at
    assert outcome.checked_in_by == "anna"
    assert f"{times.to_local(first_at):%H:%M}" in outcome.message
    assert "by anna" in outcome.message
    assert outcome.as_dict()["checked_in_by"] == "anna"
    assert outcome.as_dict()["checked_in_at"] == times.iso_local(first_at)
    assert_no_personal_data(outcome)
    assert len(check_ins(engine)) == 1
    assert [(log.result, log.staff_id) for log in scan_logs(engine)] == [
        ("ok", anna.id),
        ("already_checked_in", bruno.id),
    ]
    assert seats(engine, performance.id).checked_in_seats == 2


def test_already_checked_in_without_staff_names_nobody(session, make_performance):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert outcome.result == "already_checked_in"
    assert outcome.checked_in_by is None
    assert " by " not in outcome.message


def test_unknown_ticket_is_logged_without_the_raw_text(session, engine, make_performance, subtests):
    performance = make_performance(capacity=10)
    visitor_ticket(session, performance)
    texts = [tokens.new_token(), "hello door", "", "AZ-7KQ4M2"]
    for count, text in enumerate(texts, start=1):
        with subtests.test(text=text):
            outcome = checkin.scan(session, text=text, performance_id=performance.id)
            assert outcome.result is ScanResult.UNKNOWN_TOKEN
            assert outcome.reference is None and outcome.party_size is None
            logs = scan_logs(engine)
            assert len(logs) == count
            log = logs[-1]
            assert (log.result, log.reservation_id, log.performance_id) == (
                "unknown_token",
                None,
                performance.id,
            )
            canonical = tokens.parse_scanned(text)
            expected = tokens.fingerprint(tokens.hash_token(canonical)) if canonical else None
            assert log.token_fingerprint == expected
    assert check_ins(engine) == []


@pytest.mark.parametrize("which", ["confirm", "cancel", "spent_confirm"])
def test_a_confirmation_or_cancel_token_at_the_door_is_unknown(
    session, engine, make_performance, book, which
):
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    if which == "spent_confirm":
        booking.confirm_booking(session, token=submitted.confirm_token)
    raw = submitted.cancel_token if which == "cancel" else submitted.confirm_token
    outcome = checkin.scan(session, text=raw, performance_id=performance.id)
    assert outcome.result == "unknown_token"
    assert check_ins(engine) == []
    assert [log.result for log in scan_logs(engine)] == ["unknown_token"]


def test_a_ticket_for_another_performance_names_the_right_one(session, engine, make_performance):
    tonight = make_performance(capacity=10, show_slug="arlecchino")
    other = make_performance(capacity=10, starts_in=timedelta(hours=2, minutes=30))
    ticket = visitor_ticket(session, tonight)
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=other.id)

    assert outcome.result is ScanResult.WRONG_PERFORMANCE
    assert outcome.performance_id == tonight.id
    label = f"Arlecchino, {times.short_local(tonight.starts_at)}"
    assert outcome.performance_label == label
    assert label in outcome.message
    assert outcome.as_dict()["performance"] == label
    assert_no_personal_data(outcome)
    assert check_ins(engine) == []
    [log] = scan_logs(engine)
    assert (log.result, log.performance_id, log.reservation_id) == (
        "wrong_performance",
        other.id,
        ticket.reservation.id,
    )


def test_too_early_gives_the_window_and_the_time_now(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(hours=6))
    ticket = visitor_ticket(session, performance)
    opens = performance.starts_at - timedelta(hours=3)
    now = opens - timedelta(minutes=1)
    outcome = checkin.scan(
        session, text=ticket.ticket_token, performance_id=performance.id, now=now
    )
    assert outcome.result is ScanResult.TOO_EARLY
    answer = outcome.as_dict()
    assert answer["window_opens_at"] == times.iso_local(opens)
    assert answer["window_closes_at"] == times.iso_local(performance.starts_at + timedelta(hours=4))
    assert answer["now"] == times.iso_local(now)
    assert times.short_local(opens) in outcome.message
    assert_no_personal_data(outcome)
    assert check_ins(engine) == []
    assert [log.result for log in scan_logs(engine)] == ["too_early"]

    at_opening = checkin.scan(
        session, text=ticket.ticket_token, performance_id=performance.id, now=opens
    )
    assert at_opening.result == "ok"


def test_too_late_after_the_window_closes(session, engine, make_performance):
    performance = make_performance(capacity=10)
    late = visitor_ticket(session, performance)
    on_time = visitor_ticket(session, performance)
    closes = performance.starts_at + timedelta(hours=4)

    outcome = checkin.scan(
        session,
        text=late.ticket_token,
        performance_id=performance.id,
        now=closes + timedelta(seconds=1),
    )
    assert outcome.result is ScanResult.TOO_LATE
    assert outcome.as_dict()["window_closes_at"] == times.iso_local(closes)
    assert times.short_local(closes) in outcome.message
    assert_no_personal_data(outcome)
    last_moment = checkin.scan(
        session, text=on_time.ticket_token, performance_id=performance.id, now=closes
    )
    assert last_moment.result == "ok"
    assert [log.result for log in scan_logs(engine)] == ["too_late", "ok"]
    assert [c.reservation_id for c in check_ins(engine)] == [on_time.reservation.id]


def test_a_performance_may_have_its_own_window(session, engine, make_performance):
    base = make_performance(capacity=10)
    performance = catalog.add_performance(
        session,
        show_slug="open-show",
        venue_slug="teatro-studio",
        starts_at=base.starts_at + timedelta(days=1),
        room_capacity=10,
        checkin_opens_before_minutes=30,
        checkin_closes_after_minutes=15,
    )
    ticket = visitor_ticket(session, performance)
    start = performance.starts_at

    def at(delta):
        return checkin.scan(
            session, text=ticket.ticket_token, performance_id=performance.id, now=start + delta
        ).result

    assert at(timedelta(minutes=-31)) == "too_early"
    assert at(timedelta(minutes=16)) == "too_late"
    assert at(timedelta(minutes=-30)) == "ok"


def test_manual_check_in_of_a_pending_reservation_is_not_confirmed(
    session, engine, make_performance
):
    performance = make_performance(capacity=10)
    submitted = booking.submit_booking(
        session, performance_id=performance.id, party_size=2, **VISITOR
    )
    outcome = checkin.manual(
        session, reference=submitted.reservation.reference, performance_id=performance.id
    )
    assert outcome.result is ScanResult.NOT_CONFIRMED
    assert "pending" in outcome.message
    assert_no_personal_data(outcome)
    assert check_ins(engine) == []
    [log] = scan_logs(engine)
    assert (log.result, log.source, log.token_fingerprint) == ("not_confirmed", "manual", None)


def test_manual_check_in_of_a_cancelled_or_expired_reservation_is_not_confirmed(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=10, starts_in=timedelta(hours=2))
    cancelled = visitor_ticket(session, performance)
    booking.cancel_reservation(session, reference=cancelled.reservation.reference)
    lapsed = book(performance, 1)
    booking.expire_pending(session, now=performance.starts_at)
    assert fresh(engine, Reservation, lapsed.reservation.id).status == "expired"
    for reference, status in (
        (cancelled.reservation.reference, "cancelled"),
        (lapsed.reservation.reference, "expired"),
    ):
        outcome = checkin.manual(session, reference=reference, performance_id=performance.id)
        assert outcome.result == "not_confirmed"
        assert status in outcome.message
    assert check_ins(engine) == []
    assert [log.result for log in scan_logs(engine)] == ["not_confirmed", "not_confirmed"]


def test_scanning_a_cancelled_bookings_ticket_is_not_confirmed(session, engine, make_performance):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    booking.cancel_reservation(session, reference=ticket.reservation.reference)
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert outcome.result == "not_confirmed"


def test_scanning_a_ticket_of_a_cancelled_performance_says_so(session, engine, make_performance):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    booking.cancel_performance(session, performance_id=performance.id)
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert outcome.result == "performance_cancelled"


def test_a_cancelled_door_refuses_a_still_confirmed_ticket(session, engine, make_performance):
    # The state cancel_performance should leave visible at the door; written directly here.
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE performance SET cancelled_at = updated_at WHERE id = :id"),
            {"id": performance.id},
        )
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert outcome.result is ScanResult.PERFORMANCE_CANCELLED
    assert_no_personal_data(outcome)
    assert check_ins(engine) == []
    assert [log.result for log in scan_logs(engine)] == ["performance_cancelled"]


def test_manual_check_in_by_reference_in_any_spelling(session, engine, make_performance, anna):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance, 4)
    spelling = ticket.reservation.reference.lower().removeprefix("az-")
    outcome = checkin.manual(session, reference=spelling, performance_id=performance.id, staff=anna)
    assert outcome.result == "ok"
    assert (outcome.party_size, outcome.checked_in_by) == (4, "anna")
    assert_no_personal_data(outcome)
    [row] = check_ins(engine)
    assert (row.source, row.staff_id) == ("manual", anna.id)
    again = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert again.result == "already_checked_in"
    assert again.checked_in_by == "anna"
    assert [(log.result, log.source) for log in scan_logs(engine)] == [
        ("ok", "manual"),
        ("already_checked_in", "qr_scan"),
    ]


def test_manual_check_in_of_an_unknown_reference_is_not_found(session, engine, make_performance):
    performance = make_performance(capacity=10)
    with pytest.raises(errors.NotFound) as info:
        checkin.manual(session, reference="AZ-000000", performance_id=performance.id)
    assert info.value.code == "not_found"
    assert check_ins(engine) == []


def test_manual_check_in_of_an_unknown_reference_is_logged(session, engine, make_performance):
    performance = make_performance(capacity=10)
    with pytest.raises(errors.NotFound):
        checkin.manual(session, reference="AZ-000000", performance_id=performance.id)
    assert len(scan_logs(engine)) == 1


def test_scanning_at_an_unknown_door_is_not_found(session, engine, make_performance):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    with refused(engine, errors.NotFound, "not_found"):
        checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id + 100)


def test_every_attempt_writes_one_scan_log_row_and_no_answer_shows_personal_data(
    session, engine, make_performance, anna
):
    performance = make_performance(capacity=20)
    elsewhere = make_performance(capacity=20, starts_in=timedelta(days=2))
    ticket = visitor_ticket(session, performance)
    foreign = visitor_ticket(session, elsewhere)
    pending = booking.submit_booking(
        session, performance_id=performance.id, party_size=1, **VISITOR
    )
    start = performance.starts_at
    attempts = [
        ("scan", ticket.ticket_token, start - timedelta(hours=4), "too_early"),
        ("scan", ticket.ticket_token, None, "ok"),
        ("scan", ticket.ticket_token, None, "already_checked_in"),
        ("scan", tokens.new_token(), None, "unknown_token"),
        ("scan", "garbage!", None, "unknown_token"),
        ("scan", pending.confirm_token, None, "unknown_token"),
        ("scan", foreign.ticket_token, None, "wrong_performance"),
        ("manual", pending.reservation.reference, None, "not_confirmed"),
        ("manual", foreign.reservation.reference, None, "wrong_performance"),
        ("manual", ticket.reservation.reference, None, "already_checked_in"),
    ]
    for kind, text, now, expected in attempts:
        if kind == "scan":
            outcome = checkin.scan(
                session, text=text, performance_id=performance.id, staff=anna, now=now
            )
        else:
            outcome = checkin.manual(
                session, reference=text, performance_id=performance.id, staff=anna, now=now
            )
        assert outcome.result == expected
        assert_no_personal_data(outcome)
    logs = scan_logs(engine)
    assert [log.result for log in logs] == [expected for *_, expected in attempts]
    assert {log.staff_id for log in logs} == {anna.id}
    assert {log.performance_id for log in logs} == {performance.id}
    assert len(check_ins(engine)) == 1


def test_undo_takes_back_a_check_in_and_is_logged(session, engine, make_performance, anna):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance, 2)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id, staff=anna)
    undone = checkin.undo(
        session, reference=ticket.reservation.reference, performance_id=performance.id, staff=anna
    )
    assert undone.id == ticket.reservation.id
    assert check_ins(engine) == []
    assert seats(engine, performance.id).checked_in_seats == 0
    assert [(log.result, log.source, log.staff_id) for log in scan_logs(engine)] == [
        ("ok", "qr_scan", anna.id),
        ("undone", "manual", anna.id),
    ]
    assert fresh(engine, Reservation, ticket.reservation.id).status == "confirmed"
    again = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert again.result == "ok"


def test_undo_of_what_is_not_checked_in_is_refused(session, engine, make_performance):
    performance = make_performance(capacity=10)
    other = make_performance(capacity=10, starts_in=timedelta(hours=3))
    ticket = visitor_ticket(session, performance)
    with refused(engine, errors.InvalidState, "invalid_state"):
        checkin.undo(session, reference=ticket.reservation.reference, performance_id=performance.id)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    with refused(engine, errors.InvalidState, "invalid_state"):
        checkin.undo(session, reference=ticket.reservation.reference, performance_id=other.id)
    with refused(engine, errors.NotFound, "not_found"):
        checkin.undo(session, reference="AZ-000000", performance_id=performance.id)
    assert len(check_ins(engine)) == 1


def test_one_check_in_per_reservation_is_enforced_by_the_database(
    session, engine, make_performance
):
    performance = make_performance(capacity=10)
    ticket = visitor_ticket(session, performance)
    checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.insert(CheckIn).values(
                reservation_id=ticket.reservation.id,
                performance_id=performance.id,
                source="manual",
                checked_in_at=times.now_utc(),
            )
        )
    assert count_rows(engine, CheckIn) == 1


def test_lists_of_check_ins_and_recent_scans(session, engine, make_performance, anna):
    performance = make_performance(capacity=10)
    first = visitor_ticket(session, performance, 1)
    second = visitor_ticket(session, performance, 2)
    start = performance.starts_at
    checkin.scan(
        session,
        text=second.ticket_token,
        performance_id=performance.id,
        staff=anna,
        now=start - timedelta(minutes=30),
    )
    checkin.manual(
        session,
        reference=first.reservation.reference,
        performance_id=performance.id,
        now=start - timedelta(minutes=10),
    )
    checkin.scan(
        session,
        text=tokens.new_token(),
        performance_id=performance.id,
        now=start - timedelta(minutes=5),
    )
    rows = checkin_lists.list_check_ins(session, performance_id=performance.id)
    assert [(r.reference, r.party_size, r.checked_in_by, r.source) for r in rows] == [
        (second.reservation.reference, 2, "anna", "qr_scan"),
        (first.reservation.reference, 1, None, "manual"),
    ]
    assert rows[0].as_dict()["checked_in_at"] == times.iso_local(start - timedelta(minutes=30))
    recent = checkin_lists.recent_scans(session, performance_id=performance.id, limit=2)
    assert [(r.result, r.reference) for r in recent] == [
        ("unknown_token", None),
        ("ok", first.reservation.reference),
    ]
