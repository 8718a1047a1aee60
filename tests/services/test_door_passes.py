"""Passes in and out at several doors, on both backends: what `door_counts` adds up, what undo
takes back, a scan sent twice with one nonce, and a door's offline journal uploaded
(`record_offline`): its check-ins at the door's own time, its clashes kept as forced passes and
listed, a second upload recording nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from azctl import db, errors
from azctl.models import CheckIn, DoorPass, ScanLog
from azctl.services import booking, checkin, checkin_offline, door_copy, times, tokens
from azctl.services.checkin import ScanResult
from azctl.services.door_counts import Conflict, DoorCounts, DoorTally
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.services.door_helpers import clashes, counts, rows, upload
from tests.services.helpers import seats


def test_in_at_main_out_and_back_at_side_is_one_party_admitted_and_inside(
    session, engine, make_performance, confirmed, anna
):
    performance = make_performance(capacity=20)
    party = confirmed(performance, 3)
    other = confirmed(performance, 2)
    start = performance.starts_at

    def at(minutes, text, door, direction="in"):
        return checkin.scan(
            session,
            text=text,
            performance_id=performance.id,
            staff=anna,
            now=start + timedelta(minutes=minutes),
            door=door,
            direction=direction,
        )

    first = at(-20, party.ticket_token, "main")
    assert (first.result, first.door, first.again) == ("ok", "main", False)
    out = at(50, party.ticket_token, "side", "out")
    assert (out.result, out.direction, out.door) == ("ok", "out", "side")
    back = at(70, party.ticket_token, "side")
    assert (back.result, back.again, back.door) == ("ok", True, "side")
    assert back.message == f"ADMIT 3 (back in): {party.reservation.reference}"
    assert back.checked_in_at == start - timedelta(minutes=20)
    assert at(-10, other.ticket_token, "side").result == "ok"

    assert counts(engine, performance) == DoorCounts(
        doors=(DoorTally("main", 3, 0), DoorTally("side", 5, 3)),
        admitted_seats=5,
        inside_seats=5,
        conflicts=0,
    )
    assert seats(engine, performance.id).checked_in_seats == 5
    assert [(c.reservation_id, c.door) for c in rows(engine, CheckIn)] == [
        (party.reservation.id, "main"),
        (other.reservation.id, "side"),
    ]
    assert [(log.door, log.direction, log.result) for log in rows(engine, ScanLog)] == [
        ("main", "in", "ok"),
        ("side", "out", "ok"),
        ("side", "in", "ok"),
        ("side", "in", "ok"),
    ]
    # In again while in: the answer names the first door when it is not the main one.
    again = at(80, other.ticket_token, "main")
    assert again.result is ScanResult.ALREADY_CHECKED_IN
    assert again.message.endswith("by anna (side door)")
    assert counts(engine, performance).inside_seats == 5


def test_exits_and_refused_passes_add_nothing_but_what_passed(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=20)
    party = confirmed(performance, 4)
    token = party.ticket_token

    def way(direction, door="main"):
        return checkin.scan(
            session, text=token, performance_id=performance.id, door=door, direction=direction
        ).result

    assert way("out") == "not_inside"
    assert counts(engine, performance) == DoorCounts((), 0, 0, 0)
    assert [way("in"), way("in", "side"), way("out", "side"), way("out")] == [
        "ok",
        "already_checked_in",
        "ok",
        "not_inside",
    ]
    assert counts(engine, performance) == DoorCounts(
        (DoorTally("main", 4, 0), DoorTally("side", 0, 4)), 4, 0, 0
    )
    assert len(rows(engine, DoorPass)) == 2


def test_undo_takes_back_the_partys_passes_and_the_next_entry_is_a_first(
    session, engine, make_performance, confirmed, anna
):
    performance = make_performance(capacity=20)
    party = confirmed(performance, 2)
    stays = confirmed(performance, 1)
    for door, direction in (("main", "in"), ("side", "out"), ("side", "in")):
        checkin.scan(
            session,
            text=party.ticket_token,
            performance_id=performance.id,
            door=door,
            direction=direction,
        )
    checkin.scan(session, text=stays.ticket_token, performance_id=performance.id, door="back")

    checkin.undo(
        session, reference=party.reservation.reference, performance_id=performance.id, staff=anna
    )
    assert counts(engine, performance) == DoorCounts((DoorTally("back", 1, 0),), 1, 1, 0)
    assert rows(engine, DoorPass, reservation_id=party.reservation.id) == []
    assert [log.result for log in rows(engine, ScanLog)][-1] == "undone"

    again = checkin.scan(session, text=party.ticket_token, performance_id=performance.id)
    assert (again.result, again.again, again.message) == (
        "ok",
        False,
        f"ADMIT 2: {party.reservation.reference}",
    )


def test_a_scan_sent_twice_with_one_nonce_is_recorded_once(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=20)
    party = confirmed(performance, 3)
    reference = party.reservation.reference
    first_at = times.now_utc()

    def scan(nonce, direction="in", now=None):
        return checkin.scan(
            session,
            text=party.ticket_token,
            performance_id=performance.id,
            door="side",
            direction=direction,
            nonce=nonce,
            now=now,
        )

    assert scan("n-1", now=first_at).message == f"ADMIT 3: {reference}"
    resent = scan("n-1")
    assert (resent.result, resent.message) == ("ok", f"ADMIT 3: {reference} (recorded already)")
    assert resent.checked_in_at == first_at
    assert scan("n-2", "out").result == "ok"
    with unchanged(engine):
        assert scan("n-2", "out").message == f"EXIT 3: {reference} (recorded already)"
    # A manual pass with a nonce already recorded is the same pass too.
    with unchanged(engine):
        by_hand = checkin.manual(
            session, reference=reference, performance_id=performance.id, nonce="n-1"
        )
    assert by_hand.result == "ok"

    assert counts(engine, performance) == DoorCounts((DoorTally("side", 3, 3),), 3, 0, 0)
    assert len(rows(engine, CheckIn)) == 1
    assert [p.nonce for p in rows(engine, DoorPass)] == ["n-1", "n-2"]


def test_an_offline_admission_uploaded_is_the_check_in_at_the_doors_time(
    session, engine, make_performance, confirmed, anna
):
    performance = make_performance(capacity=20)
    scanned = confirmed(performance, 3)
    by_hand = confirmed(performance, 2)
    copy = door_copy.take_copy(session, performance_id=performance.id, door="side")
    device_time = times.now_utc() - timedelta(minutes=10)
    assert copy.decide(text=scanned.ticket_token, now=device_time, staff="anna").admitted
    later = device_time + timedelta(minutes=1)
    manual = copy.decide_by_reference(reference=by_hand.reservation.reference, now=later)
    assert manual.admitted

    answers = upload(engine, copy, staff=anna)
    assert [(a.result, a.offline, a.door) for a in answers] == [("ok", True, "side")] * 2
    [first, second] = rows(engine, CheckIn)
    assert (first.reservation_id, first.source, first.door) == (
        scanned.reservation.id,
        "offline",
        "side",
    )
    assert (first.checked_in_at, first.staff_id) == (device_time, anna.id)
    assert (second.reservation_id, second.checked_in_at) == (by_hand.reservation.id, later)
    for door_pass, entry in zip(rows(engine, DoorPass), copy.journal, strict=True):
        assert (door_pass.nonce, door_pass.passed_at) == (entry.nonce, entry.passed_at)
        assert (door_pass.offline, door_pass.forced, door_pass.conflict) == (True, False, None)
        assert door_pass.recorded_at > door_pass.passed_at
    logs = rows(engine, ScanLog)
    assert [(log.source, log.result, log.door) for log in logs] == [("offline", "ok", "side")] * 2
    assert [log.scanned_at for log in logs] == [device_time, later]
    assert logs[0].token_fingerprint == tokens.fingerprint(tokens.hash_token(scanned.ticket_token))
    assert counts(engine, performance) == DoorCounts((DoorTally("side", 5, 0),), 5, 5, 0)


def test_one_ticket_let_in_offline_at_two_doors_is_one_check_in_and_one_conflict(
    session, engine, make_performance, confirmed, anna, make_staff
):
    bruno, _token = make_staff("bruno")
    performance = make_performance(capacity=20)
    party = confirmed(performance, 3)
    main = door_copy.take_copy(session, performance_id=performance.id, door="main")
    side = door_copy.take_copy(session, performance_id=performance.id, door="side")
    first_at = times.now_utc() - timedelta(minutes=5)
    second_at = first_at + timedelta(minutes=2)
    assert main.decide(text=party.ticket_token, now=first_at).admitted
    assert side.decide(text=party.ticket_token, now=second_at).admitted

    assert [a.result for a in upload(engine, main, staff=anna)] == ["ok"]
    [clash] = upload(engine, side, staff=bruno)
    assert (clash.result, clash.offline, clash.admitted) == ("already_checked_in", True, False)

    [forced] = rows(engine, DoorPass, forced=True)
    assert (forced.door, forced.conflict, forced.offline, forced.nonce) == (
        "side",
        "already_checked_in",
        True,
        side.journal[0].nonce,
    )
    [listed] = clashes(engine, performance)
    assert listed == Conflict(
        reference=party.reservation.reference,
        party_size=3,
        door="side",
        direction="in",
        passed_at=second_at,
        recorded_at=forced.recorded_at,
        conflict="already_checked_in",
        by="bruno",
        first_door="main",
        first_at=first_at,
    )
    assert listed.as_dict()["first_at"] == times.iso_local(first_at)
    assert [(log.result, log.door) for log in rows(engine, ScanLog)] == [
        ("ok", "main"),
        ("forced", "side"),
    ]
    # Forced passes count in no counter, only as a conflict.
    assert counts(engine, performance) == DoorCounts((DoorTally("main", 3, 0),), 3, 3, 1)
    assert seats(engine, performance.id).checked_in_seats == 3
    assert len(rows(engine, CheckIn)) == 1


def test_a_booking_cancelled_while_the_door_was_offline_is_forced_not_confirmed(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=20)
    party = confirmed(performance, 2)
    copy = door_copy.take_copy(session, performance_id=performance.id, door="side")
    booking.cancel_reservation(session, reference=party.reservation.reference)
    passed_at = times.now_utc()
    assert copy.decide(text=party.ticket_token, now=passed_at).admitted

    [answer] = upload(engine, copy)
    assert (answer.result, answer.offline) == ("not_confirmed", True)
    [listed] = clashes(engine, performance)
    assert (listed.reference, listed.conflict, listed.passed_at) == (
        party.reservation.reference,
        "not_confirmed",
        passed_at,
    )
    assert (listed.first_door, listed.first_at, listed.by) == (None, None, None)
    assert rows(engine, CheckIn) == []
    assert counts(engine, performance) == DoorCounts((), 0, 0, 1)
    assert seats(engine, performance.id).checked_in_seats == 0


def test_uploading_the_same_journal_twice_changes_nothing(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=20)
    admitted = confirmed(performance, 3)
    cancelled = confirmed(performance, 2)
    copy = door_copy.take_copy(session, performance_id=performance.id, door="side")
    booking.cancel_reservation(session, reference=cancelled.reservation.reference)
    now = times.now_utc()
    for ticket in (admitted, cancelled):
        assert copy.decide(text=ticket.ticket_token, now=now).admitted
    leaving = now + timedelta(minutes=40)
    assert copy.decide(text=admitted.ticket_token, now=leaving, direction="out").admitted

    first = upload(engine, copy)
    assert [(a.result, a.direction) for a in first] == [
        ("ok", "in"),
        ("not_confirmed", "in"),
        ("ok", "out"),
    ]
    with unchanged(engine):
        again = upload(engine, copy)
    assert [a.result for a in again] == [a.result for a in first]
    assert all(a.offline for a in again)
    assert again[0].message == f"ADMIT 3: {admitted.reservation.reference} (recorded already)"
    assert counts(engine, performance) == DoorCounts((DoorTally("side", 3, 3),), 3, 0, 1)


def test_an_offline_pass_of_a_ticket_the_database_does_not_know_is_kept_as_a_conflict(
    session, engine, make_performance
):
    performance = make_performance(capacity=20)
    with db.new_session(engine) as upload_session:
        answer = checkin_offline.record_offline(
            upload_session,
            performance_id=performance.id,
            nonce="lost",
            passed_at=times.now_utc(),
            token_hash=tokens.hash_token(tokens.new_token()),
            door="side",
        )
    assert (answer.result, answer.offline) == ("unknown_token", True)
    [listed] = clashes(engine, performance)
    assert (listed.reference, listed.party_size, listed.conflict) == (None, None, "unknown_token")
    assert counts(engine, performance) == DoorCounts((), 0, 0, 1)


def test_a_direction_other_than_in_or_out_is_refused_before_anything_is_written(
    session, engine, make_performance, confirmed
):
    tonight = make_performance()
    ticket = confirmed(tonight, 2)
    with pytest.raises(errors.InvalidInput) as refused:
        checkin.scan(
            session, text=ticket.ticket_token, performance_id=tonight.id, direction="sideways"
        )
    assert refused.value.field == "direction"
    assert count_rows(engine, ScanLog) == 0
