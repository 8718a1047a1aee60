"""Every mail of a booking is written in the booking's language and names the theatre.

A booking keeps the visitor's language (`Reservation.language`); its subjects are translated when
the mail is queued and its body when it is sent, with the dates written by Babel the way that
language writes them. The theatre's name, site and privacy notice close every mail.
"""

from __future__ import annotations

import html as html_entities
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from azctl import db
from azctl.models import OutboxMessage, Performance
from azctl.services import (
    booking,
    capacity,
    catalog,
    i18n,
    mail,
    outbox,
    performance_moves,
    reminders,
    times,
    waitlist,
)
from azctl.settings import reload_settings
from tests.services.helpers import messages
from tests.services.test_mail import calendar, text_and_html

# A Saturday evening in Rome, far enough ahead to stay bookable.
SATURDAY = datetime(2099, 12, 12, 20, 30, tzinfo=ZoneInfo("Europe/Rome"))
WHEN = {"it": "sabato 12 dicembre 2099, 20:30", "en": "Saturday, 12 December 2099, 20:30"}
THEATRE = {
    "AZCTL_THEATRE_NAME": "Teatro Azione",
    "AZCTL_THEATRE_URL": "https://teatro.example.org",
    "AZCTL_PRIVACY_URL": "https://teatro.example.org/privacy",
}
MAIL_TEMPLATES = sorted(
    path.name
    for path in files("azctl.services").joinpath("templates").iterdir()
    if path.name.endswith((".txt", ".html"))
)


@pytest.fixture(autouse=True)
def theatre(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in THEATRE.items():
        monkeypatch.setenv(name, value)
    reload_settings()


@pytest.fixture
def languages(monkeypatch: pytest.MonkeyPatch):
    """Set the theatre's languages (the first is its default)."""

    def set_to(value: str) -> None:
        monkeypatch.setenv("AZCTL_LANGUAGES", value)
        reload_settings()

    return set_to


@pytest.fixture
def performance(session) -> Performance:
    venue = catalog.add_venue(session, name="Teatro Studio", city="Milano", address="Via Rivoli 6")
    catalog.add_show(session, title="Amleto", slug="amleto", publish=True)
    return catalog.add_performance(
        session, show_slug="amleto", venue_slug=venue.slug, starts_at=SATURDAY, room_capacity=20
    )


@pytest.fixture
def submit(session, performance):
    counter = iter(range(1, 1000))

    def make(language: str | None) -> booking.SubmittedBooking:
        number = next(counter)
        return booking.submit_booking(
            session,
            performance_id=performance.id,
            name=f"Giulia Bianchi {number}",
            email=f"giulia{number}@example.org",
            party_size=2,
            language=language,
        )

    return make


def mails_of(engine, submitted: booking.SubmittedBooking, kind: str) -> list[OutboxMessage]:
    return messages(engine, reservation_id=submitted.reservation.id, kind=kind)


def render(row: OutboxMessage) -> tuple[str, str, str]:
    """Subject, text part and HTML part of a queued mail, as sent."""
    email: EmailMessage = mail.render(row)
    text, html = text_and_html(email)
    return str(email["Subject"]), text, html


def assert_in_both(phrase: str, text: str, html: str) -> None:
    assert phrase in text
    assert phrase in html_entities.unescape(html)


def assert_signed_by_the_theatre(text: str, html: str) -> None:
    assert "\n-- \nTeatro Azione\nhttps://teatro.example.org\n" in text
    assert "https://teatro.example.org/privacy" in text
    assert '<a href="https://teatro.example.org" style="color:#666;">Teatro Azione</a>' in html
    assert 'href="https://teatro.example.org/privacy"' in html


# --- the English sentences of the mail templates ---------------------------------------------


def template_messages() -> list[tuple[str, str]]:
    """Every message of every mail template, as `pybabel extract` finds it: (template, msgid)."""
    env = mail.templates("en")
    assert env.loader is not None
    found = []
    for name in MAIL_TEMPLATES:
        source = env.loader.get_source(env, name)[0]
        for _line, _function, message in env.extract_translations(source):
            singulars = [message] if isinstance(message, str) else message
            found.extend((name, singular) for singular in singulars if singular)
    return found


def english_phrases() -> set[str]:
    """The English words of every message in the mail templates, cut at placeholders and tags:
    what an Italian mail must not show if every message of it was translated."""
    return {
        piece.strip()
        for _name, message in template_messages()
        for piece in re.split(r"%\(\w+\)s|<[^>]+>", message)
        if re.search(r"[A-Za-z]{3,}", piece)
    }


def english_left_in(text: str) -> list[str]:
    plain = html_entities.unescape(text)
    return sorted(phrase for phrase in english_phrases() if phrase in plain)


def test_the_templates_messages_are_all_in_the_italian_catalog():
    translate = i18n.gettext("it")
    messages_found = template_messages()
    assert len(messages_found) > 25
    untranslated = [(name, text) for name, text in messages_found if translate(text) == text]
    assert untranslated == []
    assert len(english_phrases()) > 20


# --- a booking's mails, in its language ------------------------------------------------------


def test_an_italian_booking_is_confirmed_ticketed_and_cancelled_in_italian(session, engine, submit):
    submitted = submit("it")
    reference = submitted.reservation.reference
    assert submitted.reservation.language == "it"
    confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
    booking.cancel_by_token(session, token=submitted.cancel_token)

    [confirmation] = mails_of(engine, submitted, "confirmation")
    subject, text, html = render(confirmation)
    assert subject == f"Prenotazione {reference} da confermare: Amleto"
    assert html.startswith('<!doctype html>\n<html lang="it">')
    assert f"<title>{subject}</title>" in html
    assert_in_both("Gentile Giulia Bianchi 1,", text, html)
    assert_in_both("grazie per la prenotazione.", text, html)
    assert_in_both(WHEN["it"], text, html)
    assert "Quando: sabato 12 dicembre 2099, 20:30\n" in text
    expires = i18n.format_when(submitted.reservation.expires_at, "it")
    assert_in_both(f"Il link è valido fino a {expires}.", text, html)
    assert "Conferma la prenotazione</a>" in html
    assert_signed_by_the_theatre(text, html)
    assert english_left_in(text) == english_left_in(html) == []

    [ticket] = mails_of(engine, submitted, "ticket")
    subject, text, html = render(ticket)
    assert subject == f"Biglietto {reference}: Amleto"
    assert '<html lang="it">' in html
    assert_in_both("la prenotazione è confermata.", text, html)
    assert_in_both(WHEN["it"], text, html)
    assert 'alt="Il codice QR del biglietto"' in html
    assert_signed_by_the_theatre(text, html)
    assert english_left_in(text) == english_left_in(html) == []
    assert mail.render(ticket).get_body(("html",)) is not None
    event = calendar(mail.render(ticket))
    assert "SUMMARY:Amleto" in event
    assert 'ORGANIZER;CN="Teatro Azione":mailto:boxoffice@localhost' in event
    assert confirmed.ticket_token not in subject

    [cancelled] = mails_of(engine, submitted, "cancelled")
    subject, text, html = render(cancelled)
    assert subject == f"Prenotazione {reference} annullata: Amleto"
    assert '<html lang="it">' in html
    assert_in_both("la prenotazione è stata annullata:", text, html)
    assert_in_both(WHEN["it"], text, html)
    assert_signed_by_the_theatre(text, html)
    assert english_left_in(text) == english_left_in(html) == []


def test_the_same_booking_in_english_gets_english(session, engine, submit):
    submitted = submit("en")
    reference = submitted.reservation.reference
    booking.confirm_booking(session, token=submitted.confirm_token)
    booking.cancel_by_token(session, token=submitted.cancel_token)

    subjects = {}
    for kind in ("confirmation", "ticket", "cancelled"):
        [row] = mails_of(engine, submitted, kind)
        subject, text, html = render(row)
        subjects[kind] = subject
        assert '<html lang="en">' in html
        assert_in_both("Hello Giulia Bianchi 1,", text, html)
        assert_in_both(WHEN["en"], text, html)
        assert "When: Saturday, 12 December 2099, 20:30\n" in text
        assert_signed_by_the_theatre(text, html)
        assert "sabato" not in text and "Gentile" not in html
    assert subjects == {
        "confirmation": f"Please confirm your booking {reference}: Amleto",
        "ticket": f"Your ticket {reference}: Amleto",
        "cancelled": f"Booking {reference} cancelled: Amleto",
    }


@pytest.mark.parametrize(("offered", "written"), [("it,en", "it"), ("en,it", "en")])
def test_a_booking_without_a_language_gets_the_theatres_default(
    engine, submit, languages, offered, written
):
    languages(offered)
    submitted = submit(None)
    assert submitted.reservation.language == written
    [confirmation] = mails_of(engine, submitted, "confirmation")
    subject, text, html = render(confirmation)
    assert f'<html lang="{written}">' in html
    assert_in_both(WHEN[written], text, html)
    greeting = {"it": "Gentile", "en": "Hello"}[written]
    assert text.startswith(f"{greeting} Giulia Bianchi 1,\n")
    assert subject.startswith({"it": "Prenotazione", "en": "Please confirm"}[written])


def test_a_resend_of_an_italian_booking_stays_italian(session, engine, submit, languages):
    languages("en,it")  # the theatre's default is English; the booking is Italian
    submitted = submit("it")
    reference = submitted.reservation.reference

    booking.resend(session, reference=reference)
    [first, again] = mails_of(engine, submitted, "confirmation")
    assert again.context["confirm_token"] != first.context["confirm_token"]
    subject, text, html = render(again)
    assert subject == f"Prenotazione {reference} da confermare: Amleto"
    assert_in_both(WHEN["it"], text, html)
    assert english_left_in(text) == english_left_in(html) == []

    booking.confirm_booking(session, token=again.context["confirm_token"])
    booking.resend(session, reference=reference)
    [_ticket, resent] = mails_of(engine, submitted, "ticket")
    subject, text, html = render(resent)
    assert subject == f"Biglietto {reference}: Amleto"
    assert '<html lang="it">' in html
    assert english_left_in(text) == english_left_in(html) == []


def test_a_cancelled_performance_tells_each_visitor_in_their_own_language(
    session, engine, submit, performance
):
    italian, english = submit("it"), submit("en")
    booking.confirm_booking(session, token=english.confirm_token)

    assert booking.cancel_performance(session, performance_id=performance.id) == 2

    [row] = mails_of(engine, italian, "performance_cancelled")
    subject, text, html = render(row)
    assert subject == "Replica annullata: Amleto, sab 12 dic, 20:30"
    assert '<html lang="it">' in html
    assert_in_both("ci dispiace: questa replica è stata annullata", text, html)
    assert english_left_in(text) == english_left_in(html) == []

    [row] = mails_of(engine, english, "performance_cancelled")
    subject, text, html = render(row)
    assert subject == "Cancelled: Amleto, Sat 12 Dec, 20:30"
    assert '<html lang="en">' in html
    assert_in_both("this performance has been cancelled", text, html)
    assert_in_both(WHEN["en"], text, html)


# --- every kind, both languages --------------------------------------------------------------


def every_kind(session, engine, submit, performance, language: str) -> dict[str, OutboxMessage]:
    """One mail of each kind in `language` (the test mail in the theatre's default)."""
    kept, dropped = submit(language), submit(language)
    booking.confirm_booking(session, token=kept.confirm_token)
    booking.cancel_reservation(session, reference=dropped.reservation.reference)
    # Moved a day later, then reminded the day before the new date.
    performance_moves.move_performance(
        session, performance_id=performance.id, starts_at=SATURDAY + timedelta(days=1)
    )
    reminders.queue_due_reminders(engine, SATURDAY + timedelta(hours=1))
    # The waiting list's mails: a party joins the full house, then seats are added for it.
    capacity.change_capacity(session, performance_id=performance.id, room_capacity=2)
    waitlist.join(
        session,
        performance_id=performance.id,
        name="Giulia Bianchi",
        email="giulia.waiting@example.org",
        party_size=2,
        language=language,
    )
    capacity.change_capacity(session, performance_id=performance.id, room_capacity=20)
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    booking.cancel_performance(session, performance_id=performance.id)
    outbox.queue_test_message(session, to_address="staff@example.org")
    rows = {row.kind: row for row in messages(engine)}
    assert sorted(rows) == sorted(
        name.removesuffix(".txt")
        for name in MAIL_TEMPLATES
        if name.endswith(".txt") and name not in ("base.txt", "footer.txt")
    )
    return rows


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_kind_of_mail_is_written_wholly_in_its_language(
    session, engine, submit, performance, languages, language
):
    languages("it,en" if language == "it" else "en,it")
    for kind, row in every_kind(session, engine, submit, performance, language).items():
        subject, text, html = render(row)
        assert f'<html lang="{language}">' in html, kind
        assert_signed_by_the_theatre(text, html)
        left = english_left_in(subject + "\n" + text) + english_left_in(html)
        if language == "it":
            assert left == [], kind
            assert not re.search(r"\b(Hello|Your|Please|Cancelled|Booking|test message)\b", subject)
        else:  # the check above has something to find
            assert left, kind


def test_a_row_queued_before_mails_knew_languages_renders_in_the_default_language(
    session, engine, submit, languages
):
    submitted = submit("en")
    [row] = mails_of(engine, submitted, "confirmation")
    # As an older azctl queued it: no language, the confirm-by time as it wrote it.
    stored_by = row.context["confirm_by"]
    row.context = {
        key: value for key, value in row.context.items() if key not in ("language", "confirm_by_at")
    }
    with db.new_session(engine) as other:
        other.merge(row)
        other.commit()
    languages("it,en")

    [row] = mails_of(engine, submitted, "confirmation")
    subject, text, html = render(row)
    assert '<html lang="it">' in html
    assert_in_both(WHEN["it"], text, html)
    assert_in_both(f"Il link è valido fino a {stored_by}.", text, html)
    assert subject.startswith("Please confirm")  # stored as it was queued
