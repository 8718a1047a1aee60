"""Secrets are never compared as raw values.

A token is looked up by its HMAC in an indexed, unique column, so the bytes the database compares
are ones an attacker cannot choose: timing the lookup teaches nothing about a stored token. These
tests prove what that rests on without timing anything: the raw token (in any spelling a visitor
or scanner may send) never reaches the database, its HMAC does, the HMAC columns are indexed,
and no Python code in azctl/ compares secret material with `==`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import azctl
from azctl.services import booking, checkin, staff, tokens


def rendered(value: Any) -> str:
    """Parameters as text, in full: psycopg's `Json` wrapper shortens its own repr."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {rendered(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(rendered(item) for item in value) + "]"
    if hasattr(value, "obj"):  # psycopg.types.json.Json / Jsonb
        return json.dumps(value.obj, default=str)
    return repr(value)


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """Every SQL statement sent through `engine` inside the block, with its parameters."""
    sent: list[str] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        sent.append(f"{statement}\n{rendered(parameters)}")

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def spellings(token: str) -> list[str]:
    """What a visitor or scanner may send for one token, and what must not reach the database."""
    return [token, token.lower(), "-".join(re.findall(".{1,4}", token.lower()))]


def assert_only_hmac_sent(sent: list[str], token: str) -> None:
    """No spelling of `token` is in any statement or parameter, and its HMAC is."""
    assert sent, "nothing was sent to the database"
    for text in sent:
        for spelling in spellings(token):
            assert spelling not in text and spelling not in text.upper(), text
    assert any(tokens.hash_token(token) in text for text in sent)


def test_looking_up_an_emailed_link_sends_only_its_hmac(session, engine, make_performance, book):
    """Previewing, confirming and cancelling by link, in the spellings a visitor may send."""
    performance = make_performance()
    submitted = book(performance)
    confirm, cancel = submitted.confirm_token, submitted.cancel_token

    with statements(engine) as sent:
        booking.confirmation_preview(session, token=confirm.lower())
    assert_only_hmac_sent(sent, confirm)
    with statements(engine) as sent:
        booking.cancellation_preview(session, token=spellings(cancel)[2])
    assert_only_hmac_sent(sent, cancel)

    with statements(engine) as sent:
        confirmed = booking.confirm_booking(session, token=f"  {spellings(confirm)[2]}\n")
    assert_only_hmac_sent(sent, confirm)
    # The ticket token it issues is stored as its HMAC; the raw one only in the queued mail.
    ticket = confirmed.ticket_token
    carrying = [text for text in sent if ticket in text]
    assert carrying and all(text.startswith("INSERT INTO outbox_message") for text in carrying)
    assert any(tokens.hash_token(ticket) in text for text in sent)

    with statements(engine) as sent:
        booking.ticket(session, token=ticket.lower())
    assert_only_hmac_sent(sent, ticket)
    with statements(engine) as sent:
        booking.cancel_by_token(session, token=cancel)
    assert_only_hmac_sent(sent, cancel)


def test_a_scan_sends_only_the_hmac_and_logs_only_a_fingerprint_of_it(
    session, engine, make_performance, confirmed, make_staff
):
    performance = make_performance()
    member, _token = make_staff()
    ticket = confirmed(performance).ticket_token
    guess = tokens.new_token()

    for scanned, token in ((f"https://x.org/t/{ticket.lower()}", ticket), (guess, guess)):
        with statements(engine) as sent:
            checkin.scan(session, text=scanned, performance_id=performance.id, staff=member)
        assert_only_hmac_sent(sent, token)
        [log_insert] = [text for text in sent if text.startswith("INSERT INTO scan_log")]
        assert tokens.fingerprint(tokens.hash_token(token)) in log_insert
        assert tokens.hash_token(token) not in log_insert


def test_a_staff_token_is_written_and_checked_as_its_hmac_only(session, engine):
    """Issuing, replacing and checking a staff API token: the raw token stays in Python."""
    with statements(engine) as sent:
        _member, first = staff.add_staff(session, username="anna", role="box_office")
    assert_only_hmac_sent(sent, first)
    with statements(engine) as sent:
        _member, second = staff.issue_token(session, username="anna")
    assert_only_hmac_sent(sent, second)
    assert not any(first in text or tokens.hash_token(first) in text for text in sent)
    with statements(engine) as sent:
        assert staff.authenticate(session, token=f" {second.lower()} ").username == "anna"
    assert_only_hmac_sent(sent, second)
    with statements(engine) as sent, pytest.raises(azctl.errors.Unauthorized):
        staff.authenticate(session, token=first)
    assert_only_hmac_sent(sent, first)


@pytest.mark.parametrize(
    ("table", "column"), [("reservation_token", "token_hash"), ("staff", "api_token_hash")]
)
def test_tokens_are_found_by_an_indexed_unique_hmac_column(engine, table, column):
    """The lookup is one index probe on a column holding 64 hex characters of HMAC-SHA256."""
    inspector = sa.inspect(engine)
    unique = [c["column_names"] for c in inspector.get_unique_constraints(table)]
    unique += [i["column_names"] for i in inspector.get_indexes(table) if i.get("unique")]
    assert [column] in unique
    [found] = [c for c in inspector.get_columns(table) if c["name"] == column]
    assert getattr(found["type"], "length", None) == 64
    assert re.fullmatch("[0-9a-f]{64}", tokens.hash_token(tokens.new_token()))


# --- no `==` on secret material in Python ----------------------------------------------------

# Names that hold a raw token, a key or an HMAC in azctl/, and the calls that make one.
SECRET_NAMES = {
    "token",
    "raw",
    "canonical",
    "bearer",
    "secret",
    "secret_key",
    "hmac_key",
    "token_hash",
    "api_token_hash",
    "confirm_token",
    "cancel_token",
    "ticket_token",
    "staff_token",
    "password",
}
SECRET_CALLS = {"hash_token", "new_token", "token_bytes", "token_hex", "hexdigest", "digest"}


def _is_secret(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in SECRET_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in SECRET_NAMES
    if isinstance(node, ast.Call):
        called = node.func
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        return name in SECRET_CALLS
    if isinstance(node, ast.Subscript):
        return _is_secret(node.value)
    return False


def _is_sql_column(node: ast.expr) -> bool:
    """`Model.column`: the comparison builds SQL, and the database compares HMACs by index."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id[:1].isupper()
    )


def secret_comparisons(source: str) -> list[int]:
    """Lines where `==` or `!=` compares secret material in Python rather than in SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if not isinstance(op, ast.Eq | ast.NotEq):
                continue
            if _is_sql_column(left) or _is_sql_column(right):
                continue
            if _is_secret(left) or _is_secret(right):
                found.append(node.lineno)
    return found


def test_the_checker_finds_what_it_is_for():
    """The rule below is only as good as its checker: it flags secrets compared with `==` and
    lets SQL column comparisons and `hmac.compare_digest` through."""
    flagged = """
if token == expected: pass
if stored != tokens.hash_token(canonical): pass
if hmac.new(key, raw, sha256).hexdigest() == member.api_token_hash: pass
if settings.secret_key == other: pass
"""
    allowed = """
select(Staff).where(Staff.api_token_hash == tokens.hash_token(canonical))
if hmac.compare_digest(token_hash, expected): pass
if len(token) != TOKEN_LENGTH: pass
if token is None: pass
"""
    assert secret_comparisons(flagged) == [2, 3, 4, 5]
    assert secret_comparisons(allowed) == []


def test_no_secret_is_compared_with_equals_in_python():
    """Where azctl compares a token, a key or an HMAC itself, it must use hmac.compare_digest;
    everywhere else the comparison happens in SQL, on the HMAC column."""
    package = Path(azctl.__file__).parent
    offenders = {
        f"{path.relative_to(package)}:{line}"
        for path in package.rglob("*.py")
        if "migrations" not in path.parts
        for line in secret_comparisons(path.read_text())
    }
    assert not offenders, f"compare secrets with hmac.compare_digest: {sorted(offenders)}"
