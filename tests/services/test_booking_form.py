"""A booking's fields checked all at once for a form (`booking.check_form`), each refusal with a
stable `reason`; the API's one-at-a-time check on the same rules; and cancelling from a ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from azctl import errors
from azctl.models import Reservation
from azctl.services import booking, checkin, validation
from tests.helpers import unchanged
from tests.services.helpers import fresh, messages

GOOD = {
    "name": "  Ada Lovelace ",
    "email": "ada@EXAMPLE.org",
    "phone": "",
    "party_size": " 2 ",
    "notes": "  ",
    "consent": "yes",
}


def test_a_good_form_is_cleaned():
    checked = booking.check_form(GOOD)
    assert checked.refusals == {}
    assert checked.fields == booking.BookingFields(
        name="Ada Lovelace", email="ada@example.org", party_size=2, phone=None, notes=None
    )


def test_every_field_at_fault_is_refused_at_once_with_its_reason():
    checked = booking.check_form(
        {"name": "", "email": "ada@", "phone": "\x00", "party_size": "two", "notes": "n" * 1001}
    )
    assert checked.fields is None
    assert {field: refusal.reason for field, refusal in checked.refusals.items()} == {
        "name": "required",
        "email": "not_an_email",
        "phone": "control_characters",
        "party_size": "not_a_number",
        "notes": "too_long",
        "consent": "required",
    }
    assert list(checked.refusals) == list(booking.FORM_FIELDS)
    assert all(isinstance(r, errors.InvalidInput) for r in checked.refusals.values())
    assert {field: r.field for field, r in checked.refusals.items()} == {
        field: field for field in checked.refusals
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "required"),
        ("  ", "required"),
        ("2.0", "not_a_number"),
        ("1e3", "not_a_number"),
        ("٣", "not_a_number"),
        ("0", "too_small"),
        ("-4", "too_small"),
        ("9", "too_large"),
        ("9" * 5000, "too_large"),
        ("-" + "9" * 5000, "too_small"),
    ],
)
def test_a_party_size_from_a_form_is_a_number_in_range(text, reason):
    checked = booking.check_form({**GOOD, "party_size": text})
    assert checked.refusals["party_size"].reason == reason


@pytest.mark.parametrize(
    ("check", "reason", "message"),
    [
        (
            lambda: validation.required_text("name", " ", max_length=5),
            "required",
            "name is required",
        ),
        (
            lambda: validation.required_text("name", "abcdef", max_length=5),
            "too_long",
            "name is longer than 5 characters",
        ),
        (
            lambda: validation.required_text("name", "a\x1bb", max_length=5),
            "control_characters",
            "name contains control characters",
        ),
        (lambda: validation.email("nope"), "not_an_email", "email: 'nope' is not an email address"),
        (lambda: validation.email("józef@example.org"), "not_mailable", None),
        (
            lambda: validation.whole_number("n", "2"),
            "not_a_number",
            "n must be a whole number, got '2'",
        ),
        (lambda: validation.count("n", 0, minimum=1), "too_small", "n must be at least 1, got 0"),
        (lambda: validation.count("n", 9, maximum=8), "too_large", "n must be at most 8, got 9"),
    ],
)
def test_each_refusal_names_its_rule_and_keeps_its_english_message(check, reason, message):
    with pytest.raises(errors.InvalidInput) as refused:
        check()
    assert refused.value.reason == reason
    if message is not None:
        assert refused.value.message == message
    assert "reason" not in refused.value.details  # JSON answers carry the details: unchanged


def test_the_api_check_refuses_the_first_field_at_fault_in_its_order(session, make_performance):
    performance = make_performance()
    with pytest.raises(errors.InvalidInput) as refused:
        booking.submit_booking(
            session,
            performance_id=performance.id,
            name="Ada",
            email="nope",
            phone="x" * 41,
            party_size=0,
        )
    assert (refused.value.field, refused.value.reason) == ("email", "not_an_email")
    with pytest.raises(errors.InvalidInput) as refused:
        booking.submit_booking(
            session,
            performance_id=performance.id,
            name="Ada",
            email="a@example.org",
            party_size=True,
        )
    assert (refused.value.field, refused.value.reason) == ("party_size", "not_a_number")


# --- cancelling from the ticket --------------------------------------------------------------


def test_a_ticket_cancels_its_booking_and_frees_the_seats(
    session, engine, make_performance, confirmed
):
    performance = make_performance()
    ticket = confirmed(performance, 3)
    cancelled = booking.cancel_by_ticket(session, token=ticket.ticket_token.lower())
    assert cancelled.status == "cancelled"
    assert fresh(engine, Reservation, ticket.reservation.id).cancelled_at is not None
    assert [m.kind for m in messages(engine)][-1] == "cancelled"
    summary = booking.public_performance(session, performance_id=performance.id)
    assert summary.seats.confirmed_seats == 0
    # Scanned later, the ticket is not a way in.
    outcome = checkin.scan(session, text=ticket.ticket_token, performance_id=performance.id)
    assert outcome.result == "not_confirmed"


def test_a_ticket_cannot_cancel_twice_after_the_start_or_once_in(
    session, engine, make_performance, confirmed
):
    performance = make_performance(starts_in=timedelta(minutes=30))
    first, second, third = confirmed(performance), confirmed(performance), confirmed(performance)
    booking.cancel_by_ticket(session, token=first.ticket_token)
    checkin.scan(session, text=second.ticket_token, performance_id=performance.id)
    with unchanged(engine):
        with pytest.raises(errors.InvalidState):
            booking.cancel_by_ticket(session, token=first.ticket_token)
        with pytest.raises(errors.InvalidState, match="checked in"):
            booking.cancel_by_ticket(session, token=second.ticket_token)
    later = performance.starts_at + timedelta(minutes=1)
    with unchanged(engine), pytest.raises(errors.TokenExpired):
        booking.cancel_by_ticket(session, token=third.ticket_token, now=later)
    with unchanged(engine), pytest.raises(errors.InvalidToken):
        booking.cancel_by_ticket(session, token=first.reservation.reference)
