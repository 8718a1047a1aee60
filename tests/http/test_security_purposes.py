"""A token of one purpose never works for another.

Four live tokens: a pending booking's confirmation and cancel tokens, a confirmed booking's
check-in (ticket) token, and a staff API token. Each is tried everywhere another kind is expected:
the confirm link (API, page GET and POST), the cancel link (API, page GET and POST), the ticket
page (HTML, PNG, SVG), the door scan, and the Bearer header. It must be refused exactly as a token
that never existed is, so the answer tells a guesser nothing, and change nothing (a scan only adds
its own ScanLog row).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from azctl.models import Reservation
from azctl.services import tokens
from tests.helpers import snapshot, unchanged
from tests.http.helpers import assert_page, assert_problem, post_form
from tests.services.helpers import fresh

NOT_VALID = "This link is not valid"


@dataclass
class Live:
    """Every kind of token, each valid where it belongs, and the door it would open."""

    tokens: dict[str, str]
    performance_id: int
    pending_id: int
    confirmed_id: int
    ticket: str
    bearer: dict[str, str]


@pytest.fixture
def live(performance, visitor_booking, visitor_ticket, staff_token) -> Live:
    pending = visitor_booking(performance)
    ticket = visitor_ticket(performance)
    return Live(
        tokens={
            "confirmation": pending.confirm_token,
            "cancel": pending.cancel_token,
            "check_in": ticket.ticket_token,
            "staff": staff_token,
        },
        performance_id=performance.id,
        pending_id=pending.reservation.id,
        confirmed_id=ticket.reservation.id,
        ticket=ticket.ticket_token,
        bearer={"Authorization": f"Bearer {staff_token}"},
    )


# Each use sends `token` where its purpose is expected and returns the answers, in a fixed order.
def use_confirm(client, token, live):
    return [
        client.simulate_post("/api/confirmations", json={"token": token}),
        client.simulate_get(f"/confirm/{token}"),
        post_form(client, f"/confirm/{token}"),
    ]


def use_cancel(client, token, live):
    return [
        client.simulate_post("/api/cancellations", json={"token": token}),
        client.simulate_get(f"/cancel/{token}"),
        post_form(client, f"/cancel/{token}"),
    ]


def use_ticket(client, token, live):
    return [client.simulate_get(f"/t/{token}{suffix}") for suffix in ("", ".png", ".svg")]


def use_scan(client, token, live):
    body = {"token": token, "performance_id": live.performance_id}
    return [client.simulate_post("/api/checkins", json=body, headers=live.bearer)]


def use_bearer(client, token, live):
    body = {"token": live.ticket, "performance_id": live.performance_id}
    headers = {"Authorization": f"Bearer {token}"}
    return [client.simulate_post("/api/checkins", json=body, headers=headers)]


def refused_confirm(answers):
    assert_problem(answers[0], 404, "invalid_token")
    for page in answers[1:]:
        assert_page(page, 404, NOT_VALID)


def refused_ticket(answers):
    for page in answers:
        assert_page(page, 404, NOT_VALID)


USES = {
    # use: (send, check of the refusal, the token kind it belongs to)
    "confirm": (use_confirm, refused_confirm, "confirmation"),
    "cancel": (use_cancel, refused_confirm, "cancel"),
    "ticket": (use_ticket, refused_ticket, "check_in"),
    "scan": (use_scan, lambda a: assert_problem(a[0], 404, "unknown_token"), "check_in"),
    "bearer": (use_bearer, lambda a: assert_problem(a[0], 401, "unauthorized"), "staff"),
}
KINDS = ("confirmation", "cancel", "check_in", "staff")
MISUSES = [(kind, use) for kind, use in itertools.product(KINDS, USES) if USES[use][2] != kind]


def test_every_kind_and_use_is_in_the_matrix():
    """Each kind has a use it belongs to and is tried at every other one."""
    assert {belongs for _send, _check, belongs in USES.values()} == set(KINDS)
    assert len(MISUSES) == len(KINDS) * len(USES) - len(USES)


def without_scan_log(rows):
    return {table: values for table, values in rows.items() if table != "scan_log"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_used_for_another_purpose_is_refused_like_an_unknown_one(
    engine, client, live, kind, subtests
):
    """Tried at every use it does not belong to (nothing a use does changes what the next
    finds, which the snapshots prove)."""
    token = live.tokens[kind]
    for use in [use for misused, use in MISUSES if misused == kind]:
        with subtests.test(use=use):
            send, refused, _belongs = USES[use]
            stranger = tokens.new_token()
            before = snapshot(engine)

            answers = send(client, token, live)

            refused(answers)
            after = snapshot(engine)
            assert without_scan_log(after) == without_scan_log(before)
            if use == "scan":
                # Logged like any unknown ticket: one row, with the fingerprint of the guess only.
                [logged] = after["scan_log"][len(before["scan_log"]) :]
                assert "unknown_token" in logged
                assert tokens.fingerprint(tokens.hash_token(token)) in logged
            else:
                assert after["scan_log"] == before["scan_log"]
            # Indistinguishable from a token that never existed: same status, same words.
            for answer, unknown in zip(answers, send(client, stranger, live), strict=True):
                assert answer.status_code == unknown.status_code
                assert answer.text.replace(token, "T") == unknown.text.replace(stranger, "T")


def test_each_token_does_work_where_it_belongs(engine, client, live):
    """The control for the matrix: the same four tokens are live, so each refusal above is down
    to the purpose alone."""
    with unchanged(engine):
        shown = use_ticket(client, live.tokens["check_in"], live)
        assert [answer.status_code for answer in shown] == [200] * 3
    assert use_bearer(client, live.tokens["staff"], live)[0].status_code == 201
    assert use_confirm(client, live.tokens["confirmation"], live)[0].status_code == 200
    assert fresh(engine, Reservation, live.pending_id).status == "confirmed"
    assert use_cancel(client, live.tokens["cancel"], live)[0].status_code == 200
    assert fresh(engine, Reservation, live.pending_id).status == "cancelled"
    assert fresh(engine, Reservation, live.confirmed_id).status == "confirmed"
