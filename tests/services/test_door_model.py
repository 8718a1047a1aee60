"""Random scans at three doors, on both backends, against a model of what each party may do:
in when not inside (back in after an exit), out when inside, a pass sent again with its nonce
recorded once. After every scan, `door_counts` must add up to the model, and at the end the
check-ins in the database must be the model's."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azctl.models import CheckIn
from azctl.services import checkin, door_copy
from azctl.services.door_counts import DoorCounts, DoorTally
from tests.services.door_helpers import counts, rows

DOORS = ("main", "side", "back")
STEP = st.tuples(
    # which party, at which door, which way: `pass` is the way the model lets the party go
    # (out if inside, else in), so that most stories get as far as exits and returns
    st.tuples(st.integers(0, 2), st.sampled_from(DOORS), st.sampled_from(("pass", "in", "out"))),
    # a scan, a manual pass, or the last admitted pass sent again with its nonce
    st.sampled_from(("scan", "manual", "again")),
)
# Seats of the three parties: each sum of some of them is a different number.
SIZES = (1, 2, 4)
NIGHTS = itertools.count(1)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=6, max_size=12))
def test_random_passes_at_three_doors_add_up_as_the_model_says(
    session, engine, make_performance, confirmed, steps
):
    # A night of its own for each example, a second apart: the door is open for all of them.
    performance = make_performance(capacity=20, starts_in=timedelta(hours=2, seconds=next(NIGHTS)))
    parties = [confirmed(performance, size) for size in SIZES]
    came, inside = [False] * 3, [False] * 3
    tallies = {door: [0, 0] for door in DOORS}
    last: tuple[int, str, str, str] | None = None  # party, door, direction, nonce
    for number, (chosen, how) in enumerate(steps):
        # Nonces are unique in the whole database, as the doors' random ones are.
        resent = how == "again" and last is not None
        who, door, direction, nonce = last if resent else (*chosen, door_copy.new_nonce())
        if direction == "pass":
            direction = "out" if inside[who] else "in"
        party = parties[who]
        if how == "manual":
            answer = checkin.manual(
                session,
                reference=party.reservation.reference,
                performance_id=performance.id,
                door=door,
                direction=direction,
                nonce=nonce,
            )
        else:
            answer = checkin.scan(
                session,
                text=party.ticket_token,
                performance_id=performance.id,
                door=door,
                direction=direction,
                nonce=nonce,
            )

        if resent:
            expected, back_in = "ok", False
        elif direction == "in":
            expected = "already_checked_in" if inside[who] else "ok"
            back_in = expected == "ok" and came[who]
        else:
            expected, back_in = ("ok" if inside[who] else "not_inside"), False
        assert (answer.result, answer.again) == (expected, back_in), (number, answer.message)
        if expected == "ok" and not resent:
            inside[who] = direction == "in"
            came[who] = came[who] or direction == "in"
            tallies[door][direction == "out"] += SIZES[who]
            last = (who, door, direction, nonce)

        assert counts(engine, performance) == DoorCounts(
            doors=tuple(DoorTally(d, i, o) for d, (i, o) in sorted(tallies.items()) if i or o),
            admitted_seats=sum(size for size, c in zip(SIZES, came, strict=True) if c),
            inside_seats=sum(size for size, i in zip(SIZES, inside, strict=True) if i),
            conflicts=0,
        )
    checked_in = {c.reservation_id for c in rows(engine, CheckIn, performance_id=performance.id)}
    assert checked_in == {p.reservation.id for p, c in zip(parties, came, strict=True) if c}
