"""`azctl staff add|list|disable|enable|token`: the API token is shown once and stored only as
a hash."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy.engine import Engine

from azctl import db, errors
from azctl.services import staff, tokens
from tests.commands.helpers import Cli, assert_error, json_output, record, succeeded, table
from tests.helpers import snapshot, unchanged

TOKEN = re.compile(r"[0-9A-HJKMNP-TV-Z]{32}")
STAFF_FIELDS = ["username", "id", "display_name", "role", "is_active"]


def authenticated(engine: Engine, token: str) -> str:
    with db.new_session(engine) as session:
        return staff.authenticate(session, token=token).username


def is_refused(engine: Engine, token: str) -> bool:
    with db.new_session(engine) as session:
        try:
            staff.authenticate(session, token=token)
        except errors.Unauthorized:
            return True
        return False


def stored_anywhere(engine: Engine, text: str) -> list[str]:
    """The tables in which any cell holds `text`."""
    return [
        name
        for name, rows in snapshot(engine).items()
        if any(text in str(cell) for row in rows for cell in row)
    ]


@pytest.fixture
def anna_token(cli: Cli, database_url: str) -> str:
    added = json_output(
        cli("staff", "add", "anna", "--role", "box_office", "--name", "Anna Colombo", "--json")
    )
    return added["token"]


def test_add_prints_the_username_first_and_the_token_once(cli: Cli, database_url: str, engine):
    result = cli("staff", "add", "Anna", "--role", "box_office", "--name", "Anna Colombo")
    key, fields = record(result)
    assert key == "anna"
    token = fields.pop("token")
    assert TOKEN.fullmatch(token)
    assert fields == {
        "id": "1",
        "display name": "Anna Colombo",
        "role": "box_office",
        "is active": "yes",
    }
    assert result.stderr == (
        "Keep the token now: it is not shown again (`azctl staff token` makes anew).\n"
    )
    assert authenticated(engine, token) == "anna"


def test_add_json(cli: Cli, database_url: str, engine: Engine):
    added = json_output(cli("staff", "add", "admin", "--role", "admin", "--json"))
    token = added.pop("token")
    assert TOKEN.fullmatch(token)
    assert added == {
        "username": "admin",
        "id": 1,
        "display_name": "admin",
        "role": "admin",
        "is_active": True,
    }
    assert authenticated(engine, token) == "admin"


def test_the_token_is_stored_only_as_its_hash(cli: Cli, anna_token: str, engine: Engine):
    assert stored_anywhere(engine, anna_token) == []
    with db.new_session(engine) as session:
        member = staff.get_staff(session, username="anna")
    assert member.api_token_hash == tokens.hash_token(anna_token)
    assert stored_anywhere(engine, member.api_token_hash) == ["staff"]


def test_list_table_json_and_csv(cli: Cli, anna_token: str):
    succeeded(cli("staff", "add", "admin", "--role", "admin", "--name", "Box office admin"))
    succeeded(cli("staff", "disable", "admin"))
    header, rows = table(cli("staff", "list"), title="Staff")
    assert header == ["Username", "Name", "Role", "Active"]
    assert rows == [
        ["admin", "Box office admin", "admin", "no"],
        ["anna", "Anna Colombo", "box_office", "yes"],
    ]
    assert json_output(cli("staff", "list", "--json")) == [
        {
            "username": "admin",
            "id": 2,
            "display_name": "Box office admin",
            "role": "admin",
            "is_active": False,
        },
        {
            "username": "anna",
            "id": 1,
            "display_name": "Anna Colombo",
            "role": "box_office",
            "is_active": True,
        },
    ]
    result = succeeded(cli("staff", "list", "--csv"))
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == STAFF_FIELDS
    assert list(reader) == [
        {
            "username": "admin",
            "id": "2",
            "display_name": "Box office admin",
            "role": "admin",
            "is_active": "false",
        },
        {
            "username": "anna",
            "id": "1",
            "display_name": "Anna Colombo",
            "role": "box_office",
            "is_active": "true",
        },
    ]
    assert anna_token not in result.stdout


def test_list_when_there_are_none(cli: Cli, database_url: str):
    result = succeeded(cli("staff", "list"))
    assert (result.stdout, result.stderr) == ("", "No staff.\n")
    assert json_output(cli("staff", "list", "--json")) == []


def test_disable_voids_the_token_at_once(cli: Cli, anna_token: str, engine: Engine):
    result = succeeded(cli("staff", "disable", "ANNA"))
    assert (result.stdout, result.stderr) == ("Disabled anna.\n", "")
    assert is_refused(engine, anna_token)
    assert json_output(cli("staff", "list", "--json"))[0]["is_active"] is False
    with unchanged(engine):
        assert_error(cli("staff", "token", "anna"), "staff member 'anna' is disabled")


def test_enable_lets_a_disabled_member_work_again_with_a_new_token(
    cli: Cli, anna_token: str, engine: Engine
):
    succeeded(cli("staff", "disable", "anna"))
    result = succeeded(cli("staff", "enable", "Anna"))
    assert (result.stdout, result.stderr) == (
        "Enabled anna.\n",
        "They have no API token: `azctl staff token anna` issues one.\n",
    )
    assert json_output(cli("staff", "list", "--json"))[0]["is_active"] is True
    assert is_refused(engine, anna_token)  # the token voided on disabling stays void
    issued = json_output(cli("staff", "token", "anna", "--json"))
    assert authenticated(engine, issued["token"]) == "anna"


def test_enabling_an_active_member_changes_nothing(cli: Cli, anna_token: str, engine: Engine):
    with unchanged(engine):
        result = succeeded(cli("staff", "enable", "anna"))
    assert (result.stdout, result.stderr) == ("Enabled anna.\n", "")
    assert authenticated(engine, anna_token) == "anna"


def test_token_replaces_the_old_one(cli: Cli, anna_token: str, engine: Engine):
    key, fields = record(cli("staff", "token", "anna"))
    assert key == "anna"
    new_token = fields["token"]
    assert TOKEN.fullmatch(new_token)
    assert new_token != anna_token
    assert is_refused(engine, anna_token)
    assert authenticated(engine, new_token) == "anna"

    issued = json_output(cli("staff", "token", "anna", "--json"))
    assert list(issued) == ["username", "token"]
    assert issued["username"] == "anna"
    assert is_refused(engine, new_token)
    assert authenticated(engine, issued["token"]) == "anna"
    assert stored_anywhere(engine, issued["token"]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["staff", "add", "anna", "--role", "admin"], "staff member 'anna' already exists"),
        (
            ["staff", "add", "carla", "--role", "boss"],
            "role must be admin or box_office, got 'boss'",
        ),
        (
            ["staff", "add", "Carla Rossi", "--role", "admin"],
            "username 'Carla Rossi': use lowercase letters, digits, '.', '_' or '-'",
        ),
        (["staff", "disable", "carla"], "no staff member 'carla'"),
        (["staff", "token", "carla"], "no staff member 'carla'"),
        (["staff", "enable", "carla"], "no staff member 'carla'"),
    ],
)
def test_bad_input_is_refused(
    cli: Cli, anna_token: str, engine: Engine, args: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli(*args), message)


def test_csv_header_does_not_depend_on_there_being_rows(cli: Cli, database_url: str):
    assert succeeded(cli("staff", "list", "--csv")).stdout == ",".join(STAFF_FIELDS) + "\n"
