"""Exchange (`res move`, DESIGN §8) and door notes (`res flag`): the rules and what they write."""

from __future__ import annotations

from datetime import timedelta

import pytest

from azctl import errors
from azctl.models import Reservation, TokenPurpose
from azctl.services import booking, checkin, mail, times
from tests.services.helpers import fresh, messages, refused, seats, tokens_of


@pytest.fixture
def dates(make_performance):
    """Two dates of one show: tonight (A) and in a week (B, 10 seats)."""
    a = make_performance(capacity=20, starts_in=timedelta(hours=3))
    b = make_performance(capacity=10, starts_in=timedelta(days=7))
    return a, b


def test_a_move_keeps_the_reference_frees_the_seats_and_mails_a_new_ticket(
    engine, session, dates, confirmed
):
    a, b = dates
    ticket = confirmed(a, 3)
    reservation = ticket.reservation
    old = {t.id for t in tokens_of(engine, reservation.id)}

    moved = booking.move_reservation(
        session, reference=reservation.reference, to_performance_id=b.id
    )

    assert moved.from_performance_id == a.id
    stored = fresh(engine, Reservation, reservation.id)
    assert (stored.reference, stored.performance_id, stored.status) == (
        reservation.reference,
        b.id,
        "confirmed",
    )
    assert seats(engine, a.id).confirmed_seats == 0
    assert seats(engine, b.id).confirmed_seats == 3
    # The old ticket and cancel link are revoked; the new ones are not.
    for token in tokens_of(engine, reservation.id):
        if token.id in old and token.purpose in (TokenPurpose.CHECK_IN, TokenPurpose.CANCEL):
            assert token.revoked_at is not None, token.purpose
        elif token.id not in old:
            assert token.revoked_at is None
    tickets = messages(engine, reservation_id=reservation.id, kind="ticket")
    assert len(tickets) == 2
    assert tickets[-1].context["moved"] is True
    assert tickets[-1].context["starts_at"] == times.iso_local(b.starts_at)
    assert "was moved" in tickets[-1].subject
    body = mail.render(tickets[-1]).get_body(("plain",)).get_content()
    assert "has been moved to a new date" in body
    # The old ticket no longer admits, at either door; the new one does at B's, once open.
    old_scan = checkin.scan(session, text=ticket.ticket_token, performance_id=a.id)
    assert old_scan.result != "ok"
    new_scan = checkin.scan(
        session,
        text=moved.ticket_token,
        performance_id=b.id,
        now=b.starts_at - timedelta(minutes=30),
    )
    assert new_scan.result == "ok"


def test_the_new_ticket_is_written_in_the_bookings_language(engine, session, dates, confirmed):
    a, b = dates
    ticket = confirmed(a, 2, language="it")
    booking.move_reservation(
        session, reference=ticket.reservation.reference, to_performance_id=b.id
    )
    moved_mail = messages(engine, reservation_id=ticket.reservation.id, kind="ticket")[-1]
    assert moved_mail.context["language"] == "it"
    assert "spostata" in moved_mail.subject
    body = mail.render(moved_mail).get_body(("plain",)).get_content()
    assert "nuova data" in body


def test_a_move_that_does_not_fit_is_refused_and_changes_nothing(engine, session, dates, confirmed):
    a, b = dates
    confirmed(b, 8)
    ticket = confirmed(a, 3)
    with refused(engine, errors.NotEnoughSeats, "not_enough_seats") as info:
        booking.move_reservation(
            session, reference=ticket.reservation.reference, to_performance_id=b.id
        )
    assert info.value.details["available"] == 2
    # Exactly full is a fit.
    two = confirmed(a, 2)
    booking.move_reservation(session, reference=two.reservation.reference, to_performance_id=b.id)
    assert seats(engine, b.id).available_seats == 0


def test_refusals(engine, session, make_performance, dates, book, confirmed):
    a, b = dates
    other_show = make_performance(starts_in=timedelta(days=2), show_slug="another-show")
    started = make_performance(starts_in=timedelta(minutes=-10))
    gone = make_performance(starts_in=timedelta(days=3))
    booking.cancel_performance(session, performance_id=gone.id)
    ticket = confirmed(a, 2)
    reference = ticket.reservation.reference

    cases = [
        (b.id + 1000, errors.NotFound, "not_found"),
        (a.id, errors.InvalidInput, "invalid_input"),
        (other_show.id, errors.InvalidInput, "invalid_input"),
        (started.id, errors.BookingClosed, "booking_closed"),
        (gone.id, errors.BookingClosed, "booking_closed"),
    ]
    for target, error, code in cases:
        with refused(engine, error, code):
            booking.move_reservation(session, reference=reference, to_performance_id=target)

    pending = book(a, 1)
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.move_reservation(
            session, reference=pending.reservation.reference, to_performance_id=b.id
        )
    with refused(engine, errors.NotFound, "not_found"):
        booking.move_reservation(session, reference="AZ-000000", to_performance_id=b.id)

    checkin.scan(session, text=ticket.ticket_token, performance_id=a.id)
    with refused(engine, errors.InvalidState, "invalid_state") as info:
        booking.move_reservation(session, reference=reference, to_performance_id=b.id)
    assert "checked in" in info.value.message

    cancelled = confirmed(a, 1)
    booking.cancel_reservation(session, reference=cancelled.reservation.reference)
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.move_reservation(
            session, reference=cancelled.reservation.reference, to_performance_id=b.id
        )


def test_the_reasons_name_what_is_wrong(session, make_performance, dates, confirmed):
    a, _b = dates
    other_show = make_performance(starts_in=timedelta(days=2), show_slug="another-show")
    reference = confirmed(a, 2).reservation.reference
    with pytest.raises(errors.InvalidInput) as same:
        booking.move_reservation(session, reference=reference, to_performance_id=a.id)
    assert same.value.reason == "same_performance"
    with pytest.raises(errors.InvalidInput) as other:
        booking.move_reservation(session, reference=reference, to_performance_id=other_show.id)
    assert other.value.reason == "other_show"


def test_a_move_resets_the_reminder_for_the_new_date(engine, session, dates, confirmed):
    a, b = dates
    ticket = confirmed(a, 2)
    with session.begin():
        row = session.get(Reservation, ticket.reservation.id)
        row.reminder_queued_at = times.now_utc()
    booking.move_reservation(
        session, reference=ticket.reservation.reference, to_performance_id=b.id
    )
    assert fresh(engine, Reservation, ticket.reservation.id).reminder_queued_at is None


# --- door notes ---------------------------------------------------------------------------------


def test_a_door_note_is_set_trimmed_and_cleared(engine, session, dates, confirmed):
    a, _b = dates
    reference = confirmed(a, 2).reservation.reference
    booking.flag_reservation(session, reference=reference, note="  wheelchair space ")
    assert fresh(engine, Reservation, 1).door_note == "wheelchair space"
    booking.flag_reservation(session, reference=reference, note=None)
    assert fresh(engine, Reservation, 1).door_note is None


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("x" * 201, "too_long"),
        ("two\nlines", "control_characters"),
        ("bell\x07", "control_characters"),
        ("   ", "required"),
    ],
)
def test_a_bad_door_note_is_refused_and_changes_nothing(
    engine, session, dates, confirmed, note, reason
):
    a, _b = dates
    reference = confirmed(a, 2).reservation.reference
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        booking.flag_reservation(session, reference=reference, note=note)
    assert info.value.reason == reason


def test_two_hundred_characters_is_a_door_note(engine, session, dates, confirmed):
    a, _b = dates
    reference = confirmed(a, 2).reservation.reference
    booking.flag_reservation(session, reference=reference, note="é" * 200)
    assert fresh(engine, Reservation, 1).door_note == "é" * 200
