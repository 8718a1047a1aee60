"""Tokens: randomness, alphabet, HMAC-only storage, tolerant parsing, ticket links and QR."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import stat
from email import message_from_bytes, policy

import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from azctl.models import OutboxMessage, ScanLog, Staff
from azctl.services import booking, checkin, mail, outbox, staff, tickets, tokens
from azctl.settings import reload_settings
from tests.conftest import SECRET
from tests.services.helpers import fresh, stored_text

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def test_alphabet_is_crockford_base32():
    assert set(tokens.ALPHABET) == CROCKFORD
    assert len(tokens.ALPHABET) == 32
    assert not set("ILOU") & set(tokens.ALPHABET)


def test_new_tokens_carry_at_least_128_random_bits_in_crockford_characters():
    assert tokens.TOKEN_BYTES * 8 >= 128
    made = [tokens.new_token() for _ in range(400)]
    assert len(set(made)) == len(made)
    for token in made:
        assert len(token) == tokens.TOKEN_LENGTH
        assert set(token) <= CROCKFORD
    # Every position takes many values: no fixed prefix or padding eats into the entropy.
    for position in range(tokens.TOKEN_LENGTH):
        assert len({token[position] for token in made}) > 20


def test_new_tokens_are_drawn_from_the_secrets_module(monkeypatch):
    """A token is the Crockford encoding of exactly the bytes `secrets` gave, and `secrets` was
    asked for at least 128 bits: tokens drawn from `random` (predictable) fail here."""
    asked: list[int] = []
    drawn = bytes(range(0x80, 0x80 + tokens.TOKEN_BYTES))

    def token_bytes(nbytes: int) -> bytes:
        asked.append(nbytes)
        return drawn[:nbytes]

    monkeypatch.setattr(tokens.secrets, "token_bytes", token_bytes)
    token = tokens.new_token()
    assert asked == [tokens.TOKEN_BYTES]
    assert asked[0] >= 16
    # RFC 4648 base32 of 160 bits is 32 characters without padding; only the alphabet differs.
    rfc = base64.b32encode(drawn).decode()
    assert token == rfc.translate(str.maketrans(_RFC4648, tokens.ALPHABET))
    assert token == "G20R50W4GP38F249HA5RS3CEHY8934MK"


def test_encoding_is_big_endian_base32_of_every_bit():
    assert tokens.encode(bytes(20)) == "0" * 32
    assert tokens.encode(b"\xff" * 20) == "Z" * 32
    assert tokens.encode(bytes(19) + b"\x01") == "0" * 31 + "1"
    assert tokens.encode(b"\x80" + bytes(19)) == "G" + "0" * 31
    raw = bytes(range(20))
    number = 0
    for char in tokens.encode(raw):
        number = number * 32 + tokens.ALPHABET.index(char)
    assert number.to_bytes(20, "big") == raw


def test_hash_is_hmac_sha256_with_the_configured_key():
    token = tokens.new_token()
    expected = hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert tokens.hash_token(token) == expected
    assert len(expected) == 64
    assert token not in expected


def test_another_key_gives_another_hash(monkeypatch):
    token = tokens.new_token()
    first = tokens.hash_token(token)
    monkeypatch.setenv("AZCTL_SECRET_KEY", "another-key")
    reload_settings()
    assert tokens.hash_token(token) != first


def test_key_is_generated_into_the_data_dir_on_first_run(monkeypatch, isolated_settings):
    monkeypatch.delenv("AZCTL_SECRET_KEY")
    reload_settings()
    key_file = isolated_settings / "secret_key"
    assert not key_file.exists()
    hashed = tokens.hash_token("0" * 32)
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(bytes.fromhex(key)) == 32
    assert hashed == hmac.new(key.encode(), b"0" * 32, hashlib.sha256).hexdigest()
    reload_settings()
    assert tokens.hash_token("0" * 32) == hashed


def test_fingerprint_is_a_short_prefix_of_the_hash():
    hashed = tokens.hash_token(tokens.new_token())
    assert tokens.fingerprint(hashed) == hashed[:12]


# --- parse_scanned ---------------------------------------------------------------------------

TOKEN = "7KQ4M2ABCDEFGHJKMNPQRSTVWXYZ0189"


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        TOKEN.lower(),
        f"  {TOKEN}\n",
        f"\t{TOKEN.lower()}\r\n",
        f"http://127.0.0.1:8000/t/{TOKEN}",
        f"https://tickets.example.org/t/{TOKEN}/",
        f"HTTPS://TICKETS.EXAMPLE.ORG/T/{TOKEN}",
        f"https>&&tickets.example.org&t&{TOKEN}",
        f"httpsÖ--tickets.example.org-t-{TOKEN}",
        "-".join(TOKEN[i : i + 4] for i in range(0, 32, 4)),
        " ".join(TOKEN[i : i + 8] for i in range(0, 32, 8)).lower(),
        TOKEN.replace("1", "I").replace("0", "O"),
        TOKEN.replace("1", "l").replace("0", "o"),
        f"https://x.org/confirm/{TOKEN[:16]}-{TOKEN[16:]}",
    ],
)
def test_parse_scanned_finds_the_token_in_what_a_scanner_or_person_types(text):
    assert tokens.parse_scanned(text) == TOKEN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n",
        "hello",
        "AZ-7KQ4M2",
        TOKEN[:-1],
        TOKEN + "7",
        TOKEN[:10] + "U" + TOKEN[11:],
        f"http://127.0.0.1:8000/t/{TOKEN[:20]}",
        "ÀÈÌÒÙ" * 8,
        "🎭" * 32,
        "https://tickets.example.org/",
        "DROP TABLE reservation; --",
    ],
)
def test_parse_scanned_rejects_garbage(text):
    assert tokens.parse_scanned(text) is None


_LOOKALIKE = {"1": "1IiLl", "0": "0Oo"}


@st.composite
def scanned_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A token, and one way a scanner, a phone or a person could deliver it."""
    token = tokens.encode(draw(st.binary(min_size=tokens.TOKEN_BYTES, max_size=tokens.TOKEN_BYTES)))
    chars = [draw(st.sampled_from(_LOOKALIKE.get(char, char + char.lower()))) for char in token]
    size = draw(st.sampled_from([0, 4, 5, 8, 16]))
    separator = draw(st.sampled_from(["-", " ", "--", ".", "_"]))
    body = (
        separator.join("".join(chars[i : i + size]) for i in range(0, 32, size))
        if size
        else "".join(chars)
    )
    prefix = draw(
        st.sampled_from(
            [
                "",
                "http://127.0.0.1:8000/t/",
                "https://tickets.example.org/t/",
                "https>&&tickets.example.org&t&",
                "HTTPS:--BOX-OFFICE.EXAMPLE.ORG-T-",
                "https://x.org/confirm/",
            ]
        )
    )
    blank = st.sampled_from(["", " ", "\t", "\n", " \r\n", "   "])
    return token, draw(blank) + prefix + body + draw(blank)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scanned_forms())
def test_parse_scanned_round_trips_every_way_a_token_is_delivered(form):
    token, text = form
    assert tokens.parse_scanned(text) == token


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_scanned_never_fails_and_answers_a_canonical_token_or_none(text):
    parsed = tokens.parse_scanned(text)
    assert parsed is None or (len(parsed) == tokens.TOKEN_LENGTH and set(parsed) <= CROCKFORD)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=tokens.TOKEN_BYTES, max_size=tokens.TOKEN_BYTES))
def test_ticket_url_parses_back_to_its_token(raw):
    token = tokens.encode(raw)
    assert tokens.parse_scanned(tickets.ticket_url(token)) == token
    assert tokens.parse_scanned(tickets.confirm_url(token)) == token
    assert tokens.parse_scanned(tickets.cancel_url(token)) == token


# --- links and QR ----------------------------------------------------------------------------


def _png(content: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def test_links_use_the_public_url_and_nothing_else(monkeypatch):
    monkeypatch.setenv("AZCTL_PUBLIC_URL", "https://tickets.example.org/")
    reload_settings()
    assert tickets.ticket_url(TOKEN) == f"https://tickets.example.org/t/{TOKEN}"
    assert tickets.confirm_url(TOKEN) == f"https://tickets.example.org/confirm/{TOKEN}"
    assert tickets.cancel_url(TOKEN) == f"https://tickets.example.org/cancel/{TOKEN}"


def test_qr_code_holds_exactly_the_ticket_url(session, make_performance, monkeypatch):
    monkeypatch.setenv("AZCTL_PUBLIC_URL", "https://tickets.example.org")
    reload_settings()
    performance = make_performance(capacity=10)
    submitted = booking.submit_booking(
        session,
        performance_id=performance.id,
        name="Zebulon Quark",
        email="zebulon@example.org",
        phone="+39 333 7654321",
        notes="wheelchair space",
        party_size=3,
    )
    result = booking.confirm_booking(session, token=submitted.confirm_token)
    url = f"https://tickets.example.org/t/{result.ticket_token}"
    assert result.as_dict()["ticket_url"] == url
    png = tickets.qr_png(result.ticket_token)
    assert png == _png(url)
    assert png != _png(url + "?n=Zebulon%20Quark")
    assert png.startswith(b"\x89PNG")
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=4)
    assert tickets.qr_svg(result.ticket_token) == svg.getvalue()

    [ticket_mail] = [m for m in outbox_messages(session) if m.kind == "ticket"]
    email = mail.render(ticket_mail)
    [qr_part] = [p for p in email.walk() if p.get_content_type() == "image/png"]
    assert qr_part.get_content() == png
    [ics] = [p for p in email.walk() if p.get_content_type() == "text/calendar"]
    calendar = ics.get_content()
    assert f"URL:{url}" in calendar
    assert "Zebulon" not in calendar


def outbox_messages(session):
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


# --- raw tokens are never stored -------------------------------------------------------------


def test_raw_tokens_are_stored_nowhere_but_in_unsent_mail(
    session, engine, make_performance, book, tmp_path
):
    performance = make_performance(capacity=20)
    member, staff_token = staff.add_staff(session, username="anna", role="box_office")
    _member, replaced_staff_token = staff.issue_token(session, username="anna")
    pending = book(performance, 2)
    first = book(performance, 2)
    ticket = booking.confirm_booking(session, token=first.confirm_token).ticket_token
    cancelled = book(performance, 1)
    booking.cancel_by_token(session, token=cancelled.cancel_token)
    booking.resend(session, reference=pending.reservation.reference)
    booking.resend(session, reference=first.reservation.reference)
    checkin.scan(session, text=ticket, performance_id=performance.id, staff=member)
    checkin.scan(session, text=pending.confirm_token, performance_id=performance.id)
    checkin.scan(session, text=tokens.new_token(), performance_id=performance.id)

    raw = {
        staff_token,
        replaced_staff_token,
        pending.confirm_token,
        pending.cancel_token,
        first.confirm_token,
        first.cancel_token,
        ticket,
        cancelled.confirm_token,
        cancelled.cancel_token,
    }
    in_mail = {
        value
        for message in outbox_messages(session)
        for key, value in message.context.items()
        if key in outbox.SECRET_KEYS
    }
    raw |= in_mail
    # 2 staff tokens, 3 bookings' confirm and cancel tokens, 1 ticket with its cancel token,
    # and the resent 2 + 2.
    assert len(raw) == 14

    def leaks(values: list[str]) -> set[str]:
        return {token for token in raw for value in values if token in value.upper()}

    assert not leaks(stored_text(engine, skip={("outbox_message", "context")}))
    assert leaks(stored_text(engine)) == in_mail

    queued = len(outbox_messages(session))
    report = outbox.send_due(
        session, transport=mail.FileTransport(tmp_path / "mail"), render=mail.render
    )
    assert (report.sent, report.retrying, report.failed) == (queued, 0, 0)
    assert not leaks(stored_text(engine))
    fingerprints = [log.token_fingerprint for log in session.exec(select(ScanLog))]
    assert len(fingerprints) == 3
    assert tokens.fingerprint(tokens.hash_token(ticket)) in fingerprints

    # The raw tokens now live only in the delivered mail.
    delivered = "".join(
        message_from_bytes(path.read_bytes(), policy=policy.default)
        .get_body(("plain",))
        .get_content()
        for path in (tmp_path / "mail").glob("*.eml")
    )
    assert ticket in delivered
    assert fresh(engine, Staff, member.id).api_token_hash == tokens.hash_token(replaced_staff_token)
