"""`azctl res list|show|cancel|resend|expire`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from azctl import db
from azctl.models import OutboxMessage, Performance
from azctl.services import booking, checkin, times
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_iso_with_offset,
    count,
    iso,
    json_output,
    record,
    shown,
    succeeded,
    table,
)
from tests.helpers import unchanged

RES_FIELDS = [
    "reference",
    "status",
    "checked_in",
    "checked_in_at",
    "name",
    "email",
    "phone",
    "party_size",
    "notes",
    "door_note",
    "performance_id",
    "show",
    "starts_at",
    "created_at",
    "confirmed_at",
    "expires_at",
    "cancelled_at",
]


@dataclass
class Bookings:
    performance: Performance
    pending: str
    confirmed: str
    checked_in: str
    cancelled: str
    ticket: str


@pytest.fixture
def bookings(session: Session, make_performance, book, confirmed) -> Bookings:
    """One performance: Giulia pending (2), Luca cancelled (2), Marco confirmed (3, phone and
    notes), Sara confirmed and checked in (1)."""
    performance = make_performance(capacity=20)
    pending = book(performance, 2, name="Giulia Bianchi", email="giulia@example.org")
    marco = confirmed(
        performance,
        3,
        name="Marco Rossi",
        email="marco@example.org",
        phone="+39 02 1234",
        notes="wheelchair",
    )
    sara = confirmed(performance, 1, name="Sara Conti", email="sara@example.org")
    luca = book(performance, 2, name="Luca Ferrari", email="luca@example.org")
    booking.cancel_reservation(session, reference=luca.reservation.reference)
    checkin.scan(session, text=sara.ticket_token, performance_id=performance.id)
    return Bookings(
        performance=performance,
        pending=pending.reservation.reference,
        confirmed=marco.reservation.reference,
        checked_in=sara.reservation.reference,
        cancelled=luca.reservation.reference,
        ticket=marco.ticket_token,
    )


def test_list_table(cli: Cli, bookings: Bookings):
    header, rows = table(cli("res", "list"), title="Reservations")
    assert header == [
        "Reference",
        "Status",
        "In",
        "Seats",
        "Name",
        "Email",
        "Performance",
        "Door note",
    ]
    when = shown(bookings.performance.starts_at)
    assert rows == [
        [bookings.pending, "pending", "no", "2", "Giulia Bianchi", "giulia@example.org", when, ""],
        [bookings.cancelled, "cancelled", "no", "2", "Luca Ferrari", "luca@example.org", when, ""],
        [bookings.confirmed, "confirmed", "no", "3", "Marco Rossi", "marco@example.org", when, ""],
        [bookings.checked_in, "confirmed", "yes", "1", "Sara Conti", "sara@example.org", when, ""],
    ]


def test_list_json(cli: Cli, bookings: Bookings):
    listed = json_output(cli("res", "list", "--perf", str(bookings.performance.id), "--json"))
    assert [row["reference"] for row in listed] == [
        bookings.pending,
        bookings.cancelled,
        bookings.confirmed,
        bookings.checked_in,
    ]
    assert all(list(row) == RES_FIELDS for row in listed)
    marco = listed[2]
    created = assert_iso_with_offset(marco.pop("created_at"))
    confirmed_at = assert_iso_with_offset(marco.pop("confirmed_at"))
    assert created <= confirmed_at
    assert assert_iso_with_offset(marco.pop("expires_at")) > created
    assert marco == {
        "reference": bookings.confirmed,
        "status": "confirmed",
        "checked_in": False,
        "checked_in_at": None,
        "name": "Marco Rossi",
        "email": "marco@example.org",
        "phone": "+39 02 1234",
        "party_size": 3,
        "notes": "wheelchair",
        "door_note": None,
        "performance_id": bookings.performance.id,
        "show": "open-show",
        "starts_at": iso(bookings.performance.starts_at),
        "cancelled_at": None,
    }
    sara = listed[3]
    assert sara["checked_in"] is True
    assert_iso_with_offset(sara["checked_in_at"])
    assert_iso_with_offset(listed[1]["cancelled_at"])


def test_list_csv(cli: Cli, bookings: Bookings):
    result = succeeded(cli("res", "list", "--csv"))
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == RES_FIELDS
    rows = list(reader)
    assert [row["name"] for row in rows] == [
        "Giulia Bianchi",
        "Luca Ferrari",
        "Marco Rossi",
        "Sara Conti",
    ]
    assert rows[2]["reference"] == bookings.confirmed
    assert rows[2]["phone"] == "'+39 02 1234"  # a leading + is a formula to a spreadsheet
    assert rows[2]["party_size"] == "3"
    assert rows[2]["checked_in_at"] == ""
    assert rows[3]["checked_in"] == "true"
    assert_iso_with_offset(rows[3]["checked_in_at"])
    assert rows[3]["starts_at"] == iso(bookings.performance.starts_at)


def references(cli: Cli, *options: str) -> list[str]:
    return [row["reference"] for row in json_output(cli("res", "list", *options, "--json"))]


def test_list_filters(cli: Cli, bookings: Bookings, make_performance, confirmed):
    later = make_performance(starts_in=timedelta(days=2))
    other = confirmed(later, 2, name="Paolo Greco").reservation.reference
    perf = str(bookings.performance.id)
    assert references(cli, "--perf", str(later.id)) == [other]
    assert len(references(cli)) == 5
    assert references(cli)[0] == other  # the latest performance first
    assert references(cli, "--perf", perf, "--status", "confirmed") == [
        bookings.confirmed,
        bookings.checked_in,
    ]
    assert references(cli, "--status", "pending") == [bookings.pending]
    assert references(cli, "--status", "expired") == []
    assert references(cli, "--search", "ROSSI") == [bookings.confirmed]
    assert references(cli, "--search", "sara@example") == [bookings.checked_in]
    assert references(cli, "--search", bookings.pending[3:].lower()) == [bookings.pending]
    assert references(cli, "--search", "%") == []


def test_list_when_there_are_none(cli: Cli, database_url: str):
    result = succeeded(cli("res", "list"))
    assert (result.stdout, result.stderr) == ("", "No reservations.\n")
    assert json_output(cli("res", "list", "--json")) == []


def test_show(cli: Cli, bookings: Bookings):
    listed = json_output(cli("res", "list", "--json"))
    shown_json = json_output(cli("res", "show", bookings.confirmed, "--json"))
    assert shown_json == next(row for row in listed if row["reference"] == bookings.confirmed)
    key, fields = record(cli("res", "show", bookings.checked_in[3:].lower()))
    assert key == bookings.checked_in
    assert fields["status"] == "confirmed"
    assert fields["checked in"] == "yes"
    assert fields["name"] == "Sara Conti"
    assert fields["party size"] == "1"
    assert fields["starts at"] == shown(bookings.performance.starts_at)


def seats_of(cli: Cli, performance: Performance) -> dict[str, int]:
    summary = json_output(cli("perf", "show", str(performance.id), "--json"))
    return {key: summary[key] for key in ("confirmed_seats", "available_seats")}


def test_cancel_a_confirmed_booking_frees_its_seats_and_mails(
    cli: Cli, bookings: Bookings, engine: Engine
):
    assert seats_of(cli, bookings.performance) == {"confirmed_seats": 4, "available_seats": 16}
    mails = count(engine, OutboxMessage, kind="cancelled")
    result = succeeded(cli("res", "cancel", bookings.confirmed))
    assert result.stdout == f"Cancelled {bookings.confirmed}: 3 seats are free again.\n"
    assert seats_of(cli, bookings.performance) == {"confirmed_seats": 1, "available_seats": 19}
    assert count(engine, OutboxMessage, kind="cancelled") == mails + 1
    assert json_output(cli("res", "show", bookings.confirmed, "--json"))["status"] == "cancelled"


def test_cancelling_one_seat_says_seat(cli: Cli, make_performance, confirmed):
    ticket = confirmed(make_performance(capacity=10), 1)
    reference = ticket.reservation.reference
    result = succeeded(cli("res", "cancel", reference))
    assert result.stdout == f"Cancelled {reference}: 1 seat is free again.\n"


def test_cancel_a_pending_booking(cli: Cli, bookings: Bookings):
    succeeded(cli("res", "cancel", bookings.pending.lower()))
    assert json_output(cli("res", "show", bookings.pending, "--json"))["status"] == "cancelled"
    assert seats_of(cli, bookings.performance)["confirmed_seats"] == 4


def test_cancel_a_pending_booking_does_not_talk_of_freed_seats(cli: Cli, bookings: Bookings):
    result = succeeded(cli("res", "cancel", bookings.pending))
    assert "if confirmed" not in result.stdout
    assert "freed" not in result.stdout


def test_cancel_refusals_change_nothing(cli: Cli, bookings: Bookings, engine: Engine):
    with unchanged(engine):
        assert_error(
            cli("res", "cancel", bookings.cancelled), f"{bookings.cancelled} is already cancelled"
        )
        assert_error(
            cli("res", "cancel", bookings.checked_in),
            f"{bookings.checked_in} has already checked in",
        )
        assert_error(cli("res", "cancel", "AZ-NOSUCH"), "no reservation with reference 'AZ-NOSUCH'")


def newest_mail(engine: Engine, kind: str) -> OutboxMessage:
    with db.new_session(engine) as session:
        return session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind)
            .order_by(col(OutboxMessage.id).desc())
        ).first()


def test_resend_a_pending_booking_replaces_its_confirmation_link(
    cli: Cli, bookings: Bookings, engine: Engine, session: Session
):
    before = newest_mail(engine, "confirmation")
    result = succeeded(cli("res", "resend", bookings.pending))
    assert result.stdout == (
        f"Queued a new confirmation link for {bookings.pending} to giulia@example.org.\n"
    )
    after = newest_mail(engine, "confirmation")
    assert after.id != before.id
    assert after.to_address == "giulia@example.org"
    booking.confirm_booking(session, token=after.context["confirm_token"])
    assert json_output(cli("res", "show", bookings.pending, "--json"))["status"] == "confirmed"


def test_resend_a_ticket_voids_the_old_one(cli: Cli, bookings: Bookings, engine: Engine):
    result = succeeded(cli("res", "resend", bookings.confirmed))
    assert result.stdout == f"Queued a new ticket for {bookings.confirmed} to marco@example.org.\n"
    perf = str(bookings.performance.id)
    old = cli("checkin", "scan", bookings.ticket, "--perf", perf)
    assert (old.exit_code, old.stdout) == (1, "unknown_token: UNKNOWN TICKET: no such ticket\n")
    new_token = newest_mail(engine, "ticket").context["ticket_token"]
    admitted = succeeded(cli("checkin", "scan", new_token, "--perf", perf))
    assert admitted.stdout == f"ok: ADMIT 3: {bookings.confirmed}\n"


def test_resend_refusals_change_nothing(
    cli: Cli, bookings: Bookings, engine: Engine, make_performance, confirmed_earlier
):
    started = confirmed_earlier(make_performance(starts_in=timedelta(hours=-1)), 2)
    late = started.reservation.reference
    with unchanged(engine):
        assert_error(
            cli("res", "resend", bookings.cancelled),
            f"{bookings.cancelled} is cancelled: nothing to resend",
        )
        assert_error(
            cli("res", "resend", late), f"{late}: the performance has started or is cancelled"
        )
        assert_error(cli("res", "resend", "AZ-NOSUCH"), "no reservation with reference 'AZ-NOSUCH'")
        assert_error(cli("res", "show", "AZ-NOSUCH"), "no reservation with reference 'AZ-NOSUCH'")


def test_expire_marks_lapsed_pending_bookings(cli: Cli, bookings: Bookings, book):
    lapsed = book(bookings.performance, 1, now=times.now_utc() - timedelta(days=2))
    reference = lapsed.reservation.reference
    assert succeeded(cli("res", "expire")).stdout == "Expired 1 pending reservation.\n"
    assert json_output(cli("res", "show", reference, "--json"))["status"] == "expired"
    assert json_output(cli("res", "show", bookings.pending, "--json"))["status"] == "pending"
    assert succeeded(cli("res", "expire")).stdout == "Expired 0 pending reservations.\n"


def test_csv_header_does_not_depend_on_there_being_rows(cli: Cli, database_url: str):
    result = succeeded(cli("res", "list", "--csv"))
    assert result.stdout == ",".join(RES_FIELDS) + "\n"


def test_list_for_an_unknown_performance_is_refused(cli: Cli, bookings: Bookings):
    assert_error(cli("res", "list", "--perf", "999"), "no performance with id 999")
