"""The door's local copy (`door_copy`), on both backends: what its file holds (no personal
details, no raw token) and how it is written (0600, whole or not at all), that it reads back as
it was saved, that a fresh copy keeps the journal on top, and that a door deciding from its copy
gives the answer the check-in service gives for the same situation: one rule."""

from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from datetime import timedelta

import pytest

from azctl.models import Direction
from azctl.services import booking, checkin, door_copy, times, tokens
from azctl.services.checkin import ScanResult
from azctl.services.door_rule import TicketFacts

VISITOR = {
    "name": "Zebulon Quark",
    "email": "zebulon.quark@example.org",
    "phone": "+39 333 7654321",
    "notes": "allergic to confetti",
}
DOOR_NOTE = "pays at the door"


@pytest.fixture
def tonight(make_performance):
    return make_performance(capacity=30)


@pytest.fixture
def visitor(session, tonight) -> booking.ConfirmedBooking:
    submitted = booking.submit_booking(session, performance_id=tonight.id, party_size=3, **VISITOR)
    ticket = booking.confirm_booking(session, token=submitted.confirm_token)
    booking.flag_reservation(session, reference=ticket.reservation.reference, note=DOOR_NOTE)
    return ticket


def saved(copy: door_copy.DoorCopy, door: str = "main") -> bytes:
    path = door_copy.copy_path(performance_id=copy.door.performance_id, door=door)
    door_copy.save(copy, path)
    return path.read_bytes()


def test_the_file_holds_no_personal_details_and_no_raw_token(
    session, tonight, visitor, book, confirmed
):
    pending = book(tonight, 1, name="Pending Person", email="pending.person@example.org")
    other = confirmed(tonight, 2)
    copy = door_copy.take_copy(session, performance_id=tonight.id)
    content = saved(copy)

    folded = content.lower()
    for value in (*VISITOR.values(), "zebulon", "pending.person", "Pending Person"):
        assert value.lower().encode() not in folded, value
    for raw in (visitor.ticket_token, other.ticket_token, pending.confirm_token):
        assert raw.lower().encode() not in folded
    # What it does hold: each ticket by its token's HMAC, the reference, and staff's door note.
    document = json.loads(content)
    assert set(document["tickets"]) == {
        tokens.hash_token(visitor.ticket_token),
        tokens.hash_token(other.ticket_token),
    }
    ticket = document["tickets"][tokens.hash_token(visitor.ticket_token)]
    assert set(ticket) == {item.name for item in fields(TicketFacts)}
    assert (ticket["reference"], ticket["party_size"], ticket["door_note"]) == (
        visitor.reservation.reference,
        3,
        DOOR_NOTE,
    )


def test_the_file_is_for_the_door_alone_to_read(session, tonight, visitor):
    copy = door_copy.take_copy(session, performance_id=tonight.id, door="Side Door")
    path = door_copy.copy_path(performance_id=tonight.id, door="Side Door")
    assert path.name == f"performance-{tonight.id}-side-door.json"
    assert path != door_copy.copy_path(performance_id=tonight.id)
    door_copy.save(copy, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert door_copy.has_copy(performance_id=tonight.id, door="side door")
    assert not door_copy.has_copy(performance_id=tonight.id)


def disk_full(_document, file, *_args, **_kwargs):
    file.write('{"format": 1, "door": {')
    raise OSError(28, "No space left on device")


def refused(*_args, **_kwargs):
    raise OSError(13, "Permission denied")


def interrupted(*_args, **_kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("target", "failure"),
    [("json.dump", disk_full), ("os.fsync", interrupted), ("os.replace", refused)],
    ids=["write", "flush", "rename"],
)
def test_a_save_that_fails_midway_leaves_the_previous_copy_and_no_temporary_file(
    target, failure, session, tonight, visitor, monkeypatch
):
    previous = door_copy.take_copy(session, performance_id=tonight.id)
    path = door_copy.copy_path(performance_id=tonight.id)
    door_copy.save(previous, path)
    before = path.read_bytes()
    newer = door_copy.take_copy(session, performance_id=tonight.id)
    assert newer.decide(text=visitor.ticket_token, now=times.now_utc()).admitted

    module, name = target.split(".")
    monkeypatch.setattr(getattr(door_copy, module), name, failure)
    with pytest.raises((OSError, KeyboardInterrupt)):
        door_copy.save(newer, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert door_copy.load(path) == previous
    kept = sorted(p.name for p in path.parent.iterdir())
    assert kept == sorted([path.name, door_copy.journal_path(path).name])


def test_a_copy_reads_back_as_it_was_saved(session, engine, tonight, visitor, confirmed, anna):
    inside, left, cancelled = (confirmed(tonight, n) for n in (1, 2, 4))
    start = tonight.starts_at
    for ticket, ways in ((inside, ["in"]), (left, ["in", "out"])):
        for minutes, direction in enumerate(ways):
            checkin.scan(
                session,
                text=ticket.ticket_token,
                performance_id=tonight.id,
                staff=anna,
                door="side",
                direction=direction,
                now=start - timedelta(minutes=30 - minutes),
            )
    booking.cancel_reservation(session, reference=cancelled.reservation.reference)
    copy = door_copy.take_copy(session, performance_id=tonight.id, door="side")
    now = times.now_utc()
    assert copy.decide(text=visitor.ticket_token, now=now, staff="anna").admitted
    assert copy.decide_by_reference(reference=left.reservation.reference, now=now).admitted
    assert copy.decide(text=inside.ticket_token, now=now, direction="out").admitted

    path = door_copy.copy_path(performance_id=tonight.id, door="side")
    door_copy.save(copy, path)
    loaded = door_copy.load(path)
    assert loaded == copy
    assert len(loaded.journal) == 3
    assert loaded.tickets[tokens.hash_token(inside.ticket_token)].checked_in_by == "anna"
    assert loaded.admitted_seats == copy.admitted_seats == 6
    assert loaded.inside_seats == copy.inside_seats == 5


def test_no_copy_or_one_of_another_format_is_none(tmp_path):
    path = tmp_path / "performance-1-main.json"
    assert door_copy.load(path) is None
    path.write_text(json.dumps({"format": door_copy.FORMAT + 1}), encoding="utf-8")
    assert door_copy.load(path) is None


def test_a_fresh_copy_keeps_the_journal_on_top(session, tonight, visitor, confirmed):
    online = confirmed(tonight, 2)
    offline_out = confirmed(tonight, 1)
    checkin.scan(session, text=offline_out.ticket_token, performance_id=tonight.id)
    old = door_copy.take_copy(session, performance_id=tonight.id, door="side")
    let_in = times.now_utc() - timedelta(minutes=5)
    assert old.decide(text=visitor.ticket_token, now=let_in, staff="bruno").admitted
    let_out = let_in + timedelta(minutes=1)
    assert old.decide(text=offline_out.ticket_token, now=let_out, direction="out").admitted
    # Meanwhile, at another door, online.
    checkin.scan(session, text=online.ticket_token, performance_id=tonight.id, door="main")

    fresh = door_copy.take_copy(session, performance_id=tonight.id, door="side")
    merged = old.refreshed(fresh)

    assert merged.journal == old.journal
    assert merged.taken_at == fresh.taken_at
    first = merged.tickets[tokens.hash_token(visitor.ticket_token)]
    assert (first.inside, first.checked_in_at, first.checked_in_by, first.checked_in_door) == (
        True,
        let_in,
        "bruno",
        "side",
    )
    assert merged.tickets[tokens.hash_token(online.ticket_token)].inside
    assert not merged.tickets[tokens.hash_token(offline_out.ticket_token)].inside
    assert merged.inside_seats == 3 + 2
    now = times.now_utc()
    assert merged.decide(text=visitor.ticket_token, now=now).result == "already_checked_in"

    merged.uploaded({merged.journal[0].nonce})
    assert [entry.passed_at for entry in merged.journal] == [let_out]


def test_the_copy_follows_what_the_database_answered(session, tonight, visitor):
    copy = door_copy.take_copy(session, performance_id=tonight.id)
    now = times.now_utc()
    answer = checkin.scan(session, text=visitor.ticket_token, performance_id=tonight.id, now=now)
    copy.note_online(answer, now)
    assert copy.decide(text=visitor.ticket_token, now=now).result == "already_checked_in"
    assert copy.journal == []


# --- one rule: the copy's answer is the service's answer ----------------------------------------


def situation(name, session, make_performance, confirmed, tonight, ticket):
    """Bring tonight's `ticket` into the situation `name`; returns (text scanned, way, now)."""
    start, token = tonight.starts_at, ticket.ticket_token

    def online(direction, minutes, door="side"):
        checkin.scan(
            session,
            text=token,
            performance_id=tonight.id,
            door=door,
            direction=direction,
            now=start + timedelta(minutes=minutes),
        )

    now = start + timedelta(minutes=10)
    if name in {"already_checked_in", "exit", "back_in", "left_already"}:
        online("in", -30)
    if name in {"back_in", "left_already"}:
        online("out", -20, door="main")
    if name == "not_confirmed":
        booking.cancel_reservation(session, reference=ticket.reservation.reference)
    if name == "performance_cancelled":
        booking.cancel_performance(session, performance_id=tonight.id)
    if name == "too_early":
        now = start - timedelta(hours=3, minutes=1)
    if name == "too_late":
        now = start + timedelta(hours=4, minutes=1)
    if name == "wrong_performance":
        token = confirmed(make_performance(starts_in=timedelta(days=1)), 2).ticket_token
    if name == "unknown_token":
        token = tokens.new_token()
    way = Direction.OUT if name in {"exit", "never_in", "left_already"} else Direction.IN
    return token, way, now


# (situation, the service's answer, the copy's answer where it cannot know more)
ONE_RULE = [
    ("admit", "ok", None),
    ("back_in", "ok", None),
    ("exit", "ok", None),
    ("already_checked_in", "already_checked_in", None),
    ("never_in", "not_inside", None),
    ("left_already", "not_inside", None),
    ("not_confirmed", "not_confirmed", None),
    ("performance_cancelled", "performance_cancelled", None),
    ("too_early", "too_early", None),
    ("too_late", "too_late", None),
    # A copy holds its own performance's tickets: another night's is no ticket it knows.
    ("wrong_performance", "wrong_performance", "unknown_token"),
    ("unknown_token", "unknown_token", "unknown_token"),
]


def test_the_situations_cover_every_result_code():
    assert {online for _, online, _ in ONE_RULE} == {code.value for code in ScanResult}


@pytest.mark.parametrize(
    ("name", "online_code", "offline_code"), ONE_RULE, ids=[c[0] for c in ONE_RULE]
)
def test_offline_the_door_decides_as_the_service_would(
    name, online_code, offline_code, session, make_performance, confirmed, tonight, visitor, anna
):
    token, way, now = situation(name, session, make_performance, confirmed, tonight, visitor)
    copy = door_copy.take_copy(session, performance_id=tonight.id, door="back")

    offline = copy.decide(text=token, now=now, direction=way, staff="anna")
    online = checkin.scan(
        session,
        text=token,
        performance_id=tonight.id,
        staff=anna,
        now=now,
        door="back",
        direction=way,
    )

    assert online.result == online_code
    assert offline.offline and not online.offline
    if offline_code is None:
        assert replace(offline, offline=False) == online
        assert len(copy.journal) == int(online.admitted)
    else:
        assert (offline.result, offline.door, offline.direction) == (offline_code, "back", way)
        assert copy.journal == []


@pytest.mark.parametrize(
    "name",
    ["admit", "back_in", "exit", "already_checked_in", "not_confirmed", "too_late", "never_in"],
)
def test_by_reference_too(name, session, make_performance, confirmed, tonight, visitor, anna):
    _token, way, now = situation(name, session, make_performance, confirmed, tonight, visitor)
    reference = visitor.reservation.reference.lower()
    copy = door_copy.take_copy(session, performance_id=tonight.id, door="back")

    refusal = copy.would_admit(reference=reference, now=now, direction=way)
    offline = copy.decide_by_reference(reference=reference, now=now, direction=way, staff="anna")
    online = checkin.manual(
        session,
        reference=reference,
        performance_id=tonight.id,
        staff=anna,
        now=now,
        door="back",
        direction=way,
    )
    assert replace(offline, offline=False) == online
    assert (refusal is None) is online.admitted
