"""Booking, confirmation, cancellation, resend and expiry: every rule and refusal of
the `services/booking/` package."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from azctl import errors
from azctl.models import (
    OutboxMessage,
    Performance,
    Reservation,
    ReservationToken,
)
from azctl.services import booking, checkin, reservations, times, tokens
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.services.helpers import fresh, messages, refused, seats, tokens_of

REFERENCE = re.compile(r"^AZ-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$")


def submit(session, performance, party_size=2, *, now=None, **fields):
    return booking.submit_booking(
        session,
        performance_id=performance.id,
        name=fields.pop("name", "Mirandolina Rossi"),
        email=fields.pop("email", "mirandolina@example.org"),
        party_size=party_size,
        now=now,
        **fields,
    )


# --- booking -------------------------------------------------------------------------------


def test_booking_creates_a_pending_reservation_its_tokens_and_one_mail(
    session, engine, make_performance
):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    now = times.now_utc()
    submitted = submit(
        session, performance, 3, now=now, phone=" +39 02 123 ", notes="aisle seat please"
    )

    stored = fresh(engine, Reservation, submitted.reservation.id)
    assert stored.status == "pending"
    assert REFERENCE.match(stored.reference)
    assert (stored.name, stored.email, stored.phone, stored.notes, stored.party_size) == (
        "Mirandolina Rossi",
        "mirandolina@example.org",
        "+39 02 123",
        "aisle seat please",
        3,
    )
    assert stored.expires_at == now + timedelta(hours=24)
    assert stored.confirmed_at is None

    by_purpose = {t.purpose: t for t in tokens_of(engine, stored.id)}
    assert set(by_purpose) == {"confirmation", "cancel"}
    assert by_purpose["confirmation"].token_hash == tokens.hash_token(submitted.confirm_token)
    assert by_purpose["confirmation"].expires_at == now + timedelta(hours=24)
    assert by_purpose["cancel"].token_hash == tokens.hash_token(submitted.cancel_token)
    assert by_purpose["cancel"].expires_at == performance.starts_at
    assert all(t.used_at is None and t.revoked_at is None for t in by_purpose.values())

    [mail] = messages(engine)
    assert (mail.kind, mail.to_address, mail.reservation_id) == (
        "confirmation",
        "mirandolina@example.org",
        stored.id,
    )
    assert mail.context["confirm_token"] == submitted.confirm_token
    assert mail.context["cancel_token"] == submitted.cancel_token
    assert seats(engine, performance.id).available_seats == 10


def test_confirmation_deadline_never_passes_the_start(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(hours=2))
    submitted = submit(session, performance, now=times.now_utc())
    [confirm] = tokens_of(engine, submitted.reservation.id, "confirmation")
    assert confirm.expires_at == performance.starts_at
    assert fresh(engine, Reservation, submitted.reservation.id).expires_at == performance.starts_at


def test_confirm_ttl_is_configurable(session, engine, make_performance, monkeypatch):
    monkeypatch.setenv("AZCTL_CONFIRM_TTL", "PT90M")
    reload_settings()
    performance = make_performance(capacity=10, starts_in=timedelta(days=2))
    now = times.now_utc()
    submitted = submit(session, performance, now=now)
    [confirm] = tokens_of(engine, submitted.reservation.id, "confirmation")
    assert confirm.expires_at == now + timedelta(minutes=90)


def test_references_are_unique_and_never_secret_tokens(session, make_performance, book):
    performance = make_performance(capacity=50)
    made = [book(performance, 1) for _ in range(12)]
    references = {m.reservation.reference for m in made}
    assert len(references) == 12
    assert all(REFERENCE.match(reference) for reference in references)


INVALID_BOOKINGS = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"email": ""}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "someone@localhost"}, "email"),
    ({"email": "two@@example.org"}, "email"),
    ({"email": "a b@example.org"}, "email"),
    ({"email": "<a@example.org>"}, "email"),
    ({"party_size": 0}, "party_size"),
    ({"party_size": -2}, "party_size"),
    ({"party_size": 9}, "party_size"),
    ({"party_size": True}, "party_size"),
    ({"party_size": "2"}, "party_size"),
    ({"phone": "1" * 41}, "phone"),
    ({"notes": "line\x07bell"}, "notes"),
]


def test_invalid_booking_input_is_refused_and_nothing_is_written(
    session, engine, make_performance, subtests
):
    performance = make_performance(capacity=50)
    for fields, field in INVALID_BOOKINGS:
        with subtests.test(fields=fields):
            with refused(engine, errors.InvalidInput, "invalid_input") as info:
                submit(session, performance, **{"party_size": 2, **fields})
            assert info.value.field == field
    assert count_rows(engine, Reservation) == 0
    assert count_rows(engine, OutboxMessage) == 0


def test_party_size_up_to_the_default_maximum_of_eight_is_accepted(session, make_performance):
    performance = make_performance(capacity=50)
    assert submit(session, performance, 8).reservation.party_size == 8
    assert submit(session, performance, 1).reservation.party_size == 1


def test_maximum_party_size_is_configurable(session, engine, make_performance, monkeypatch):
    monkeypatch.setenv("AZCTL_MAX_PARTY_SIZE", "3")
    reload_settings()
    performance = make_performance(capacity=50)
    assert submit(session, performance, 3).reservation.party_size == 3
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        submit(session, performance, 4)
    assert info.value.field == "party_size"


def test_booking_an_unpublished_show_is_not_found(session, engine, make_performance):
    performance = make_performance(capacity=50, published=False)
    with refused(engine, errors.NotFound, "not_found"):
        submit(session, performance)


def test_booking_an_unknown_performance_is_not_found(session, engine):
    with refused(engine, errors.NotFound, "not_found"):
        booking.submit_booking(
            session, performance_id=31337, name="A", email="a@example.org", party_size=1
        )


def test_booking_when_booking_is_disabled_is_closed(session, engine, make_performance):
    from azctl.services import catalog

    performance = make_performance(capacity=50)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    with refused(engine, errors.BookingClosed, "booking_closed"):
        submit(session, performance)


def test_booking_a_started_performance_is_closed(session, engine, make_performance):
    performance = make_performance(capacity=50, starts_in=timedelta(minutes=-5))
    with refused(engine, errors.BookingClosed, "booking_closed"):
        submit(session, performance)
    later = make_performance(capacity=50, starts_in=timedelta(hours=1))
    with refused(engine, errors.BookingClosed, "booking_closed"):
        submit(session, later, now=later.starts_at)


def test_booking_a_cancelled_performance_is_closed(session, engine, make_performance):
    performance = make_performance(capacity=50)
    booking.cancel_performance(session, performance_id=performance.id)
    with refused(engine, errors.BookingClosed, "booking_closed") as info:
        submit(session, performance)
    assert "cancelled" in info.value.message


def test_not_enough_seats_says_how_many_are_free(session, engine, make_performance, confirmed):
    performance = make_performance(capacity=6, manual=1)
    confirmed(performance, 3)
    with refused(engine, errors.NotEnoughSeats, "not_enough_seats") as info:
        submit(session, performance, 3)
    assert info.value.details == {"available": 2}
    assert "2" in info.value.message
    confirmed(performance, 2)
    with refused(engine, errors.NotEnoughSeats, "not_enough_seats") as info:
        submit(session, performance, 1)
    assert info.value.details == {"available": 0}


def test_pending_reservations_do_not_hold_seats(session, engine, make_performance, book):
    performance = make_performance(capacity=4)
    book(performance, 4)
    book(performance, 4)
    assert seats(engine, performance.id).available_seats == 4


def test_reservation_check_constraints_hold_against_direct_writes(
    session, engine, make_performance, book
):
    submitted = book(make_performance(capacity=10), 2)
    reservation_id = submitted.reservation.id
    for statement in (
        "UPDATE reservation SET party_size = 0 WHERE id = :id",
        "UPDATE reservation SET status = 'lost' WHERE id = :id",
        "UPDATE reservation_token SET purpose = 'master_key' WHERE reservation_id = :id",
    ):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(statement), {"id": reservation_id})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.insert(Reservation).values(
                performance_id=submitted.reservation.performance_id,
                reference=submitted.reservation.reference,
                name="Copy",
                email="copy@example.org",
                party_size=1,
                status="pending",
                created_at=times.now_utc(),
                updated_at=times.now_utc(),
            )
        )
    stored = fresh(engine, Reservation, reservation_id)
    assert (stored.party_size, stored.status) == (2, "pending")
    assert {t.purpose for t in tokens_of(engine, reservation_id)} == {"confirmation", "cancel"}
    assert count_rows(engine, Reservation) == 1


# --- confirmation ----------------------------------------------------------------------------


def test_confirmation_confirms_spends_the_token_and_issues_the_ticket(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=10, starts_in=timedelta(hours=5))
    submitted = book(performance, 3)
    now = times.now_utc()
    result = booking.confirm_booking(session, token=submitted.confirm_token, now=now)

    stored = fresh(engine, Reservation, submitted.reservation.id)
    assert stored.status == "confirmed"
    assert stored.confirmed_at == now
    assert stored.qr_code_generated_at == now
    by_purpose = {t.purpose: t for t in tokens_of(engine, stored.id)}
    assert by_purpose["confirmation"].used_at == now
    assert by_purpose["check_in"].token_hash == tokens.hash_token(result.ticket_token)
    assert by_purpose["check_in"].expires_at == performance.starts_at + timedelta(hours=4)
    assert by_purpose["check_in"].used_at is None
    assert result.ticket_token not in (submitted.confirm_token, submitted.cancel_token)

    [ticket_mail] = messages(engine, kind="ticket")
    assert ticket_mail.context["ticket_token"] == result.ticket_token
    assert ticket_mail.reservation_id == stored.id
    assert seats(engine, performance.id).available_seats == 7

    answer = result.as_dict()
    assert answer["status"] == "confirmed"
    assert answer["reference"] == stored.reference
    assert answer["party_size"] == 3
    assert answer["performance"]["id"] == performance.id
    assert answer["ticket_url"] == f"http://127.0.0.1:8000/t/{result.ticket_token}"


def test_check_in_token_lives_until_the_performance_window_closes(
    session, engine, make_performance, book
):
    from azctl.services import catalog

    base = make_performance(capacity=10)
    performance = catalog.add_performance(
        session,
        show_slug="open-show",
        venue_slug="teatro-studio",
        starts_at=base.starts_at + timedelta(days=1),
        room_capacity=10,
        checkin_closes_after_minutes=30,
    )
    result = booking.confirm_booking(session, token=book(performance, 1).confirm_token)
    [ticket] = tokens_of(engine, result.reservation.id, "check_in")
    assert ticket.expires_at == performance.starts_at + timedelta(minutes=30)


def test_confirming_an_unknown_token_is_invalid_token(
    session, engine, make_performance, book, subtests
):
    book(make_performance(capacity=10), 2)
    for text in ["", "nonsense", "AZ-7KQ4M2", "0" * 32, tokens.new_token(), "http://x/t/abc"]:
        with subtests.test(text=text), refused(engine, errors.InvalidToken, "invalid_token"):
            booking.confirm_booking(session, token=text)


def test_confirming_twice_is_token_used_and_changes_nothing(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    booking.confirm_booking(session, token=submitted.confirm_token)
    for _ in range(2):
        with refused(engine, errors.TokenUsed, "token_used"):
            booking.confirm_booking(session, token=submitted.confirm_token)
    assert len(tokens_of(engine, submitted.reservation.id, "check_in")) == 1
    assert len(messages(engine, kind="ticket")) == 1
    assert seats(engine, performance.id).confirmed_seats == 2


def test_confirming_accepts_the_token_as_a_url_in_lowercase(
    session, engine, make_performance, book
):
    submitted = book(make_performance(capacity=10), 2)
    link = f"  http://127.0.0.1:8000/confirm/{submitted.confirm_token.lower()}\n"
    booking.confirm_booking(session, token=link)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"


def test_an_expired_confirmation_marks_the_reservation_expired(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    booked_at = times.now_utc()
    submitted = submit(session, performance, 2, now=booked_at)
    too_late = booked_at + timedelta(hours=24, seconds=1)

    with pytest.raises(errors.TokenExpired) as info:
        booking.confirm_booking(session, token=submitted.confirm_token, now=too_late)
    assert info.value.code == "token_expired"
    stored = fresh(engine, Reservation, submitted.reservation.id)
    assert stored.status == "expired"
    assert stored.confirmed_at is None
    [confirm] = tokens_of(engine, stored.id, "confirmation")
    assert confirm.used_at is None
    assert tokens_of(engine, stored.id, "check_in") == []
    assert messages(engine, kind="ticket") == []
    assert seats(engine, performance.id).confirmed_seats == 0

    # Still expired afterwards, even at a time before the deadline: expiry is final.
    with refused(engine, errors.TokenExpired, "token_expired"):
        booking.confirm_booking(session, token=submitted.confirm_token, now=booked_at)


def test_confirmation_at_the_exact_deadline_is_expired(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    booked_at = times.now_utc()
    submitted = submit(session, performance, 2, now=booked_at)
    with pytest.raises(errors.TokenExpired):
        booking.confirm_booking(
            session, token=submitted.confirm_token, now=booked_at + timedelta(hours=24)
        )
    assert fresh(engine, Reservation, submitted.reservation.id).status == "expired"


def test_confirmation_just_before_the_deadline_works(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    booked_at = times.now_utc()
    submitted = submit(session, performance, 2, now=booked_at)
    booking.confirm_booking(
        session, token=submitted.confirm_token, now=booked_at + timedelta(hours=23, minutes=59)
    )
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"


def test_sold_out_leaves_the_reservation_pending_and_its_token_unused(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=5)
    first = book(performance, 3)
    second = book(performance, 3)
    booking.confirm_booking(session, token=first.confirm_token)

    with refused(engine, errors.SoldOut, "sold_out") as info:
        booking.confirm_booking(session, token=second.confirm_token)
    assert info.value.details == {"available": 2}
    stored = fresh(engine, Reservation, second.reservation.id)
    assert stored.status == "pending"
    [confirm] = tokens_of(engine, stored.id, "confirmation")
    assert confirm.used_at is None
    assert tokens_of(engine, stored.id, "check_in") == []
    assert [m.reservation_id for m in messages(engine, kind="ticket")] == [first.reservation.id]

    # The same link works once seats are free again.
    booking.cancel_by_token(session, token=first.cancel_token)
    booking.confirm_booking(session, token=second.confirm_token)
    assert fresh(engine, Reservation, second.reservation.id).status == "confirmed"
    assert seats(engine, performance.id).confirmed_seats == 3


def test_a_party_that_exactly_fits_is_confirmed(session, engine, make_performance, book):
    performance = make_performance(capacity=5, additional=1, manual=2)
    first = book(performance, 2)
    second = book(performance, 2)
    booking.confirm_booking(session, token=first.confirm_token)
    booking.confirm_booking(session, token=second.confirm_token)
    assert seats(engine, performance.id).available_seats == 0


def test_confirmation_after_booking_closed_is_refused_and_stays_pending(
    session, engine, make_performance, book
):
    from azctl.services import catalog

    performance = make_performance(capacity=5)
    submitted = book(performance, 2)
    catalog.set_booking_enabled(session, performance_id=performance.id, enabled=False)
    with refused(engine, errors.BookingClosed, "booking_closed"):
        booking.confirm_booking(session, token=submitted.confirm_token)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "pending"


# --- tokens of the wrong purpose ------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_kind", "action"),
    [
        ("cancel", "confirm"),
        ("ticket", "confirm"),
        ("confirm", "cancel"),
        ("ticket", "cancel"),
    ],
)
def test_a_token_never_works_for_another_purpose(
    session, engine, make_performance, book, token_kind, action
):
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    other = book(performance, 2)
    ticket = booking.confirm_booking(session, token=other.confirm_token).ticket_token
    # `submitted` stays pending; its confirm and cancel tokens are live, as is `other`'s ticket.
    raw = {
        "confirm": submitted.confirm_token,
        "cancel": submitted.cancel_token,
        "ticket": ticket,
    }[token_kind]
    act = {"confirm": booking.confirm_booking, "cancel": booking.cancel_by_token}[action]
    with refused(engine, errors.InvalidToken, "invalid_token"):
        act(session, token=raw)


# --- cancellation ----------------------------------------------------------------------------


def test_cancelling_a_confirmed_booking_by_token_frees_its_seats(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=4)
    submitted = book(performance, 4)
    booking.confirm_booking(session, token=submitted.confirm_token)
    assert seats(engine, performance.id).available_seats == 0

    now = times.now_utc()
    booking.cancel_by_token(session, token=submitted.cancel_token, now=now)

    stored = fresh(engine, Reservation, submitted.reservation.id)
    assert (stored.status, stored.cancelled_at) == ("cancelled", now)
    assert seats(engine, performance.id).available_seats == 4
    cancel_tokens = tokens_of(engine, stored.id, "cancel")
    assert cancel_tokens[0].used_at == now
    # Kept unrevoked, so a later use is answered for what it is (token_used, not_confirmed).
    assert all(t.revoked_at is None for t in tokens_of(engine, stored.id))
    with refused(engine, errors.TokenUsed, "token_used"):
        booking.confirm_booking(session, token=submitted.confirm_token)
    [mail] = messages(engine, kind="cancelled")
    assert mail.reservation_id == stored.id
    assert "cancel_token" not in mail.context


def test_cancelling_a_pending_booking_by_token(session, engine, make_performance, book):
    performance = make_performance(capacity=4)
    submitted = book(performance, 2)
    booking.cancel_by_token(session, token=submitted.cancel_token)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "cancelled"
    with refused(engine, errors.InvalidToken, "invalid_token"):
        booking.confirm_booking(session, token="http://x/confirm/" + tokens.new_token())


def test_cancelling_twice_with_the_same_link_is_token_used(session, engine, make_performance, book):
    submitted = book(make_performance(capacity=4), 2)
    booking.cancel_by_token(session, token=submitted.cancel_token)
    with refused(engine, errors.TokenUsed, "token_used"):
        booking.cancel_by_token(session, token=submitted.cancel_token)


def test_confirming_a_cancelled_booking_is_token_used(session, engine, make_performance, book):
    submitted = book(make_performance(capacity=4), 2)
    booking.cancel_by_token(session, token=submitted.cancel_token)
    with refused(engine, errors.TokenUsed, "token_used"):
        booking.confirm_booking(session, token=submitted.confirm_token)


def test_cancelling_after_the_start_is_token_expired(session, engine, make_performance, book):
    performance = make_performance(capacity=4)
    submitted = book(performance, 2)
    booking.confirm_booking(session, token=submitted.confirm_token)
    with refused(engine, errors.TokenExpired, "token_expired"):
        booking.cancel_by_token(session, token=submitted.cancel_token, now=performance.starts_at)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"
    assert seats(engine, performance.id).confirmed_seats == 2


def test_cancelling_an_expired_booking_is_token_expired(session, engine, make_performance):
    performance = make_performance(capacity=4, starts_in=timedelta(days=3))
    booked_at = times.now_utc()
    submitted = submit(session, performance, 2, now=booked_at)
    booking.expire_pending(session, now=booked_at + timedelta(days=1, minutes=1))
    with refused(engine, errors.TokenExpired, "token_expired"):
        booking.cancel_by_token(session, token=submitted.cancel_token)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "expired"


def test_cancelling_a_checked_in_booking_is_refused(session, engine, make_performance, book):
    performance = make_performance(capacity=4)
    submitted = book(performance, 2)
    ticket = booking.confirm_booking(session, token=submitted.confirm_token).ticket_token
    assert checkin.scan(session, text=ticket, performance_id=performance.id).admitted
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.cancel_by_token(session, token=submitted.cancel_token)
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.cancel_reservation(session, reference=submitted.reservation.reference)


def test_staff_cancel_by_reference_in_any_spelling_frees_seats(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=4)
    result = confirmed(performance, 3)
    spelling = " " + result.reservation.reference.lower().removeprefix("az-") + " "
    booking.cancel_reservation(session, reference=spelling)
    assert fresh(engine, Reservation, result.reservation.id).status == "cancelled"
    assert seats(engine, performance.id).available_seats == 4
    assert len(messages(engine, kind="cancelled")) == 1
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.cancel_reservation(session, reference=result.reservation.reference)


def test_staff_cancel_of_an_unknown_reference_is_not_found(session, engine):
    with refused(engine, errors.NotFound, "not_found"):
        booking.cancel_reservation(session, reference="AZ-000000")


# --- resend ----------------------------------------------------------------------------------


def test_resend_of_a_pending_booking_revokes_old_links_and_new_ones_work(
    session, engine, make_performance, book
):
    performance = make_performance(capacity=4, starts_in=timedelta(days=2))
    submitted = book(performance, 2)
    later = times.now_utc() + timedelta(hours=1)
    booking.resend(session, reference=submitted.reservation.reference, now=later)

    mails = messages(engine, reservation_id=submitted.reservation.id, kind="confirmation")
    assert len(mails) == 2
    new_confirm = mails[-1].context["confirm_token"]
    new_cancel = mails[-1].context["cancel_token"]
    assert new_confirm != submitted.confirm_token
    assert new_cancel != submitted.cancel_token
    assert fresh(engine, Reservation, submitted.reservation.id).expires_at == later + timedelta(
        hours=24
    )

    with refused(engine, errors.InvalidToken, "invalid_token"):
        booking.confirm_booking(session, token=submitted.confirm_token)
    with refused(engine, errors.InvalidToken, "invalid_token"):
        booking.cancel_by_token(session, token=submitted.cancel_token)
    booking.confirm_booking(session, token=new_confirm)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "confirmed"
    booking.cancel_by_token(session, token=new_cancel)
    assert fresh(engine, Reservation, submitted.reservation.id).status == "cancelled"


def test_resend_of_a_confirmed_booking_replaces_the_ticket(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=4)
    result = confirmed(performance, 2)
    booking.resend(session, reference=result.reservation.reference)

    tickets = tokens_of(engine, result.reservation.id, "check_in")
    assert len(tickets) == 2
    assert tickets[0].revoked_at is not None
    assert tickets[1].revoked_at is None
    new_ticket = messages(engine, kind="ticket")[-1].context["ticket_token"]
    assert new_ticket != result.ticket_token
    assert tickets[1].token_hash == tokens.hash_token(new_ticket)

    old = checkin.scan(session, text=result.ticket_token, performance_id=performance.id)
    assert old.result == "unknown_token"
    assert checkin.scan(session, text=new_ticket, performance_id=performance.id).result == "ok"


def test_resend_refusals(session, engine, make_performance, book, confirmed):
    performance = make_performance(capacity=10)
    cancelled = book(performance, 1)
    booking.cancel_by_token(session, token=cancelled.cancel_token)
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.resend(session, reference=cancelled.reservation.reference)
    live = confirmed(performance, 1)
    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.resend(session, reference=live.reservation.reference, now=performance.starts_at)
    with refused(engine, errors.NotFound, "not_found"):
        booking.resend(session, reference="AZ-ZZZZZZ")


# --- expiry and performance cancellation ----------------------------------------------------


def test_expire_pending_expires_only_lapsed_pending_reservations(
    session, engine, make_performance, book
):
    soon = make_performance(capacity=20, starts_in=timedelta(hours=2))
    later = make_performance(capacity=20, starts_in=timedelta(days=3))
    lapsing = book(soon, 2)
    kept = book(later, 2)
    confirmed_one = book(soon, 2)
    booking.confirm_booking(session, token=confirmed_one.confirm_token)

    assert booking.expire_pending(session, now=times.now_utc()) == 0
    assert booking.expire_pending(session, now=soon.starts_at) == 1
    assert booking.expire_pending(session, now=soon.starts_at) == 0

    assert fresh(engine, Reservation, lapsing.reservation.id).status == "expired"
    assert fresh(engine, Reservation, kept.reservation.id).status == "pending"
    assert fresh(engine, Reservation, confirmed_one.reservation.id).status == "confirmed"
    with refused(engine, errors.TokenExpired, "token_expired"):
        booking.confirm_booking(session, token=lapsing.confirm_token, now=times.now_utc())


def test_cancel_performance_cancels_open_bookings_and_tells_each_visitor(
    session, engine, make_performance, book, confirmed
):
    performance = make_performance(capacity=20, starts_in=timedelta(days=3))
    other = make_performance(capacity=20, starts_in=timedelta(days=4))
    pending = book(performance, 2)
    held = confirmed(performance, 3)
    expired = submit(session, performance, 1, now=times.now_utc() - timedelta(days=2))
    booking.expire_pending(session)
    untouched = book(other, 2)
    mails_before = count_rows(engine, OutboxMessage)

    now = times.now_utc()
    assert booking.cancel_performance(session, performance_id=performance.id, now=now) == 2

    stored = fresh(engine, Performance, performance.id)
    assert stored.cancelled_at == now
    assert stored.is_booking_enabled is False
    for reservation in (pending.reservation, held.reservation):
        row = fresh(engine, Reservation, reservation.id)
        assert (row.status, row.cancelled_at) == ("cancelled", now)
        assert all(t.revoked_at is None for t in tokens_of(engine, reservation.id))
    with refused(engine, errors.TokenUsed, "token_used"):
        booking.confirm_booking(session, token=pending.confirm_token)
    assert fresh(engine, Reservation, expired.reservation.id).status == "expired"
    assert fresh(engine, Reservation, untouched.reservation.id).status == "pending"
    cancelled_mail = messages(engine, kind="performance_cancelled")
    assert sorted(m.reservation_id for m in cancelled_mail) == sorted(
        [pending.reservation.id, held.reservation.id]
    )
    assert count_rows(engine, OutboxMessage) == mails_before + 2
    assert seats(engine, performance.id).confirmed_seats == 0

    with refused(engine, errors.InvalidState, "invalid_state"):
        booking.cancel_performance(session, performance_id=performance.id)


def test_cancel_unknown_performance_is_not_found(session, engine):
    with refused(engine, errors.NotFound, "not_found"):
        booking.cancel_performance(session, performance_id=999)


# --- listing ---------------------------------------------------------------------------------


def test_list_reservations_filters_and_searches(session, engine, make_performance, book, confirmed):
    performance = make_performance(capacity=30)
    elsewhere = make_performance(capacity=30, starts_in=timedelta(days=1))
    confirmed(performance, 2, name="Fabrizio Neri", email="fab@example.org")
    anna = book(performance, 1, name="Anna_Maria Bo", email="annamaria@example.org")
    book(elsewhere, 1, name="Ortensia Blu", email="ortensia@example.org")

    rows = reservations.list_reservations(session, performance_id=performance.id)
    assert [r.reservation.name for r in rows] == ["Anna_Maria Bo", "Fabrizio Neri"]
    confirmed_rows = reservations.list_reservations(
        session, performance_id=performance.id, status="confirmed"
    )
    assert [r.reservation.name for r in confirmed_rows] == ["Fabrizio Neri"]
    assert [r.reservation.name for r in reservations.list_reservations(session, search="FAB")] == [
        "Fabrizio Neri"
    ]
    assert [r.reservation.name for r in reservations.list_reservations(session, search="a_m")] == [
        "Anna_Maria Bo"
    ]
    assert reservations.list_reservations(session, search="%") == []
    by_reference = reservations.list_reservations(
        session, search=anna.reservation.reference.lower()
    )
    assert [r.reservation.id for r in by_reference] == [anna.reservation.id]
    row = reservations.reservation_row(session, reference=anna.reservation.reference)
    assert row.as_dict()["status"] == "pending"
    assert row.as_dict()["checked_in"] is False
    with pytest.raises(errors.InvalidInput) as info:
        reservations.list_reservations(session, status="lost")
    assert info.value.field == "status"
    with pytest.raises(errors.NotFound):
        reservations.reservation_row(session, reference="AZ-000000")


def test_token_rows_store_no_raw_token(session, engine, make_performance, book):
    submitted = book(make_performance(capacity=10), 2)
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(ReservationToken.token_hash)).scalars().all()
    assert submitted.confirm_token not in hashes
    assert tokens.hash_token(submitted.confirm_token) in hashes
