"""Guessing at the door through the service itself: whatever is typed or scanned, a
wrong guess is `unknown_token`, admits no one, and leaves exactly one ScanLog row that keeps a
fingerprint of the guess (or nothing, for text that is no token at all), never the guess."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from azctl import db, errors
from azctl.models import CheckIn, ScanLog
from azctl.services import checkin, staff, tickets, tokens
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.services.helpers import stored_text

# What a scanner or a person could send that is not a valid ticket: none of it parses to a token.
GARBAGE = [
    "",
    "   ",
    "not a ticket",
    "AZ-7KQ4M2",
    "'; DROP TABLE scan_log; --",
    "https://tickets.example.org/t/",
    "\x00" * 40,
    "🎭" * 32,
    "Z" * 31,
]


def scan_log(engine) -> list[ScanLog]:
    with db.new_session(engine) as session:
        return list(session.exec(select(ScanLog).order_by(col(ScanLog.id))))


def test_every_wrong_guess_is_unknown_and_leaves_one_scan_log_row_with_its_fingerprint(
    session, engine, make_performance, confirmed, book, make_staff
):
    """Random well-formed tokens (bare, lower case, in a ticket URL), tokens of the wrong
    purpose and plain garbage: N guesses are N `unknown_token` rows, each with the fingerprint
    of the guess's HMAC when it parses, and no guess is stored in any spelling."""
    performance = make_performance(capacity=20)
    member, staff_token = make_staff()
    ticket = confirmed(performance)
    pending = book(performance)
    random_guesses = [tokens.new_token() for _ in range(20)]
    spelled = [guess.lower() for guess in random_guesses[:5]] + [
        tickets.ticket_url(guess) for guess in random_guesses[5:10]
    ]
    wrong_purpose = [pending.confirm_token, pending.cancel_token, staff_token]
    well_formed = random_guesses[10:] + spelled + wrong_purpose
    sent = well_formed + GARBAGE

    outcomes = [
        checkin.scan(session, text=text, performance_id=performance.id, staff=member)
        for text in sent
    ]

    assert {outcome.result for outcome in outcomes} == {checkin.ScanResult.UNKNOWN_TOKEN}
    assert {(outcome.reference, outcome.party_size) for outcome in outcomes} == {(None, None)}
    logged = scan_log(engine)
    assert len(logged) == len(sent)
    assert {(row.result, row.source, row.reservation_id, row.staff_id) for row in logged} == {
        ("unknown_token", "qr_scan", None, member.id)
    }
    expected = [tokens.fingerprint(tokens.hash_token(tokens.parse_scanned(t))) for t in well_formed]
    assert [row.token_fingerprint for row in logged] == expected + [None] * len(GARBAGE)
    assert count_rows(engine, CheckIn) == 0
    stored = "\n".join(stored_text(engine, skip={("outbox_message", "context")})).upper()
    leaked = [guess for guess in random_guesses + wrong_purpose if guess in stored]
    assert not leaked
    # The real ticket was never guessed and still admits.
    assert checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id).admitted


def test_guessing_references_for_a_manual_check_in_is_logged_too(
    session, engine, make_performance, confirmed
):
    """References are short (not secrets), so guessing them at the manual check-in must leave a
    trail: each miss is a NotFound and an `unknown_token` ScanLog row from the manual source."""
    performance = make_performance()
    confirmed(performance)
    misses = ["AZ-000000", "AZ-ZZZZZZ", "'; DELETE FROM check_in; --", "%", "AZ-______"]
    for reference in misses:
        with pytest.raises(errors.NotFound):
            checkin.manual(session, reference=reference, performance_id=performance.id)
    logged = scan_log(engine)
    assert [(row.result, row.source, row.token_fingerprint) for row in logged] == [
        ("unknown_token", "manual", None)
    ] * len(misses)
    assert count_rows(engine, CheckIn) == 0


def test_a_guessed_staff_token_authenticates_no_one(session, engine, make_staff):
    """Wrong, disabled and malformed bearer tokens are all the same `unauthorized`."""
    _member, token = make_staff()
    _other, disabled = make_staff("bob")
    staff.disable_staff(session, username="bob")
    with unchanged(engine):
        for guess in [tokens.new_token() for _ in range(10)] + [disabled, "", "x", token[:-1]]:
            with pytest.raises(errors.Unauthorized):
                staff.authenticate(session, token=guess)
    assert staff.authenticate(session, token=token.lower()).username == "anna"
