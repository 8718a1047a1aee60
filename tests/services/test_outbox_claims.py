"""Outbox claims (issue 10): each message is claimed on its own, under a random claim id and a
lease; only the claim's holder records the outcome, so a sender that lost its lease, or a late
failure after the message went out, changes nothing; a sender stopping at once hands back what
it has not delivered; and on PostgreSQL a row another sender is claiming is skipped, not waited
for."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db
from azctl.models import OutboxMessage
from azctl.services import mail, outbox, times
from azctl.services.outbox import HeldClaims, Outcome, SendReport
from azctl.settings import reload_settings
from tests.helpers import unchanged
from tests.services.helpers import fresh, sender_loops


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no row locks to skip")


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Sets AZCTL_* variables, as an operator would, and reads the settings again."""

    def set_(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(f"AZCTL_{name.upper()}", value)
        reload_settings()

    return set_


def queue_notes(session: Session, count: int, **context: str) -> list[int]:
    with db.write(session):
        made = [
            outbox.queue_message(
                session,
                kind="test",
                to_address=f"reader{number}@example.org",
                subject=f"note {number}",
                context=dict(context),
            )
            for number in range(count)
        ]
        session.flush()
        return [message.id for message in made]


def outbox_id(message: EmailMessage) -> int:
    found = re.fullmatch(r"<azctl\.(\d+)\..*>", str(message["Message-ID"]))
    assert found is not None, message["Message-ID"]
    return int(found[1])


def counts(engine: Engine) -> dict[str, int]:
    """The outbox by status, read in a session of its own (a fresh snapshot on SQLite too)."""
    with db.new_session(engine) as session:
        return outbox.outbox_counts(session)


def wait_until(condition: Callable[[], bool], *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true after {timeout:g} s"
        time.sleep(0.05)


class Recording:
    def __init__(self, then: Callable[[], None] = lambda: None) -> None:
        self.delivered: list[EmailMessage] = []
        self.then = then

    def deliver(self, message: EmailMessage) -> None:
        self.delivered.append(message)
        self.then()


# --- several senders, one slow server --------------------------------------------------------


def test_two_senders_and_a_slow_server_deliver_each_message_once(
    session, engine, smtp_peer, configure
):
    """Each message takes 0.4 s at the server, so a sender's round of two dozen outlasts a
    four-second lease: a lease over the whole round ran out while its sender was still at work,
    and the other sender delivered the rest again. One claim per message cannot, and each
    delivery (0.4 s, cut off at 2 s) ends well inside its own claim."""
    peer = smtp_peer(delay=0.4)
    configure(smtp_url=peer.url, mail_lease="4s")
    ids = queue_notes(session, 24)
    with sender_loops(2) as reports:
        wait_until(lambda: counts(engine)["sent"] == len(ids))
    assert Counter(outbox_id(message) for message in peer.messages) == Counter(ids)
    assert counts(engine) == {"queued": 0, "sending": 0, "sent": 24, "failed": 0}
    assert sum(report.sent for report in reports) == 24
    assert not any(report.error or report.retrying or report.lost for report in reports)


# --- only the holder records the outcome -----------------------------------------------------


def test_a_stale_outcome_changes_nothing(session, engine):
    """A sender whose lease ran out, or whose claim is not the row's, records nothing; once the
    message is sent, a late failure no longer puts it back in the queue with its tokens gone."""
    [message_id] = queue_notes(session, 1, confirm_token="RAWTOKEN")
    start = times.now_utc()
    [claimed] = outbox.claim_due(session, now=start)
    first_claim = claimed.claim_id
    later = start + outbox.claim_lease() + timedelta(seconds=1)
    [claimed] = outbox.claim_due(session, now=later)  # the first sender's lease ran out
    second_claim = claimed.claim_id
    assert first_claim and second_claim and first_claim != second_claim
    assert fresh(engine, OutboxMessage, message_id).claim_id == second_claim

    mine = {"message_id": message_id, "now": later}
    with unchanged(engine):
        for stale in (first_claim, "0" * 32):
            assert outbox.mark_failed(session, **mine, claim_id=stale, error="late") is Outcome.LOST
            assert outbox.mark_sent(session, **mine, claim_id=stale) is Outcome.LOST

    assert outbox.mark_sent(session, **mine, claim_id=second_claim) is Outcome.SENT
    sent = fresh(engine, OutboxMessage, message_id)
    assert (sent.status, sent.attempts, sent.claim_id, sent.claimed_until) == (
        "sent",
        1,
        None,
        None,
    )
    assert sent.context == {"confirm_token": None}
    with unchanged(engine):
        for claim in (second_claim, first_claim):
            assert outbox.mark_failed(session, **mine, claim_id=claim, error="late") is Outcome.LOST
            assert outbox.mark_sent(session, **mine, claim_id=claim) is Outcome.LOST
    assert outbox.claim_due(session, now=later + timedelta(days=1)) == []


def test_a_late_sender_counts_its_outcome_as_lost(session, engine):
    """The report says when a delivery's outcome was not recorded because the claim had gone."""
    [message_id] = queue_notes(session, 1)
    start = times.now_utc()

    def taken_over() -> None:  # another sender claims the message while this one delivers it
        with db.new_session(engine) as other:
            outbox.claim_due(other, now=start + outbox.claim_lease() + timedelta(seconds=1))

    report = outbox.send_due(
        session, transport=Recording(taken_over), render=mail.render, now=start
    )
    assert report == SendReport(lost=1)
    stored = fresh(engine, OutboxMessage, message_id)
    assert (stored.status, stored.attempts) == ("sending", 0)


def test_each_message_has_a_claim_of_its_own(session, engine):
    ids = queue_notes(session, 3)
    claimed = outbox.claim_due(session, now=times.now_utc(), limit=3)
    assert [message.id for message in claimed] == ids
    assert len({message.claim_id for message in claimed}) == 3


def test_a_message_whose_sender_died_is_claimed_again_after_the_lease(session, engine):
    [message_id] = queue_notes(session, 1)
    start = times.now_utc()
    assert len(outbox.claim_due(session, now=start, lease=timedelta(seconds=30))) == 1
    assert outbox.claim_due(session, now=start + timedelta(seconds=30)) == []
    [again] = outbox.claim_due(session, now=start + timedelta(seconds=31))
    assert again.id == message_id


# --- PostgreSQL: SKIP LOCKED -----------------------------------------------------------------


def test_a_row_locked_by_another_connection_is_skipped_not_waited_for(
    postgres_only, session, engine
):
    """A sender in the middle of claiming a message holds its row; another sender takes the
    next message at once. Without SKIP LOCKED it would queue behind that lock (this test then
    fails at its deadline rather than hang)."""
    first, second = queue_notes(session, 2)
    claimed: list[int] = []

    def claim() -> None:
        with db.new_session(engine) as own:
            claimed.extend(m.id for m in outbox.claim_due(own, now=times.now_utc(), limit=2))

    with engine.connect() as holder:
        holder.execute(
            sa.text("SELECT id FROM outbox_message WHERE id = :id FOR UPDATE"), {"id": first}
        )
        claimer = threading.Thread(target=claim)
        claimer.start()
        claimer.join(timeout=10)
        waited = claimer.is_alive()
        holder.rollback()
    claimer.join(timeout=30)
    assert not waited, "claim_due waited for a row that another connection holds"
    assert claimed == [second]
    assert fresh(engine, OutboxMessage, first).status == "queued"


# --- stopping --------------------------------------------------------------------------------


def test_a_stop_ends_the_round_after_the_message_in_hand(session, engine):
    ids = queue_notes(session, 3)
    stop = threading.Event()
    report = outbox.send_due(session, transport=Recording(stop.set), render=mail.render, stop=stop)
    assert report == SendReport(sent=1)
    rest = [fresh(engine, OutboxMessage, ident) for ident in ids[1:]]
    assert [(m.status, m.claim_id, m.claimed_until) for m in rest] == [("queued", None, None)] * 2


def test_release_hands_back_only_what_is_still_ours(session, engine):
    """Stopping at once: the claim not yet delivered goes back to the queue, the one delivered
    but not yet recorded is recorded, and one another sender has taken over is left to it."""
    undelivered, delivered, taken_over, untouched = queue_notes(session, 4)
    start = times.now_utc()
    held = HeldClaims()
    claimed = held.take(lambda: outbox.claim_due(session, now=start, limit=3))
    assert [m.id for m in claimed] == [undelivered, delivered, taken_over]
    held.delivered(claimed[1])
    with db.write(session):  # another sender re-claimed it after this one's lease ran out
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == taken_over)
            .values(claim_id="f" * 32)
            .execution_options(synchronize_session=False)
        )

    assert outbox.release(session, held=held) == 1
    rows = {ident: fresh(engine, OutboxMessage, ident) for ident in (undelivered, delivered)}
    back = rows[undelivered]
    assert (back.status, back.claim_id, back.claimed_until, back.attempts) == (
        "queued",
        None,
        None,
        0,
    )
    assert back.next_attempt_at <= start
    assert (rows[delivered].status, rows[delivered].attempts) == ("sent", 1)
    other = fresh(engine, OutboxMessage, taken_over)
    assert (other.status, other.claim_id) == ("sending", "f" * 32)
    assert fresh(engine, OutboxMessage, untouched).status == "queued"
    # Closed: this sender claims nothing more, whatever its loop does next.
    assert held.take(lambda: outbox.claim_due(session, now=start)) == []
    report = outbox.send_due(session, transport=Recording(), render=mail.render, held=held)
    assert report == SendReport()


# --- the lease and the SMTP transport --------------------------------------------------------


def test_the_lease_is_a_setting(configure):
    assert outbox.claim_lease() == timedelta(minutes=5)
    configure(mail_lease="90s")
    assert outbox.claim_lease() == timedelta(seconds=90)
    with pytest.raises(ValidationError, match="mail_lease"):
        configure(mail_lease="0")


def slow_note(*recipients: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["Subject"] = "box@example.org", "slow"
    message["To"] = ", ".join(recipients or ("reader@example.org",))
    message.set_content("slow")
    return message


def test_the_configured_smtp_transport_gets_half_the_lease(smtp_peer, configure):
    peer = smtp_peer(delay=30)
    configure(smtp_url=peer.url, mail_lease="2s")
    transport = mail.transport_from_settings()
    assert isinstance(transport, mail.SMTPTransport)
    assert transport.timeout <= transport.deadline == 1.0
    with pytest.raises(TimeoutError, match=r"more than 1 s over one message"):
        transport.deliver(slow_note())
    assert peer.messages == []


def test_a_server_slow_at_every_step_cannot_stretch_a_delivery(smtp_peer):
    """smtplib's timeout bounds each wait, not a delivery made of many: two recipients and the
    data at a second each, none near the 3 s timeout, would be accepted after three seconds,
    past the claim; the deadline cuts the last wait short instead."""
    peer = smtp_peer(rcpt_delay=1.0, delay=1.0)
    transport = mail.SMTPTransport(peer.url, timeout=3, deadline=2.5)
    with pytest.raises(TimeoutError, match=r"more than 2.5 s over one message"):
        transport.deliver(slow_note("reader0@example.org", "reader1@example.org"))
