"""The sender of the outbox (`azctl mail send`, `--watch`, `azctl serve --with-mailer`): a mail
server that is down delays mail and loses none, several senders at once send each message once,
and the loop goes on through whatever goes wrong in a round."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from azctl import db
from azctl.models import Reservation
from azctl.services import booking, mail, outbox, sender, times
from azctl.services.outbox import SendReport
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.services.helpers import messages, sender_loops
from tests.smtp_peer import SMTPPeer


@pytest.fixture
def smtp_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[[SMTPPeer], None]:
    """Points AZCTL_SMTP_URL at a peer, as an operator would."""

    def use(peer: SMTPPeer) -> None:
        monkeypatch.setenv("AZCTL_SMTP_URL", peer.url)
        reload_settings()

    return use


def queue_notes(session: Session, count: int) -> list[str]:
    """`count` queued messages, each to an address of its own; returns the addresses."""
    addresses = [f"reader{number}@example.org" for number in range(count)]
    with db.write(session):
        for number, address in enumerate(addresses):
            outbox.queue_message(
                session, kind="test", to_address=address, subject=f"note {number}", context={}
            )
    return addresses


def assert_each_once(received: list, addresses: list[str]) -> None:
    assert len({str(message["Message-ID"]) for message in received}) == len(received)
    by_address = Counter(str(message["To"]) for message in received)
    assert sorted(by_address) == sorted(addresses)
    assert set(by_address.values()) == {1}


def test_bookings_go_on_while_the_mail_server_is_down_and_their_mail_follows(
    session, engine, make_performance, book, smtp_peer, smtp_settings
):
    peer = smtp_peer(start=False)  # its port is free: nothing answers there yet
    smtp_settings(peer)
    performance = make_performance(capacity=40)
    first = [book(performance, 2) for _ in range(3)]
    start = times.now_utc()
    down = sender.send_once(now=start)
    assert (down.sent, down.retrying, down.failed) == (0, 3, 0)
    second = [book(performance, 1) for _ in range(2)]
    confirmed = booking.confirm_booking(session, token=first[0].confirm_token)
    still_down = sender.send_once(now=start + timedelta(seconds=10))
    assert (still_down.sent, still_down.retrying) == (0, 3)  # the first three wait their backoff

    assert count_rows(engine, Reservation) == 5
    queued = messages(engine)
    assert len(queued) == 6
    for message in queued:
        assert (message.status, message.attempts) == ("queued", 1)
        assert message.last_error.startswith("ConnectionRefusedError: ")
        assert message.next_attempt_at > start
        assert message.claimed_until is None
    assert peer.messages == []

    peer.start()
    back = sender.send_once(now=start + timedelta(seconds=45))
    assert (back.sent, back.retrying, back.failed) == (6, 0, 0)
    received = peer.wait_for(6)
    addresses = [submitted.reservation.email for submitted in first + second]
    assert sorted(str(m["To"]) for m in received) == sorted([*addresses, addresses[0]])
    assert len({str(m["Message-ID"]) for m in received}) == 6
    [ticket] = [m for m in received if str(m["Subject"]).startswith("Your ticket")]
    assert confirmed.ticket_token in ticket.get_body(("plain",)).get_content()
    assert all(message.status == "sent" for message in messages(engine))
    assert sender.send_once(now=start + timedelta(hours=1)).sent == 0
    assert len(peer.messages) == 6


def test_senders_at_once_send_each_message_once(session, engine, smtp_peer):
    peer = smtp_peer()
    addresses = queue_notes(session, 40)
    transport = mail.SMTPTransport(peer.url, timeout=10)
    barrier = threading.Barrier(4)
    problems: list[BaseException] = []

    def send() -> None:
        try:
            with db.new_session(engine) as own:
                own.connection()  # a connection of its own before the race starts
                barrier.wait(timeout=30)
                while outbox.send_due(own, transport=transport, render=mail.render, limit=2).sent:
                    pass
        except BaseException as exc:  # reported below, in the test's own thread
            problems.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not problems
    assert_each_once(peer.wait_for(40), addresses)
    assert outbox.outbox_counts(session) == {"queued": 0, "sending": 0, "sent": 40, "failed": 0}


def test_sender_loops_at_once_send_each_message_once(
    session, engine, smtp_peer, smtp_settings, monkeypatch
):
    peer = smtp_peer()
    smtp_settings(peer)
    monkeypatch.setattr(sender, "BATCH", 3)
    with sender_loops(3) as reports:
        addresses = queue_notes(session, 30)
        received = peer.wait_for(30)
    assert_each_once(received, addresses)
    assert len(peer.messages) == 30
    assert sum(report.sent for report in reports) == 30
    assert not any(report.error or report.retrying for report in reports)


# --- the loop --------------------------------------------------------------------------------


def test_send_once_empties_the_queue_batch_after_batch(session, engine, smtp_peer, monkeypatch):
    peer = smtp_peer()
    monkeypatch.setattr(sender, "BATCH", 4)
    addresses = queue_notes(session, 10)
    report = sender.send_once(transport=mail.SMTPTransport(peer.url, timeout=5))
    assert report == SendReport(sent=10)
    assert_each_once(peer.wait_for(10), addresses)


def test_the_default_transport_writes_eml_files(session, engine, isolated_settings):
    queue_notes(session, 2)
    assert sender.send_once() == SendReport(sent=2)
    assert len(list((isolated_settings / "mail").glob("*.eml"))) == 2


def test_the_loop_survives_a_failing_round_and_a_failing_report(
    session, engine, smtp_peer, smtp_settings, monkeypatch
):
    peer = smtp_peer()
    smtp_settings(peer)
    rounds = iter([RuntimeError("the database went away\nsecond line"), None])
    configured = mail.transport_from_settings

    def flaky_transport() -> outbox.Transport:
        problem = next(rounds, None)
        if problem is not None:
            raise problem
        return configured()

    monkeypatch.setattr(mail, "transport_from_settings", flaky_transport)
    reports: list[SendReport] = []

    def on_report(report: SendReport) -> None:
        reports.append(report)
        if len(reports) == 1:
            raise OSError("stdout is closed")

    queue_notes(session, 1)
    stop = threading.Event()
    loop = threading.Thread(
        target=sender.run_sender, kwargs={"stop": stop, "interval": 0.05, "on_report": on_report}
    )
    loop.start()
    try:
        peer.wait_for(1)
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive()
    assert reports[0] == SendReport(error="RuntimeError: the database went away")
    assert reports[1] == SendReport(sent=1)
    assert outbox.outbox_counts(session)["sent"] == 1


def test_without_on_report_the_loop_logs_its_rounds(
    session, engine, smtp_peer, smtp_settings, monkeypatch, caplog
):
    smtp_settings(smtp_peer(start=False))
    queue_notes(session, 1)
    stop = threading.Event()
    send_once = sender.send_once
    calls: list[dict] = []

    def two_rounds(**options: object) -> SendReport:
        calls.append(options)
        if len(calls) == 1:
            raise RuntimeError("no database")
        report = send_once(**options)
        stop.set()
        return report

    monkeypatch.setattr(sender, "send_once", two_rounds)
    caplog.set_level(logging.INFO, logger="azctl.services.sender")
    sender.run_sender(stop=stop, interval=0)
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.WARNING, "mail sender: round failed, trying again: RuntimeError: no database"),
        (logging.INFO, "mail sender: sent 0, will retry 1, gave up on 0"),
    ]
    assert outbox.outbox_counts(session)["queued"] == 1


def test_a_stopped_loop_does_not_start(session, engine, isolated_settings):
    queue_notes(session, 1)
    stop = threading.Event()
    stop.set()
    sender.run_sender(stop=stop, interval=0)
    assert outbox.outbox_counts(session)["queued"] == 1
