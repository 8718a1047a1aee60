"""SQL metacharacters and oversized strings in everything a visitor or staff member sends over
HTTP are stored exactly or refused, never executed.

Every text a request carries (the booking's fields, a show's slug, tokens in link paths and in
bodies, the Bearer header) is sent with quotes, comment markers, LIKE wildcards, NUL, backslashes,
unicode and ten times the field's limit. The answer is either success with the value read back
byte for byte (trimmed, as the validation does) or a 4xx problem; never a 500. Afterwards
every table is still there and holds exactly the rows the accepted requests made.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

from azctl import db
from azctl.models import CheckIn, OutboxMessage, Reservation, ReservationToken, ScanLog, Staff
from azctl.settings import reload_settings
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import assert_page, assert_problem, booking_body, post_form

PAYLOADS = [
    "'; DROP TABLE reservation; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM staff;--",
    "' OR ''='",
    "1; SELECT pg_sleep(5); --",
    "$$; DROP TABLE staff; $$",
    "%",
    "_",
    "%_%' OR name LIKE '%",
    "back\\slash \\' \\\\ \\",
    "nul\x00byte",
    "\x00",
    "Ünïcødé 🎭 日本語 \u202eevil",
    "tab\tand\nnew line",
    "lone \ud800 surrogate",
    "[red]markup[/red] :warning: {0} %s",
]
# The limits of the booking request (`http/schemas.py`, and the validation behind it).
LIMITS = {"name": 200, "email": 254, "phone": 40, "notes": 1000}
# Fields a booking may leave out: blank there (whitespace only) means none, stored as NULL.
OPTIONAL = {"phone", "notes"}


@pytest.fixture
def unlimited(monkeypatch, make_client):
    """A client with AZCTL_RATE_LIMIT=off: these tests send many requests from one address."""
    monkeypatch.setenv("AZCTL_RATE_LIMIT", "off")
    reload_settings()
    return make_client()


def assert_schema_intact(engine) -> None:
    """Every table of the model is still there, and still answers a count."""
    present = set(sa.inspect(engine).get_table_names())
    expected = {table.name for table in SQLModel.metadata.sorted_tables}
    assert expected <= present, f"tables gone: {expected - present}"
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def stored(engine, reference: str) -> Reservation:
    with db.new_session(engine) as session:
        return session.exec(select(Reservation).where(Reservation.reference == reference)).one()


def field_values(field: str) -> list[str]:
    """What to send in `field`: every payload (inside an address for the email), and ten times
    the field's limit."""
    if field == "email":
        values = [f"{payload}@example.org" for payload in PAYLOADS]
        values += ["robert+drop_table--%@example.org", f"a@{'%_' * 4}.example.org"]
    else:
        values = list(PAYLOADS)
    return [*values, "x" * (10 * LIMITS[field]), "é" * (10 * LIMITS[field])]


def post_json(client, path, data, **kwargs):
    """POSTs `data` as JSON with non-ASCII escaped, so even a lone surrogate can be sent."""
    return client.simulate_post(
        path, body=json.dumps(data), content_type="application/json", **kwargs
    )


def book(client, performance, field, value):
    path = f"/api/performances/{performance.id}/reservations"
    return post_json(client, path, booking_body(**{field: value}))


def kept(field: str, value: str) -> str | None:
    """What validation keeps of `value`: the trimmed text; in an optional field, blank is None."""
    trimmed = value.strip()
    if not trimmed and field in OPTIONAL:
        return None
    return trimmed


def assert_stored_or_refused(engine, answer, field: str, value: str) -> bool:
    """Accepted with the value kept exactly (see `kept`), or refused as invalid input about
    `field`; a blank required field is always refused. Returns whether it was accepted."""
    if answer.status_code == 202:
        assert value.strip() or field in OPTIONAL, f"blank {field} accepted"
        assert getattr(stored(engine, answer.json["reference"]), field) == kept(field, value)
        return True
    if answer.status_code == 400:  # ten times the limit, escaped, can outgrow the whole body
        assert assert_problem(answer, 400, "invalid_input")["field"] == "body"
        return False
    problem = assert_problem(answer, 422, "invalid_input")
    assert problem["field"] == field
    return False


def test_a_booking_field_is_stored_exactly_or_refused(engine, unlimited, performance, subtests):
    """Each payload in each field of the booking request; every accepted booking made exactly
    one reservation, its mail and its two tokens, and nothing else."""
    accepted = 0
    for field in LIMITS:
        with subtests.test(field=field):
            taken = 0
            for value in field_values(field):
                answer = book(unlimited, performance, field, value)
                assert answer.status_code != 500, (value, answer.text)
                taken += assert_stored_or_refused(engine, answer, field, value)
            # Free text takes the SQL payloads as text (only NUL, a lone surrogate and the
            # oversized ones are refused); the email takes the ones that are addresses.
            assert taken >= {"email": 2}.get(field, len(PAYLOADS) - 3)
            accepted += taken
    assert_schema_intact(engine)
    assert count_rows(engine, Reservation) == accepted
    assert count_rows(engine, OutboxMessage) == accepted
    assert count_rows(engine, ReservationToken) == 2 * accepted
    assert count_rows(engine, Staff) == 0


def test_what_cannot_be_stored_faithfully_is_refused(engine, unlimited, performance):
    """NUL (PostgreSQL cannot hold it), a lone surrogate (not UTF-8) and too-long text are
    refused, the same on both databases, instead of failing in the driver."""
    with unchanged(engine):
        for value in ("nul\x00byte", "\x00", "lone \ud800 surrogate", "x" * 2000, "é" * 2000):
            for field in LIMITS:
                answer = book(unlimited, performance, field, value)
                assert not assert_stored_or_refused(engine, answer, field, value)


NOT_COUNTS = [
    "'; DROP TABLE reservation; --",
    "2",
    "1 OR 1=1",
    10**30,
    -1,
    0,
    2.5,
    True,
    None,
    [2],
    {},
]


def test_a_party_size_that_is_no_count_is_refused(engine, unlimited, performance, subtests):
    with unchanged(engine):
        for party_size in NOT_COUNTS:
            with subtests.test(party_size=party_size):
                answer = book(unlimited, performance, "party_size", party_size)
                assert assert_problem(answer, 422, "invalid_input")["field"] == "party_size"


@settings(
    max_examples=25,
    deadline=None,
    # No example database: a failure is reported with its input, never replayed from a stale
    # .hypothesis/ folder in later runs.
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(["name", "phone", "notes"]),
    value=st.text(
        st.characters(codec="utf-8")
        | st.sampled_from(["'", '"', ";", "-", "%", "_", "\\", "\x00", "/", "*"]),
        min_size=1,
        max_size=60,
    )
    | st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000"), min_size=1, max_size=60),
)
def test_any_text_in_a_booking_field_is_stored_exactly_or_refused(
    engine, unlimited, performance, field, value
):
    answer = book(unlimited, performance, field, value)
    assert answer.status_code in (202, 422), answer.text
    if not value.strip():
        # Whitespace only is blank: none at all in an optional field, refused in a required one.
        assert answer.status_code == (202 if field in OPTIONAL else 422), answer.text
    assert_stored_or_refused(engine, answer, field, value)


# --- slugs, tokens and the Bearer header -------------------------------------------------------


def in_path(value: str) -> str:
    """A payload as one path segment, percent-encoded as a browser would send it."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def as_header(value: str) -> str:
    """A payload as a server hands a header to the app: its UTF-8 bytes read as Latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


PATH_PAYLOADS = [*PAYLOADS, "x" * 800, "7" * 320]


def test_a_slug_is_looked_up_as_a_value_never_as_sql(engine, unlimited, performance):
    with unchanged(engine):
        for value in PATH_PAYLOADS:
            answer = unlimited.simulate_get(f"/api/shows/{in_path(value)}")
            assert_problem(answer, 404, "not_found")
        assert unlimited.simulate_get("/api/shows/open-show").status_code == 200
    assert_schema_intact(engine)


def assert_link_refused(answer, value: str) -> None:
    """The link's page says it is not valid; a value with a `/` in it is a path no route has."""
    if "/" in value:
        assert_problem(answer, 404, "not_found")
    else:
        assert_page(answer, 404, "This link is not valid")


def test_a_token_in_a_link_path_is_a_value_never_sql(engine, unlimited, performance):
    """The confirm, cancel and ticket pages, shown and posted, with every payload as the token."""
    with unchanged(engine):
        for value in PATH_PAYLOADS:
            token = in_path(value)
            for path in (f"/confirm/{token}", f"/cancel/{token}"):
                assert_link_refused(unlimited.simulate_get(path), value)
                assert_link_refused(post_form(unlimited, path), value)
            for suffix in ("", ".png", ".svg"):
                assert_link_refused(unlimited.simulate_get(f"/t/{token}{suffix}"), value)
    assert_schema_intact(engine)


def is_text(value: str) -> bool:
    """Whether `value` is text at all (a lone surrogate is not: JSON can carry it, UTF-8 not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_a_token_in_a_body_is_a_value_never_sql(engine, unlimited, performance, bearer):
    """Confirmation and cancellation bodies, and the door's scan; a scan that reached the door
    is one `unknown_token` ScanLog row, and nothing else changes."""
    scans = 0
    for value in [*PAYLOADS, "x" * 2000, "7" * 5000]:
        with unchanged(engine):
            for path in ("/api/confirmations", "/api/cancellations"):
                answer = post_json(unlimited, path, {"token": value})
                if len(value) > 200 or not is_text(value):
                    assert_problem(answer, 422, "invalid_input")
                else:
                    assert_problem(answer, 404, "invalid_token")
        answer = post_json(
            unlimited,
            "/api/checkins",
            {"token": value, "performance_id": performance.id},
            headers=bearer,
        )
        if len(value) > 500 or not is_text(value):
            assert_problem(answer, 422, "invalid_input")
        else:
            assert_problem(answer, 404, "unknown_token")
            scans += 1
    with db.new_session(engine) as session:
        logged = session.exec(select(ScanLog.result)).all()
    assert logged == ["unknown_token"] * scans
    assert count_rows(engine, CheckIn) == 0
    assert_schema_intact(engine)


def test_a_bearer_header_is_a_value_never_sql(
    engine, unlimited, performance, visitor_ticket, staff_token
):
    ticket = visitor_ticket(performance)
    body = {"token": ticket.ticket_token, "performance_id": performance.id}
    with unchanged(engine):
        for value in [*PAYLOADS, "x" * 320, "7" * 320]:
            for header in (f"Bearer {value}", value):
                answer = unlimited.simulate_post(
                    "/api/checkins", json=body, headers={"Authorization": as_header(header)}
                )
                assert_problem(answer, 401, "unauthorized")
    assert_schema_intact(engine)
    assert count_rows(engine, Staff) == 1
