"""The waiting list (DESIGN §8): joining, offers in joining order, held seats, accepting,
lapsing, leaving, and the list closing with booking."""

from __future__ import annotations

from datetime import timedelta

import pytest

from azctl import db, errors
from azctl.models import Reservation, ReservationStatus, WaitlistStatus
from azctl.services import booking, capacity, times, waitlist, walkins
from tests.services.helpers import fresh, messages, refused, seats
from tests.services.waitlist_helpers import entry, join, offer_token, statuses


@pytest.fixture
def sold_out(make_performance, confirmed):
    """A performance of 6 seats, all confirmed to three parties of 2 (returned beside it)."""

    def make(capacity: int = 6, **options):
        performance = make_performance(capacity=capacity, **options)
        parties = [confirmed(performance, 2) for _ in range(capacity // 2)]
        return performance, parties

    return make


def test_a_party_joins_a_sold_out_house_with_a_reference_a_position_and_a_mail(
    engine, session, sold_out
):
    performance, _ = sold_out()
    first = join(session, performance, 2, language="it")
    second = join(session, performance, 3)
    assert first.entry.reference.startswith("AZ-")
    assert (first.position, second.position) == (1, 2)
    assert first.entry.status == WaitlistStatus.WAITING
    mails = messages(engine, kind="waitlist_joined")
    assert [m.context["position"] for m in mails] == [1, 2]
    assert mails[0].context["language"] == "it"
    assert mails[0].to_address == first.entry.email
    assert mails[0].context["leave_token"] == first.leave_token


def test_a_party_that_fits_is_told_to_book_instead(engine, session, make_performance, confirmed):
    performance = make_performance(capacity=6)
    confirmed(performance, 3)
    with refused(engine, errors.SeatsAvailable, "seats_available") as info:
        join(session, performance, 3)
    assert info.value.details["available"] == 3
    join(session, performance, 4)  # does not fit: may wait


def test_one_active_entry_per_email_per_performance(engine, session, sold_out):
    performance, _ = sold_out()
    other, _ = sold_out(starts_in=timedelta(hours=3))
    join(session, performance, email="anna@example.org")
    with refused(engine, errors.AlreadyWaiting, "already_waiting"):
        join(session, performance, email="ANNA@example.org")
    join(session, other, email="anna@example.org")  # another performance: another list


def test_the_form_rules_of_a_booking_apply(engine, session, sold_out):
    performance, _ = sold_out()
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        join(session, performance, email="not an address")
    assert info.value.field == "email"
    with refused(engine, errors.InvalidInput, "invalid_input"):
        join(session, performance, 0)


def test_the_list_is_closed_when_booking_is(engine, session, sold_out, make_performance):
    performance, _ = sold_out()
    with db.write(session):
        db.lock_performance(session, performance.id).is_booking_enabled = False
    with refused(engine, errors.BookingClosed, "booking_closed"):
        join(session, performance)
    hidden = make_performance(published=False, capacity=1)
    with refused(engine, errors.NotFound, "not_found"):
        join(session, hidden)


def test_offers_go_in_joining_order_to_each_party_that_fits_a_larger_one_keeps_its_place(
    engine, session, sold_out
):
    performance, parties = sold_out(capacity=6)
    big = join(session, performance, 4)
    small = join(session, performance, 2)
    later = join(session, performance, 1)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)  # 2 free

    assert waitlist.offer_round(engine, times.now_utc()) == 1
    assert statuses(engine, [big, small, later]) == ["waiting", "offered", "waiting"]
    counts = seats(engine, performance.id)
    assert (counts.held_seats, counts.available_seats) == (2, 0)
    assert waitlist.offer_round(engine, times.now_utc()) == 0  # nothing free: nothing more

    # Two more seats: the party of 4 still does not fit; the 1 behind it does.
    booking.cancel_reservation(session, reference=parties[1].reservation.reference)
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    assert statuses(engine, [big, small, later]) == ["waiting", "offered", "offered"]
    assert seats(engine, performance.id).available_seats == 1
    [offer] = [
        m for m in messages(engine, kind="waitlist_offer") if m.to_address == small.entry.email
    ]
    assert offer.context["offer_until_at"] == times.iso_local(performance.starts_at)
    assert offer.context["offer_token"]
    rows = waitlist.list_entries(session, performance_id=performance.id)
    assert [(r.entry.reference, r.position) for r in rows] == [
        (big.entry.reference, 1),
        (small.entry.reference, None),
        (later.entry.reference, None),
    ]


def test_an_offer_holds_for_the_hold_setting_never_past_the_start(
    engine, session, sold_out, monkeypatch
):
    monkeypatch.setenv("AZCTL_WAITLIST_HOLD", "30m")
    from azctl.settings import reload_settings

    reload_settings()
    performance, parties = sold_out(starts_in=timedelta(days=2))
    waiting = join(session, performance, 2)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    now = times.now_utc()
    waitlist.offer_round(engine, now)
    assert entry(engine, waiting.entry.reference).offer_expires_at == now + timedelta(minutes=30)


def test_a_booking_cannot_take_held_seats(engine, session, make_performance, confirmed, book):
    performance = make_performance(capacity=6)
    first = confirmed(performance, 4)
    pending = book(performance, 2)  # asked while two seats were free
    confirmed(performance, 2)  # and someone else took them
    waiting = join(session, performance, 2)
    booking.cancel_reservation(session, reference=first.reservation.reference)  # 4 free
    assert waitlist.offer_round(engine, times.now_utc()) == 1  # 2 held, 2 free
    later = book(performance, 2)
    booking.confirm_booking(session, token=later.confirm_token)  # takes the 2 free
    with refused(engine, errors.SoldOut, "sold_out") as info:
        booking.confirm_booking(session, token=pending.confirm_token)
    assert info.value.details["available"] == 0
    with refused(engine, errors.NotEnoughSeats, "not_enough_seats"):
        book(performance, 1)
    with refused(engine, errors.CapacityConflict, "capacity_conflict"):
        capacity.change_capacity(session, performance_id=performance.id, room_capacity=5)
    with refused(engine, errors.CapacityConflict, "capacity_conflict"):
        walkins.change_walk_ins(session, performance_id=performance.id, change=1, anyway=True)
    counts = seats(engine, performance.id)
    assert (counts.confirmed_seats, counts.held_seats, counts.available_seats) == (4, 2, 0)
    assert entry(engine, waiting.entry.reference).status == "offered"


def test_accepting_an_offer_makes_a_confirmed_booking_with_its_ticket(engine, session, sold_out):
    performance, parties = sold_out(capacity=6)
    waiting = join(session, performance, 2, language="it", phone="+39 02 1234")
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    waitlist.offer_round(engine, times.now_utc())
    token = offer_token(engine, waiting.entry.reference)

    accepted = waitlist.accept_offer(session, token=token)
    reservation = fresh(engine, Reservation, accepted.reservation.id)
    assert reservation.status == ReservationStatus.CONFIRMED
    assert reservation.reference == waiting.entry.reference
    assert (reservation.language, reservation.phone) == ("it", "+39 02 1234")
    ticket = booking.ticket(session, token=accepted.ticket_token)
    assert ticket.reservation.id == reservation.id
    [mail] = messages(engine, reservation_id=reservation.id, kind="ticket")
    assert mail.context["language"] == "it"
    assert accepted.as_dict()["ticket_url"].endswith(accepted.ticket_token)
    done = entry(engine, waiting.entry.reference)
    assert (done.status, done.reservation_id) == ("booked", reservation.id)
    counts = seats(engine, performance.id)
    assert (counts.confirmed_seats, counts.held_seats, counts.available_seats) == (6, 0, 0)

    with refused(engine, errors.TokenUsed, "token_used"):
        waitlist.accept_offer(session, token=token)
    with refused(engine, errors.InvalidToken, "invalid_token"):
        waitlist.accept_offer(session, token="0" * 32)
    with refused(engine, errors.InvalidToken, "invalid_token"):
        waitlist.accept_offer(session, token=waiting.leave_token)  # a leave token is no offer


def test_a_lapsed_offer_frees_its_seats_for_the_next_round(engine, session, sold_out):
    performance, parties = sold_out(capacity=6, starts_in=timedelta(days=3))
    first = join(session, performance, 2)
    second = join(session, performance, 2)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    now = times.now_utc()
    waitlist.offer_round(engine, now)
    token = offer_token(engine, first.entry.reference)
    assert waitlist.lapse_offers(engine, now) == 0
    later = now + timedelta(hours=12, seconds=1)

    with refused(engine, errors.TokenExpired, "token_expired"):
        waitlist.accept_offer(session, token=token, now=later)
    assert waitlist.lapse_offers(engine, later) == 1
    assert statuses(engine, [first, second]) == ["lapsed", "waiting"]
    assert seats(engine, performance.id).available_seats == 2
    assert waitlist.offer_round(engine, later) == 1
    assert statuses(engine, [first, second]) == ["lapsed", "offered"]
    with refused(engine, errors.TokenExpired, "token_expired"):
        waitlist.accept_offer(session, token=token, now=later)


def test_leaving_frees_an_open_offer_and_a_leave_link_works_once(engine, session, sold_out):
    performance, parties = sold_out(capacity=6)
    first = join(session, performance, 2)
    second = join(session, performance, 2)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    waitlist.offer_round(engine, times.now_utc())
    token = offer_token(engine, first.entry.reference)

    preview = waitlist.leave_preview(session, token=first.leave_token)
    assert preview.entry.reference == first.entry.reference
    waitlist.leave(session, token=first.leave_token)
    assert statuses(engine, [first, second]) == ["left", "waiting"]
    assert seats(engine, performance.id).available_seats == 2
    with refused(engine, errors.TokenUsed, "token_used"):
        waitlist.leave(session, token=first.leave_token)
    with refused(engine, errors.TokenUsed, "token_used"):
        waitlist.accept_offer(session, token=token)
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    assert statuses(engine, [first, second]) == ["left", "offered"]


def test_staff_remove_an_entry_by_reference(engine, session, sold_out):
    performance, _ = sold_out()
    waiting = join(session, performance)
    removed = waitlist.remove(session, reference=waiting.entry.reference.lower())
    assert removed.status == "left"
    with refused(engine, errors.InvalidState, "invalid_state"):
        waitlist.remove(session, reference=waiting.entry.reference)
    with refused(engine, errors.NotFound, "not_found"):
        waitlist.remove(session, reference="AZ-000000")
    # Left: the email may join again.
    join(session, performance, email=waiting.entry.email)


def test_no_offer_while_booking_is_closed_and_the_list_ends_with_the_performance(
    engine, session, sold_out
):
    performance, parties = sold_out(capacity=6)
    waiting = join(session, performance, 2)
    offered = join(session, performance, 2)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    with db.write(session):
        db.lock_performance(session, performance.id).is_booking_enabled = False
    assert waitlist.offer_round(engine, times.now_utc()) == 0
    with db.write(session):
        db.lock_performance(session, performance.id).is_booking_enabled = True
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    assert statuses(engine, [waiting, offered]) == ["offered", "waiting"]

    booking.cancel_performance(session, performance_id=performance.id)
    assert waitlist.offer_round(engine, times.now_utc()) == 0
    assert waitlist.lapse_offers(engine, times.now_utc()) == 2
    assert statuses(engine, [waiting, offered]) == ["lapsed", "lapsed"]
    assert entry(engine, waiting.entry.reference).ended_at is not None


def test_the_list_ends_when_the_performance_starts(engine, session, sold_out):
    performance, _ = sold_out(capacity=6)
    waiting = join(session, performance, 2)
    after_start = performance.starts_at + timedelta(minutes=1)
    assert waitlist.offer_round(engine, after_start) == 0
    assert waitlist.lapse_offers(engine, after_start) == 1
    assert statuses(engine, [waiting]) == ["lapsed"]
    with refused(engine, errors.TokenExpired, "token_expired"):
        waitlist.leave(session, token=waiting.leave_token, now=after_start)


@pytest.mark.parametrize(
    ("language", "joined_words", "offer_words"),
    [
        ("en", "Your place on the list: 1", "The seats are held for you until"),
        ("it", "Posizione in lista: 1", "I posti restano riservati per voi fino a"),
    ],
)
def test_the_mails_carry_their_links_in_the_entrys_language(
    engine, session, sold_out, language, joined_words, offer_words
):
    from azctl.services import mail

    performance, parties = sold_out()
    waiting = join(session, performance, 2, language=language)
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    waitlist.offer_round(engine, times.now_utc())
    [joined_row] = messages(engine, kind="waitlist_joined")
    [offer_row] = messages(engine, kind="waitlist_offer")
    joined_mail, offer_mail = mail.render(joined_row), mail.render(offer_row)
    joined_text = joined_mail.get_body(("plain",)).get_content()
    offer_text = offer_mail.get_body(("plain",)).get_content()
    offer_html = offer_mail.get_body(("html",)).get_content()
    assert joined_words in joined_text
    assert f"/leave/{waiting.leave_token}" in joined_text
    assert offer_words in offer_text
    token = offer_token(engine, waiting.entry.reference)
    assert f"/offer/{token}" in offer_text
    assert f"/offer/{token}" in offer_html
    assert waiting.entry.reference in joined_mail["Subject"]
    assert offer_mail["Subject"].startswith(
        {"en": "Seats for you: Open Show", "it": "Posti per voi: Open Show"}[language]
    )
