"""The mail server gone for a minute and a bit: nothing lost, nothing sent twice.

tests/services/test_mail_sender.py shows mail queued while a never-started server is down going
out once it starts. Here a real SMTP server that was working goes away in the middle of the day
(it stops listening, or it stays up and answers every message with a temporary refusal), bookings
and a confirmation go on queueing mail before and during the outage, and the sender runs every
five seconds of simulated time (an injected `now`, no real waiting) for 75 s. Round by round, each
message is tried exactly when its backoff says and never given up on; when the server is back, on
the same port, every message arrives exactly once, soon, and the outbox says so.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from azctl.services import booking, sender, times
from azctl.settings import reload_settings
from tests.services.helpers import messages

STEP = timedelta(seconds=5)
OUTAGE = timedelta(seconds=75)
# The wait after a message's first, second, third … failed try: doubling from 30 s.
BACKOFF = [timedelta(seconds=seconds) for seconds in (30, 60, 120, 240)]
OUTAGES = {
    "stopped": ("ConnectionRefusedError: ", None),
    "refusing": ("SMTPDataError: (451", "451 4.3.0 Try again later"),
}


def outbox_id(received) -> int:
    """The outbox message a received mail was rendered from, by its stable Message-ID."""
    found = re.fullmatch(r"<azctl\.(\d+)\..*>", str(received["Message-ID"]))
    assert found is not None, received["Message-ID"]
    return int(found[1])


class Schedule:
    """When each message should next be tried, kept independently of the outbox's own code."""

    def __init__(self) -> None:
        self.due: dict[int, datetime] = {}
        self.tries: Counter[int] = Counter()

    def learn(self, engine: Engine) -> None:
        """Messages queued since the last look are due from the moment they were queued."""
        for message in messages(engine):
            if message.status == "queued" and message.id not in self.due:
                self.due[message.id] = message.next_attempt_at

    def due_at(self, moment: datetime) -> set[int]:
        return {ident for ident, when in self.due.items() if when <= moment}

    def failed(self, ident: int, moment: datetime) -> None:
        self.tries[ident] += 1
        self.due[ident] = moment + BACKOFF[self.tries[ident] - 1]

    def sent(self, ident: int) -> None:
        self.tries[ident] += 1
        del self.due[ident]


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_a_minute_without_the_mail_server_delays_mail_and_loses_none(
    outage, session, engine, make_performance, book, smtp_peer, monkeypatch
):
    """Mail servers go away for maintenance or a restart; docs/architecture.md ("The outbox")
    promises that this delays mail and loses none, so the defaults (backoff, MAX_ATTEMPTS) must
    ride out such a minute without giving up on a message, and must not send any message twice
    once it is over."""
    error_prefix, refusal = OUTAGES[outage]
    peer = smtp_peer()
    monkeypatch.setenv("AZCTL_SMTP_URL", peer.url)
    reload_settings()
    performance = make_performance(capacity=40)
    first = book(performance, 2)
    start = times.now_utc()
    assert sender.send_once(now=start).sent == 1  # the server works
    [before_outage] = peer.wait_for(1)

    if refusal is None:
        peer.stop()
    else:
        peer.refuse = refusal
    waiting = [book(performance, 2) for _ in range(3)]
    booking.confirm_booking(session, token=first.confirm_token)  # its ticket mail waits too
    schedule = Schedule()
    schedule.learn(engine)
    assert len(schedule.due) == 4

    clock = start
    while clock < start + OUTAGE:
        clock += STEP
        if clock == start + timedelta(seconds=30):
            waiting += [book(performance, 1) for _ in range(2)]  # booked during the outage
            schedule.learn(engine)
        tried = schedule.due_at(clock)
        report = sender.send_once(now=clock)
        assert (report.sent, report.retrying, report.failed) == (0, len(tried), 0), clock - start
        for ident in tried:
            schedule.failed(ident, clock)
        for message in messages(engine):
            if message.id in schedule.due:
                assert (message.status, message.attempts) == ("queued", schedule.tries[message.id])
                assert message.next_attempt_at == schedule.due[message.id]
                assert message.claimed_until is None
                assert message.sent_at is None
                if message.attempts:
                    assert message.last_error.startswith(error_prefix), message.last_error
    assert len(schedule.due) == 6
    # Two tries each for the mail queued before the outage (at 5 s and 35 s), two for the mail
    # queued during it (at 35 s and 65 s): doubling waits, and no message given up on.
    assert set(schedule.tries.values()) == {2}
    assert peer.messages == [before_outage]

    if refusal is None:
        peer.start()  # back on the same port
    else:
        peer.refuse = None
    back = clock
    while schedule.due:
        clock += STEP
        assert clock - back <= BACKOFF[2], f"still waiting {clock - back} after the server is back"
        tried = schedule.due_at(clock)
        report = sender.send_once(now=clock)
        assert (report.sent, report.retrying, report.failed) == (len(tried), 0, 0), clock - start
        for ident in tried:
            schedule.sent(ident)

    stored = {message.id: message for message in messages(engine)}
    received = peer.wait_for(len(stored))
    assert sorted(outbox_id(mail) for mail in received) == sorted(stored)  # each exactly once
    for mail in received:
        message = stored[outbox_id(mail)]
        assert (str(mail["To"]), str(mail["Subject"])) == (message.to_address, message.subject)
    assert {message.status for message in stored.values()} == {"sent"}
    assert stored[outbox_id(before_outage)].attempts == 1
    assert {stored[ident].attempts for ident in schedule.tries} == {3}
    assert {submitted.reservation.email for submitted in waiting} <= {
        str(mail["To"]) for mail in received
    }
    later = sender.send_once(now=clock + timedelta(hours=1))
    assert (later.sent, later.retrying, later.failed) == (0, 0, 0)
    assert len(peer.messages) == len(stored)
