"""Email addresses: one rule (email-validator, syntax only) for every front end, DESIGN §3."""

from __future__ import annotations

from datetime import timedelta

import pytest

from azctl import errors
from azctl.models import Reservation
from azctl.services import booking, mail, validation
from tests.services.helpers import fresh, messages

# Typed → stored: the local part as typed, the domain lower-case in its ASCII (IDNA) form.
ACCEPTED = [
    ("o'brien@example.org", "o'brien@example.org"),
    ("anna+teatro@example.org", "anna+teatro@example.org"),
    ("visitatore@università.it", "visitatore@xn--universit-y1a.it"),
    ("Visitatore@UNIVERSITÀ.IT", "Visitatore@xn--universit-y1a.it"),
    ("Mirandolina.Rossi@Example.ORG", "Mirandolina.Rossi@example.org"),
    ("  giulia@example.org  ", "giulia@example.org"),
    ("first_last-1@sub.example.co.uk", "first_last-1@sub.example.co.uk"),
    ("x@xn--universit-y1a.it", "x@xn--universit-y1a.it"),
    ("a!#$%&*/=?^`{|}~@example.org", "a!#$%&*/=?^`{|}~@example.org"),
]

REFUSED = [
    "plainaddress",
    "me-at-example",
    "someone@localhost",
    "someone@example",
    "a@@example.org",
    "a b@example.org",
    "a@exa mple.org",
    ".a@example.org",
    "a.@example.org",
    "a..b@example.org",
    "a@example.org.",
    "a@-example.org",
    "a@exa_mple.org",
    '"quoted"@example.org',
    "a@[127.0.0.1]",
    "Mirandolina <m@example.org>",
    "m@example.org, n@example.org",
    "m@example.org\nBcc: x@example.org",
    "@example.org",
    "someone@",
    "x" * 250 + "@example.org",
]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_an_address_is_accepted_in_the_form_mail_is_sent_to(typed: str, stored: str):
    assert validation.email(typed) == stored


@pytest.mark.parametrize("typed", REFUSED)
def test_what_is_not_an_address_is_refused_naming_the_field(typed: str):
    with pytest.raises(errors.InvalidInput) as refused:
        validation.email(typed, field="address")
    assert refused.value.field == "address"
    assert refused.value.code == "invalid_input"
    assert str(refused.value).startswith("address")
    assert "\n" not in str(refused.value)


def test_the_refusal_is_one_plain_sentence():
    """The library's own wording and exception formatting stay out of what a visitor reads."""
    with pytest.raises(errors.InvalidInput) as refused:
        validation.email("a@@example.org")
    assert str(refused.value) == "email: 'a@@example.org' is not an email address"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_blank_address_is_required(blank: str | None):
    with pytest.raises(errors.InvalidInput) as refused:
        validation.email(blank)
    assert str(refused.value) == "email is required"


def test_letters_beyond_ascii_before_the_at_are_refused_as_unmailable():
    """Such a mailbox needs SMTPUTF8 from every server on the way; the refusal says why."""
    with pytest.raises(errors.InvalidInput) as refused:
        validation.email("ñandú@example.org")
    assert refused.value.field == "email"
    assert str(refused.value) == (
        "email: 'ñandú@example.org' cannot be mailed: only the part after the @ may have "
        "letters beyond ASCII"
    )


def test_no_dns_is_asked(monkeypatch: pytest.MonkeyPatch):
    """Syntax only: a domain nobody registered is still an address, and no resolver is used."""
    import dns.resolver

    def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation asked the DNS")

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", no_dns)
    monkeypatch.setattr(dns.resolver, "resolve", no_dns)
    assert validation.email("someone@no-such-domain-azctl.example") == (
        "someone@no-such-domain-azctl.example"
    )


def test_a_booking_with_an_international_domain_is_stored_and_mailed_in_ascii(
    session, engine, make_performance
):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    submitted = booking.submit_booking(
        session,
        performance_id=performance.id,
        name="Visitatore",
        email="Visitatore@Università.it",
        party_size=2,
    )
    stored = fresh(engine, Reservation, submitted.reservation.id)
    assert stored.email == "Visitatore@xn--universit-y1a.it"
    [message] = messages(engine, reservation_id=stored.id)
    assert message.to_address == stored.email
    rendered = bytes(mail.render(message))
    assert b"\nTo: Visitatore@xn--universit-y1a.it\n" in rendered


def test_an_apostrophe_in_a_booking_address_is_kept(session, engine, make_performance):
    performance = make_performance(capacity=10, starts_in=timedelta(days=3))
    submitted = booking.submit_booking(
        session,
        performance_id=performance.id,
        name="Siobhan O'Brien",
        email="o'brien@example.org",
        party_size=1,
    )
    assert fresh(engine, Reservation, submitted.reservation.id).email == "o'brien@example.org"
