"""The door's rule (`door_rule.judge`) as tables of plain facts: no database, no clock.

Every situation is asked both ways (in, and out at the interval); refusals come in the order staff
need to hear them; the window's edges belong to the window; a party that left comes back in once
per exit; exits need no window; the door note rides on an admission only; and `passed` keeps a
door's own copy of a ticket true after each pass.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from azctl.models import Direction
from azctl.services.checkin_outcome import ScanResult
from azctl.services.door_rule import DoorFacts, TicketFacts, judge, passed

# Friday 12 March 2027, 20:30 in Rome (UTC+1): the door opens at 17:30 and closes at 00:30.
START = datetime(2027, 3, 12, 19, 30, tzinfo=UTC)
OPENS = START - timedelta(hours=3)
CLOSES = START + timedelta(hours=4)
# The party's first admission, 20:00 in Rome.
FIRST = START - timedelta(minutes=30)
TONIGHT = "Arlecchino, Fri 12 Mar 20:30"
TOMORROW = "Arlecchino, Sat 13 Mar 20:30"
REFERENCE = "AZ-7KQ4M2"

DOOR = DoorFacts(
    performance_id=5, label=TONIGHT, window_opens=OPENS, window_closes=CLOSES, door="side"
)
TICKET = TicketFacts(
    reference=REFERENCE,
    party_size=3,
    status="confirmed",
    performance_id=5,
    performance_label=TONIGHT,
    door_note="pays at the door",
)
# States of one ticket, as the facts loaders hand them to the rule.
INSIDE = {
    "checked_in_at": FIRST,
    "checked_in_by": "anna",
    "checked_in_door": "main",
    "inside": True,
}
LEFT = {**INSIDE, "inside": False}
CANCELLED_NIGHT = {"performance_cancelled": True}
ELSEWHERE = {"performance_id": 6, "performance_label": TOMORROW}


def ticket(**changes: object) -> TicketFacts:
    return replace(TICKET, **changes)


# (situation, ticket facts, now, the answer in, the answer out)
BOTH_WAYS = [
    ("booked, not come yet", {}, START, "ok", "not_inside"),
    ("inside", INSIDE, START, "already_checked_in", "ok"),
    ("left at the interval", LEFT, START, "ok", "not_inside"),
    ("performance cancelled", CANCELLED_NIGHT, START, "performance_cancelled", "not_inside"),
    ("inside when cancelled", {**INSIDE, **CANCELLED_NIGHT}, START, "performance_cancelled", "ok"),
    ("pending", {"status": "pending"}, START, "not_confirmed", "not_inside"),
    ("expired", {"status": "expired"}, START, "not_confirmed", "not_inside"),
    ("cancelled, inside", {**INSIDE, "status": "cancelled"}, START, "not_confirmed", "ok"),
    ("another night", ELSEWHERE, START, "wrong_performance", "wrong_performance"),
    (
        "another night, inside",
        {**ELSEWHERE, **INSIDE},
        START,
        "wrong_performance",
        "wrong_performance",
    ),
    ("too early", {}, OPENS - timedelta(minutes=1), "too_early", "not_inside"),
    ("too early, inside", INSIDE, OPENS - timedelta(minutes=1), "already_checked_in", "ok"),
    ("too late", {}, CLOSES + timedelta(minutes=1), "too_late", "not_inside"),
    ("too late, inside", INSIDE, CLOSES + timedelta(minutes=1), "already_checked_in", "ok"),
    ("too late, left", LEFT, CLOSES + timedelta(minutes=1), "too_late", "not_inside"),
]


@pytest.mark.parametrize(
    ("facts", "now", "going_in", "going_out"),
    [case[1:] for case in BOTH_WAYS],
    ids=[case[0] for case in BOTH_WAYS],
)
def test_every_situation_both_ways(facts, now, going_in, going_out):
    going = {Direction.IN: going_in, Direction.OUT: going_out}
    for direction, expected in going.items():
        outcome = judge(ticket(**facts), DOOR, now, direction)
        assert outcome.result == expected, direction
        assert outcome.admitted is (expected == "ok")
        # Whatever the answer: which party, which way, which door.
        assert (outcome.reference, outcome.party_size) == (REFERENCE, 3)
        assert (outcome.direction, outcome.door) == (direction, "side")
        assert outcome.as_dict()["direction"] == direction
        assert outcome.as_dict()["door"] == "side"
        assert not outcome.offline


def test_the_table_covers_every_code_the_rule_gives_each_way():
    codes_in = {case[3] for case in BOTH_WAYS}
    codes_out = {case[4] for case in BOTH_WAYS}
    # `unknown_token` is the loaders' answer (no facts to judge); `not_inside` only leaving.
    assert codes_in == {r.value for r in ScanResult} - {"unknown_token", "not_inside"}
    assert codes_out == {"ok", "not_inside", "wrong_performance"}


MESSAGES = [
    ({}, START, "in", f"ADMIT 3: {REFERENCE}"),
    (LEFT, START, "in", f"ADMIT 3 (back in): {REFERENCE}"),
    (INSIDE, START, "out", f"EXIT 3: {REFERENCE} may come back in once"),
    ({}, START, "out", f"NOT INSIDE: {REFERENCE} never came in"),
    (LEFT, START, "out", f"NOT INSIDE: {REFERENCE} has left already"),
    (CANCELLED_NIGHT, START, "in", f"PERFORMANCE CANCELLED: {TONIGHT}"),
    ({"status": "pending"}, START, "in", f"NOT CONFIRMED: booking {REFERENCE} is pending"),
    ({"status": "cancelled"}, START, "in", f"NOT CONFIRMED: booking {REFERENCE} is cancelled"),
    (ELSEWHERE, START, "in", f"WRONG PERFORMANCE: ticket is for {TOMORROW}"),
    (ELSEWHERE, START, "out", f"WRONG PERFORMANCE: ticket is for {TOMORROW}"),
    (INSIDE, START, "in", "ALREADY CHECKED IN at 20:00 by anna"),
    (
        {**INSIDE, "checked_in_door": "side"},
        START,
        "in",
        "ALREADY CHECKED IN at 20:00 by anna (side door)",
    ),
    ({**INSIDE, "checked_in_by": None}, START, "in", "ALREADY CHECKED IN at 20:00"),
    (
        {},
        OPENS - timedelta(minutes=1),
        "in",
        "TOO EARLY: the door opens at Fri 12 Mar 17:30 (now 17:29)",
    ),
    (
        {},
        CLOSES + timedelta(minutes=1),
        "in",
        "TOO LATE: the door closed at Sat 13 Mar 00:30 (now 00:31)",
    ),
]


@pytest.mark.parametrize(("facts", "now", "direction", "message"), MESSAGES)
def test_each_answer_says_it_in_one_line_for_staff(facts, now, direction, message):
    assert judge(ticket(**facts), DOOR, now, direction).message == message


# Several faults at once: the first in this order is the one staff hear.
ORDER = [
    ({**CANCELLED_NIGHT, **ELSEWHERE, **INSIDE, "status": "cancelled"}, "performance_cancelled"),
    ({**ELSEWHERE, **INSIDE, "status": "cancelled"}, "not_confirmed"),
    ({**ELSEWHERE, **INSIDE}, "wrong_performance"),
    (INSIDE, "already_checked_in"),
    ({}, "too_early"),
]


@pytest.mark.parametrize(("facts", "first_fault"), ORDER, ids=[code for _, code in ORDER])
def test_refusals_come_in_the_order_staff_need_them(facts, first_fault):
    too_early = OPENS - timedelta(hours=1)
    assert judge(ticket(**facts), DOOR, too_early).result == first_fault


def test_a_cancelled_night_elsewhere_names_that_night():
    outcome = judge(ticket(**CANCELLED_NIGHT, **ELSEWHERE), DOOR, START)
    assert outcome.result == "performance_cancelled"
    assert (outcome.performance_id, outcome.performance_label) == (6, TOMORROW)
    assert outcome.message == f"PERFORMANCE CANCELLED: {TOMORROW}"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (OPENS - timedelta(microseconds=1), "too_early"),
        (OPENS, "ok"),
        (START, "ok"),
        (CLOSES, "ok"),
        (CLOSES + timedelta(microseconds=1), "too_late"),
    ],
)
def test_the_windows_edges_belong_to_it(now, expected):
    assert judge(TICKET, DOOR, now).result == expected


@pytest.mark.parametrize(
    "now",
    [
        OPENS - timedelta(days=1),
        OPENS - timedelta(microseconds=1),
        START,
        CLOSES,
        CLOSES + timedelta(microseconds=1),
        CLOSES + timedelta(days=1),
    ],
)
def test_a_party_inside_may_leave_at_any_hour(now):
    outcome = judge(ticket(**INSIDE), DOOR, now, Direction.OUT)
    assert outcome.result == "ok"
    assert outcome.details == {}


def test_too_early_and_too_late_carry_the_window_and_the_time_now():
    early = OPENS - timedelta(minutes=1)
    assert judge(TICKET, DOOR, early).details == {
        "window_opens_at": "2027-03-12T17:30:00+01:00",
        "window_closes_at": "2027-03-13T00:30:00+01:00",
        "now": "2027-03-12T17:29:00+01:00",
    }
    late = judge(TICKET, DOOR, CLOSES + timedelta(minutes=1)).as_dict()
    assert late["now"] == "2027-03-13T00:31:00+01:00"
    assert late["window_closes_at"] == "2027-03-13T00:30:00+01:00"


def test_a_first_admission_is_now_at_this_door_with_the_door_note():
    outcome = judge(TICKET, DOOR, START)
    assert outcome.result is ScanResult.OK
    assert (outcome.performance_id, outcome.performance_label) == (5, TONIGHT)
    assert (outcome.checked_in_at, outcome.checked_in_by) == (START, None)
    assert (outcome.again, outcome.door_note) == (False, "pays at the door")
    assert outcome.as_dict()["door_note"] == "pays at the door"


def test_back_in_keeps_the_first_admission_and_says_so():
    later = START + timedelta(hours=1)
    outcome = judge(ticket(**LEFT), DOOR, later)
    assert outcome.result is ScanResult.OK
    assert outcome.again
    assert (outcome.checked_in_at, outcome.checked_in_by) == (FIRST, "anna")
    assert outcome.door_note == "pays at the door"


@pytest.mark.parametrize(
    ("facts", "now", "direction"),
    [(INSIDE, START, "out")]
    + [(case[1], case[2], "in") for case in BOTH_WAYS if case[3] != "ok"]
    + [(case[1], case[2], "out") for case in BOTH_WAYS if case[4] != "ok"],
)
def test_the_door_note_rides_on_an_admission_only(facts, now, direction):
    outcome = judge(ticket(**facts), DOOR, now, direction)
    assert outcome.door_note is None
    assert outcome.as_dict()["door_note"] is None


def test_an_exit_keeps_the_first_admission():
    outcome = judge(ticket(**INSIDE), DOOR, START, "out")
    assert (outcome.checked_in_at, outcome.checked_in_by) == (FIRST, "anna")
    assert (outcome.performance_id, outcome.performance_label) == (5, TONIGHT)
    assert not outcome.again


def test_already_checked_in_says_when_by_whom_and_where():
    outcome = judge(ticket(**{**INSIDE, "checked_in_door": "back"}), DOOR, START)
    assert (outcome.checked_in_at, outcome.checked_in_by) == (FIRST, "anna")
    assert outcome.message.endswith("(back door)")


def test_directions_may_be_given_as_plain_text():
    assert judge(TICKET, DOOR, START, "in") == judge(TICKET, DOOR, START, Direction.IN)
    leaving = judge(ticket(**INSIDE), DOOR, START, "out")
    assert leaving == judge(ticket(**INSIDE), DOOR, START, Direction.OUT)
    assert type(leaving.direction) is str


# `passed`: the facts after a pass, as a door that decides by itself keeps them.
LATER = START + timedelta(minutes=50)


def admitted_in(facts: TicketFacts, now: datetime, by: str | None = "bruno") -> TicketFacts:
    outcome = judge(facts, DOOR, now)
    assert outcome.admitted
    return passed(facts, replace(outcome, checked_in_by=outcome.checked_in_by or by), now)


def test_a_first_entry_records_when_by_whom_and_at_which_door():
    after = admitted_in(TICKET, START)
    assert after == ticket(
        inside=True, checked_in_at=START, checked_in_by="bruno", checked_in_door="side"
    )


def test_an_exit_only_clears_inside():
    after = passed(ticket(**INSIDE), judge(ticket(**INSIDE), DOOR, LATER, "out"), LATER)
    assert after == ticket(**LEFT)


def test_back_in_keeps_the_first_entry():
    after = admitted_in(ticket(**LEFT), LATER)
    assert after == ticket(**INSIDE)


@pytest.mark.parametrize(
    ("facts", "now", "direction"),
    [(case[1], case[2], "in") for case in BOTH_WAYS if case[3] != "ok"]
    + [(case[1], case[2], "out") for case in BOTH_WAYS if case[4] != "ok"],
)
def test_a_refusal_changes_nothing(facts, now, direction):
    before = ticket(**facts)
    assert passed(before, judge(before, DOOR, now, direction), now) is before


# A door's own story of one party: each step is judged on the facts the previous steps left.
STORIES = [
    (["in", "in"], ["ok", "already_checked_in"]),
    (["out", "in", "out", "out"], ["not_inside", "ok", "ok", "not_inside"]),
    (["in", "out", "in", "in"], ["ok", "ok", "ok", "already_checked_in"]),
    (["in", "out", "in", "out", "in", "out"], ["ok"] * 6),
    (["in", "out", "out", "in", "in"], ["ok", "ok", "not_inside", "ok", "already_checked_in"]),
]


@pytest.mark.parametrize(("ways", "answers"), STORIES, ids=["-".join(w) for w, _ in STORIES])
def test_a_party_comes_back_in_once_per_exit(ways, answers):
    facts, said, again = TICKET, [], []
    for step, way in enumerate(ways):
        now = START + timedelta(minutes=step)
        outcome = judge(facts, DOOR, now, way)
        said.append(outcome.result.value)
        again.append(outcome.again)
        facts = passed(facts, outcome, now)
    assert said == answers
    # Back in is every admission after the first.
    entries = [
        step for step, pair in enumerate(zip(ways, answers, strict=True)) if pair == ("in", "ok")
    ]
    assert [i for i, flag in enumerate(again) if flag] == entries[1:]
    if entries:
        assert facts.checked_in_at == START + timedelta(minutes=entries[0])
