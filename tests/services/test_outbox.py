"""The outbox: mail queued in the use case's transaction, delivered later, retried, never lost."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from azctl import db, errors
from azctl.models import OutboxMessage
from azctl.services import booking, capacity, mail, outbox, tickets, times
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.services.helpers import fresh, messages


class Recording:
    """A transport that keeps what it was given."""

    def __init__(self) -> None:
        self.delivered: list[EmailMessage] = []

    def deliver(self, message: EmailMessage) -> None:
        self.delivered.append(message)


class Failing:
    def __init__(self, only_to: str | None = None) -> None:
        self.only_to = only_to
        self.calls = 0
        self.delivered: list[EmailMessage] = []

    def deliver(self, message: EmailMessage) -> None:
        self.calls += 1
        if self.only_to is None or message["To"] == self.only_to:
            raise ConnectionRefusedError("mail server is down")
        self.delivered.append(message)


def outbox_id(message: EmailMessage) -> int:
    match = re.search(r"<azctl\.(\d+)\.\d+@", str(message["Message-ID"]))
    assert match, message["Message-ID"]
    return int(match[1])


def queue_plain(session, count: int) -> list[int]:
    with db.write(session):
        made = [
            outbox.queue_message(
                session,
                kind="test",
                to_address=f"reader{number}@example.org",
                subject=f"note {number}",
                context={},
            )
            for number in range(count)
        ]
        session.flush()
        return [message.id for message in made]


def read_eml(path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


# --- queued with the change ------------------------------------------------------------------


def test_mail_is_queued_in_the_use_cases_transaction_and_rolls_back_with_it(session, engine):
    with pytest.raises(RuntimeError), db.write(session):
        outbox.queue_message(
            session, kind="test", to_address="a@example.org", subject="never", context={}
        )
        session.flush()
        raise RuntimeError("the use case failed after queuing its mail")
    assert count_rows(engine, OutboxMessage) == 0


def test_refused_bookings_and_confirmations_queue_no_mail(session, engine, make_performance, book):
    performance = make_performance(capacity=3)
    for attempt in (
        lambda: book(performance, 4),
        lambda: book(performance, 2, email="not-an-email"),
        lambda: book(performance, 0),
    ):
        with pytest.raises(errors.AzctlError):
            attempt()
    assert count_rows(engine, OutboxMessage) == 0

    fits = book(performance, 3)
    too_many = book(performance, 2)
    booking.confirm_booking(session, token=fits.confirm_token)
    assert count_rows(engine, OutboxMessage) == 3
    with pytest.raises(errors.SoldOut):
        booking.confirm_booking(session, token=too_many.confirm_token)
    assert count_rows(engine, OutboxMessage) == 3
    assert [m.kind for m in messages(engine)] == ["confirmation", "confirmation", "ticket"]


def test_a_refused_capacity_change_or_cancellation_queues_no_mail(
    session, engine, make_performance, confirmed
):
    performance = make_performance(capacity=4)
    held = confirmed(performance, 4)
    before = count_rows(engine, OutboxMessage)
    with pytest.raises(errors.CapacityConflict):
        capacity.change_capacity(session, performance_id=performance.id, room_capacity=2)
    with pytest.raises(errors.InvalidState):
        booking.resend(session, reference=held.reservation.reference, now=performance.starts_at)
    assert count_rows(engine, OutboxMessage) == before


# --- sending ---------------------------------------------------------------------------------


def test_send_due_writes_eml_files_and_scrubs_the_tokens(
    session, engine, make_performance, book, tmp_path
):
    performance = make_performance(capacity=10)
    submitted = book(performance, 2, name="Mirandolina", email="mira@example.org")
    result = booking.confirm_booking(session, token=submitted.confirm_token)
    now = times.now_utc()
    directory = tmp_path / "outgoing"

    report = outbox.send_due(
        session, transport=mail.FileTransport(directory), render=mail.render, now=now
    )
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)

    files = sorted(directory.glob("*.eml"))
    assert len(files) == 2
    assert not list(directory.glob(".*"))  # no half-written drafts left behind
    by_subject = {str(read_eml(path)["Subject"]): read_eml(path) for path in files}
    [confirmation] = [m for s, m in by_subject.items() if s.startswith("Please confirm")]
    [ticket] = [m for s, m in by_subject.items() if s.startswith("Your ticket")]
    assert confirmation["To"] == "mira@example.org"
    assert confirmation["From"] == "Box office <boxoffice@localhost>"
    text = confirmation.get_body(("plain",)).get_content()
    assert tickets.confirm_url(submitted.confirm_token) in text
    assert tickets.cancel_url(submitted.cancel_token) in text
    assert submitted.reservation.reference in text
    ticket_text = ticket.get_body(("plain",)).get_content()
    assert tickets.ticket_url(result.ticket_token) in ticket_text
    parts = {part.get_content_type(): part for part in ticket.walk()}
    assert parts["image/png"].get_content() == tickets.qr_png(result.ticket_token)
    assert "BEGIN:VEVENT" in parts["text/calendar"].get_content()

    for message in messages(engine):
        assert message.status == "sent"
        assert message.sent_at == now
        assert (message.attempts, message.claimed_until, message.last_error) == (1, None, None)
        for key in outbox.SECRET_KEYS:
            assert message.context.get(key) is None
        assert message.context["reference"] == submitted.reservation.reference
    assert outbox.outbox_counts(session) == {"queued": 0, "sending": 0, "sent": 2, "failed": 0}

    again = outbox.send_due(
        session, transport=mail.FileTransport(directory), render=mail.render, now=now
    )
    assert again.sent == 0
    assert len(list(directory.glob("*.eml"))) == 2


def test_the_default_transport_writes_files_into_the_data_dir(isolated_settings):
    transport = mail.transport_from_settings()
    assert isinstance(transport, mail.FileTransport)
    assert transport.directory == isolated_settings / "mail"


def test_smtp_url_is_parsed_and_a_bad_one_refused(monkeypatch):
    monkeypatch.setenv("AZCTL_SMTP_URL", "smtps://box%40office:s%3Acret@mail.example.org")
    reload_settings()
    transport = mail.transport_from_settings()
    assert isinstance(transport, mail.SMTPTransport)
    assert (transport.host, transport.port, transport.implicit_tls) == (
        "mail.example.org",
        465,
        True,
    )
    assert (transport.username, transport.password) == ("box@office", "s:cret")
    monkeypatch.setenv("AZCTL_SMTP_URL", "http://mail.example.org")
    with pytest.raises(ValidationError, match=r"AZCTL_SMTP_URL|smtp_url"):
        reload_settings()


def test_a_failing_transport_retries_with_backoff_and_loses_nothing(
    session, engine, make_performance, book, tmp_path
):
    performance = make_performance(capacity=10)
    submitted = book(performance, 2)
    start = times.now_utc()
    down = Failing()

    report = outbox.send_due(session, transport=down, render=mail.render, now=start)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    [message] = messages(engine)
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.next_attempt_at == start + timedelta(seconds=30)
    assert message.last_error == "ConnectionRefusedError: mail server is down"
    assert message.claimed_until is None
    assert message.context["confirm_token"] == submitted.confirm_token

    # Not due yet: nothing is tried.
    early = outbox.send_due(
        session, transport=down, render=mail.render, now=start + timedelta(seconds=29)
    )
    assert (early.sent, early.retrying, down.calls) == (0, 0, 1)

    second = start + timedelta(seconds=30)
    outbox.send_due(session, transport=down, render=mail.render, now=second)
    message = fresh(engine, OutboxMessage, message.id)
    assert message.attempts == 2
    assert message.next_attempt_at == second + timedelta(minutes=1)

    directory = tmp_path / "mail"
    back = outbox.send_due(
        session,
        transport=mail.FileTransport(directory),
        render=mail.render,
        now=second + timedelta(minutes=1),
    )
    assert back.sent == 1
    [path] = directory.glob("*.eml")
    assert submitted.confirm_token in read_eml(path).get_body(("plain",)).get_content()
    message = fresh(engine, OutboxMessage, message.id)
    assert (message.status, message.attempts) == ("sent", 3)
    assert message.context["confirm_token"] is None


def test_an_unreachable_smtp_server_delays_mail(session, engine, make_performance, book):
    book(make_performance(capacity=10), 2)
    transport = mail.SMTPTransport("smtp://127.0.0.1:1", timeout=2)
    report = outbox.send_due(session, transport=transport, render=mail.render)
    assert (report.sent, report.retrying) == (0, 1)
    [message] = messages(engine)
    assert message.status == "queued"
    assert message.last_error
    assert message.context["confirm_token"]


def test_backoff_doubles_up_to_an_hour():
    assert [outbox.backoff(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_a_message_fails_for_good_after_the_last_attempt(session, engine):
    [message_id] = queue_plain(session, 1)
    down = Failing()
    moment = times.now_utc()
    reports = []
    for _ in range(outbox.MAX_ATTEMPTS):
        reports.append(outbox.send_due(session, transport=down, render=mail.render, now=moment))
        moment += timedelta(hours=2)
    assert [r.retrying for r in reports] == [1] * (outbox.MAX_ATTEMPTS - 1) + [0]
    assert reports[-1].failed == 1
    stored = fresh(engine, OutboxMessage, message_id)
    assert (stored.status, stored.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    later = outbox.send_due(
        session, transport=down, render=mail.render, now=moment + timedelta(days=9)
    )
    assert (later.sent, later.retrying, later.failed, down.calls) == (0, 0, 0, outbox.MAX_ATTEMPTS)


def test_one_failing_recipient_does_not_hold_up_the_others(session, engine):
    ids = queue_plain(session, 4)
    transport = Failing(only_to="reader2@example.org")
    report = outbox.send_due(session, transport=transport, render=mail.render)
    assert (report.sent, report.retrying) == (3, 1)
    statuses = {m.id: m.status for m in messages(engine)}
    assert statuses == {ids[0]: "sent", ids[1]: "sent", ids[2]: "queued", ids[3]: "sent"}


def test_a_sender_that_died_leaves_a_lease_that_runs_out(session, engine):
    [message_id] = queue_plain(session, 1)
    now = times.now_utc()
    [claimed] = outbox.claim_due(session, now=now, limit=10)
    assert claimed.id == message_id
    assert fresh(engine, OutboxMessage, message_id).status == "sending"
    assert outbox.claim_due(session, now=now, limit=10) == []

    recording = Recording()
    soon = outbox.send_due(
        session, transport=recording, render=mail.render, now=now + timedelta(minutes=4)
    )
    assert soon.sent == 0
    after_lease = outbox.send_due(
        session,
        transport=recording,
        render=mail.render,
        now=now + outbox.claim_lease() + timedelta(seconds=1),
    )
    assert after_lease.sent == 1
    assert [outbox_id(m) for m in recording.delivered] == [message_id]


def test_every_try_of_a_message_carries_the_same_message_id(session, engine):
    """A retry after a lost lease may deliver twice; one Message-ID lets mailboxes drop it."""
    [message_id] = queue_plain(session, 1)
    [other_id] = queue_plain(session, 1)
    message = outbox.get_message(session, message_id=message_id)
    first, retry = mail.render(message), mail.render(message)
    assert first["Message-ID"] == retry["Message-ID"]
    other = mail.render(outbox.get_message(session, message_id=other_id))
    assert other["Message-ID"] != first["Message-ID"]


def test_send_due_respects_its_limit(session, engine):
    queue_plain(session, 5)
    recording = Recording()
    assert outbox.send_due(session, transport=recording, render=mail.render, limit=2).sent == 2
    assert outbox.outbox_counts(session) == {"queued": 3, "sending": 0, "sent": 2, "failed": 0}


def test_outbox_status_check_constraint_holds_against_direct_writes(session, engine):
    [message_id] = queue_plain(session, 1)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE outbox_message SET status = 'lost' WHERE id = :id"), {"id": message_id}
        )
    assert fresh(engine, OutboxMessage, message_id).status == "queued"


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [("cancelled", "has been cancelled"), ("performance_cancelled", "performance has been")],
)
def test_cancellation_mails_render_without_links(
    session, engine, make_performance, confirmed, kind, phrase
):
    performance = make_performance(capacity=10)
    held = confirmed(performance, 2)
    if kind == "cancelled":
        booking.cancel_reservation(session, reference=held.reservation.reference)
    else:
        booking.cancel_performance(session, performance_id=performance.id)
    [message] = messages(engine, kind=kind)
    email = mail.render(message)
    for subtype in ("plain", "html"):
        body = email.get_body((subtype,)).get_content()
        assert phrase in body
        assert held.reservation.reference in body
        assert "/t/" not in body and "/confirm/" not in body and "/cancel/" not in body
