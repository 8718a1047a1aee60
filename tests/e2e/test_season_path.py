"""The waiting list's whole path over real sockets (issue 13): a sold-out performance, a visitor
joins its list on the page, a confirmed visitor cancels through the link in their mail, the
worker (`azctl worker --once`, a process of its own, as cron runs it) offers the freed seats and
mails the offer, the offer's link confirms, the ticket arrives by mail and the door scan admits.
gunicorn serves the app, an SMTP peer receives the mail; nothing is called in-process but the
seeding and the final look at the database.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from sqlmodel import Session, select

from azctl.models import Performance, Reservation, ReservationStatus, WaitlistEntry, WaitlistStatus
from azctl.services import booking, staff
from tests.e2e.conftest import LiveServer
from tests.smtp_peer import SMTPPeer

JSON = {"content-type": "application/json"}
CAPACITY = 4


def _worker_round(server: LiveServer) -> dict[str, int]:
    """`azctl worker --once` in the server's environment; returns what the round did, by kind."""
    done = subprocess.run(
        [sys.executable, "-m", "azctl", "worker", "--once"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    line = re.fullmatch(r"Worker round: (.*)\.\n", done.stdout)
    assert line, done.stdout
    return {name: int(count) for name, count in re.findall(r"(\w+) (\d+)", line[1])}


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _link(message: EmailMessage, public_url: str, prefix: str) -> str:
    """The one `/prefix/TOKEN` link of a mail's text, as a path on the server."""
    [link] = set(re.findall(rf"{re.escape(public_url)}/{prefix}/[0-9A-Z]+", _text(message)))
    return link.removeprefix(public_url)


def _to(messages: list[EmailMessage], address: str, subject_start: str) -> list[EmailMessage]:
    return [
        message
        for message in messages
        if message["To"] == address and str(message["Subject"]).startswith(subject_start)
    ]


def test_sold_out_join_cancel_offer_accept_ticket_and_scan(
    database_url: str,
    session: Session,
    make_performance: Callable[..., Performance],
    confirmed: Callable[..., booking.ConfirmedBooking],
    gunicorn_server: Callable[..., LiveServer],
    public_url: str,
) -> None:
    # Soon enough for the door to be open to the scan at the end.
    performance = make_performance(capacity=CAPACITY, starts_in=timedelta(hours=2))
    assert performance.id is not None
    ada = confirmed(performance, 2, name="Ada Lovelace", email="ada@example.org")
    confirmed(performance, 2, name="Bob Bellini", email="bob@example.org")
    _member, staff_token = staff.add_staff(session, username="anna", role="box_office")

    with SMTPPeer() as peer:
        server = gunicorn_server(extra_env={"AZCTL_SMTP_URL": peer.url, "AZCTL_RATE_LIMIT": "off"})

        # The booked visitors' mails go out: two confirmations, two tickets.
        assert _worker_round(server)["mail"] == 4
        peer.wait_for(4)
        [ada_ticket] = _to(peer.messages, "ada@example.org", "Your ticket")
        cancel_path = _link(ada_ticket, public_url, "cancel")

        # Sold out: the booking page sends a visitor to the waiting list, whose page takes them.
        waitlist_path = f"/waitlist/{performance.id}"
        form = server.get(waitlist_path)
        assert form.status == 200, form.text
        joined = server.post_form(
            waitlist_path,
            {
                "name": "Carla Fracci",
                "email": "carla@example.org",
                "party_size": "2",
                "consent": "yes",
            },
        )
        assert joined.status == 200, joined.text  # after the 303 to /waitlisted/{receipt}
        session.rollback()
        [entry] = session.exec(select(WaitlistEntry))
        assert (entry.status, entry.party_size) == (WaitlistStatus.WAITING, 2)
        assert entry.reference in joined.text

        # Ada cancels through her mail's link: the page asks, its button cancels.
        assert server.get(cancel_path).status == 200
        assert _status(session, ada.reservation.reference) == ReservationStatus.CONFIRMED
        cancelled = server.post_form(cancel_path)
        assert cancelled.status == 200, cancelled.text
        assert _status(session, ada.reservation.reference) == ReservationStatus.CANCELLED

        # A worker round: nothing lapses, the freed seats go to Carla. The round's mail kind
        # runs first, so it delivers the joined and cancelled mails; the offer it queues goes
        # out with the next round.
        first = _worker_round(server)
        assert (first["lapsed"], first["offers"], first["mail"]) == (0, 1, 2)
        received = peer.wait_for(6)
        assert len(_to(received, "carla@example.org", "On the waiting list")) == 1
        assert len(_to(received, "ada@example.org", "Booking")) == 1  # "… cancelled: …"
        assert _worker_round(server)["mail"] == 1
        [offer] = _to(peer.wait_for(7), "carla@example.org", "Seats for you")
        offer_path = _link(offer, public_url, "offer")

        # The offer's page shows it (following the link accepts nothing); its button accepts.
        shown = server.get(offer_path)
        assert shown.status == 200 and entry.reference in shown.text
        session.rollback()
        assert session.get(WaitlistEntry, entry.id).status == WaitlistStatus.OFFERED  # type: ignore[union-attr]
        ticket_page = server.post_form(offer_path)  # 303 to /t/{ticket}
        assert ticket_page.status == 200, ticket_page.text
        assert 'id="qr"' in ticket_page.text
        used = server.get(offer_path)
        assert used.status == 409  # the offer is used: the link books nothing more

        # The next round mails Carla her ticket; its code is scanned at the door.
        assert _worker_round(server)["mail"] == 1
        [carla_ticket] = _to(peer.wait_for(8), "carla@example.org", "Your ticket")
        ticket_path = _link(carla_ticket, public_url, "t")
        scan = json.dumps({"token": f"{public_url}{ticket_path}", "performance_id": performance.id})
        admitted = server.request(
            "POST",
            "/api/checkins",
            body=scan.encode(),
            headers={**JSON, "Authorization": f"Bearer {staff_token}"},
        )
        assert admitted.status == 201, admitted.text
        answer = json.loads(admitted.body)
        assert (answer["result"], answer["party_size"]) == ("ok", 2)

        assert _worker_round(server) == dict.fromkeys(first, 0)  # nothing left to do
        received = peer.messages

    # Exactly one ticket for the waiting party; the house never held more than its seats.
    assert len(_to(received, "carla@example.org", "Your ticket")) == 1
    assert len(received) == 8
    session.rollback()
    booked = session.exec(
        select(Reservation).where(Reservation.status == ReservationStatus.CONFIRMED)
    ).all()
    assert sorted(reservation.email for reservation in booked) == [
        "bob@example.org",
        "carla@example.org",
    ]
    assert sum(reservation.party_size for reservation in booked) <= CAPACITY
    session.refresh(entry)
    assert entry.status == WaitlistStatus.BOOKED
    assert answer["reference"] == session.get(Reservation, entry.reservation_id).reference  # type: ignore[union-attr]


def _status(session: Session, reference: str) -> str:
    """What the server has committed, read in a fresh transaction."""
    session.rollback()
    [reservation] = session.exec(select(Reservation).where(Reservation.reference == reference))
    return reservation.status
