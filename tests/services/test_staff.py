"""Staff: API tokens shown once and stored hashed, authentication, disabling and re-issuing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from azctl import db, errors
from azctl.models import Staff
from azctl.services import staff, tokens
from tests.conftest import count_rows
from tests.services.helpers import fresh, refused, stored_text


def test_add_staff_returns_the_token_once_and_stores_only_its_hash(session, engine):
    member, raw = staff.add_staff(
        session, username=" Anna ", role="box_office", display_name="Anna Verdi"
    )
    stored = fresh(engine, Staff, member.id)
    assert (stored.username, stored.display_name, stored.role, stored.is_active) == (
        "anna",
        "Anna Verdi",
        "box_office",
        True,
    )
    assert len(raw) == tokens.TOKEN_LENGTH
    assert set(raw) <= set(tokens.ALPHABET)
    assert stored.api_token_hash == tokens.hash_token(raw)
    assert not any(raw in value.upper() for value in stored_text(engine))
    assert not hasattr(stored, "api_token")


def test_display_name_defaults_to_the_username(session, engine):
    member, _ = staff.add_staff(session, username="bruno", role="admin")
    assert fresh(engine, Staff, member.id).display_name == "bruno"


def test_authenticate_finds_the_active_member(session):
    member, raw = staff.add_staff(session, username="anna", role="box_office")
    staff.add_staff(session, username="bruno", role="admin")
    assert staff.authenticate(session, token=raw).id == member.id
    assert staff.authenticate(session, token=f"  {raw.lower()} ").id == member.id


def test_authenticate_without_a_usable_token_is_unauthorized(session, subtests):
    staff.add_staff(session, username="anna", role="box_office")
    for token in (None, "", "Bearer", "not a token", "AZ-1234"):
        with subtests.test(token=token):
            with pytest.raises(errors.Unauthorized) as info:
                staff.authenticate(session, token=token)
            assert info.value.code == "unauthorized"
            assert info.value.status == 401


def test_authenticate_with_an_unknown_or_ticket_token_is_unauthorized(
    session, make_performance, confirmed
):
    staff.add_staff(session, username="anna", role="box_office")
    ticket = confirmed(make_performance(capacity=5), 1).ticket_token
    for token in (tokens.new_token(), ticket):
        with pytest.raises(errors.Unauthorized):
            staff.authenticate(session, token=token)


def test_disable_voids_the_token_at_once(session, engine):
    member, raw = staff.add_staff(session, username="anna", role="box_office")
    staff.disable_staff(session, username="ANNA")
    stored = fresh(engine, Staff, member.id)
    assert (stored.is_active, stored.api_token_hash) == (False, None)
    with pytest.raises(errors.Unauthorized):
        staff.authenticate(session, token=raw)
    with refused(engine, errors.InvalidState, "invalid_state"):
        staff.active_staff(session, username="anna")
    with refused(engine, errors.InvalidState, "invalid_state"):
        staff.issue_token(session, username="anna")


def test_a_disabled_member_whose_hash_survived_is_still_refused(session, engine):
    member, raw = staff.add_staff(session, username="anna", role="box_office")
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET is_active = :no WHERE id = :id"),
            {"no": False, "id": member.id},
        )
    # As a request would: a session of its own, with no earlier copy of the member in it.
    with db.new_session(engine) as request, pytest.raises(errors.Unauthorized):
        staff.authenticate(request, token=raw)


def test_issue_token_replaces_the_old_one(session, engine):
    member, old = staff.add_staff(session, username="anna", role="box_office")
    _same, new = staff.issue_token(session, username="anna")
    assert new != old
    assert fresh(engine, Staff, member.id).api_token_hash == tokens.hash_token(new)
    assert staff.authenticate(session, token=new).id == member.id
    with pytest.raises(errors.Unauthorized):
        staff.authenticate(session, token=old)


def test_invalid_staff_input_is_refused(session, engine, subtests):
    for fields, field in (
        ({"username": "Anna Verdi", "role": "admin"}, "username"),
        ({"username": "", "role": "admin"}, "username"),
        ({"username": "-anna", "role": "admin"}, "username"),
        ({"username": "a" * 65, "role": "admin"}, "username"),
        ({"username": "anna", "role": "director"}, "role"),
        ({"username": "anna", "role": "admin", "display_name": "x" * 201}, "name"),
    ):
        with subtests.test(fields=fields):
            with refused(engine, errors.InvalidInput, "invalid_input") as info:
                staff.add_staff(session, **fields)
            assert info.value.field == field
    assert count_rows(engine, Staff) == 0


def test_a_taken_username_is_a_conflict(session, engine):
    member, raw = staff.add_staff(session, username="anna", role="box_office")
    with refused(engine, errors.Conflict, "conflict"):
        staff.add_staff(session, username="ANNA", role="admin")
    assert count_rows(engine, Staff) == 1
    assert staff.authenticate(session, token=raw).id == member.id


def test_unknown_staff_is_not_found(session, engine):
    with refused(engine, errors.NotFound, "not_found"):
        staff.disable_staff(session, username="ghost")
    with refused(engine, errors.NotFound, "not_found"):
        staff.issue_token(session, username="ghost")
    with pytest.raises(errors.NotFound):
        staff.active_staff(session, username="ghost")


def test_list_staff_in_username_order(session):
    staff.add_staff(session, username="zeno", role="admin")
    staff.add_staff(session, username="anna", role="box_office")
    assert [m.username for m in staff.list_staff(session)] == ["anna", "zeno"]


def test_staff_role_check_constraint_holds_against_direct_writes(session, engine):
    member, _ = staff.add_staff(session, username="anna", role="box_office")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET role = 'director' WHERE id = :id"), {"id": member.id}
        )
    assert fresh(engine, Staff, member.id).role == "box_office"
