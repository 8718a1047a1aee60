"""`azctl staff`: who works the door, and their API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from azctl import db
from azctl.commands.output import (
    Column,
    CsvOption,
    JsonOption,
    emit_list,
    emit_record,
    say,
    stderr,
    yes_no,
)
from azctl.services import staff

app = typer.Typer(help="Staff: add, list, disable, token.", no_args_is_help=True)

COLUMNS = [
    Column("username", "Username"),
    Column("display_name", "Name"),
    Column("role", "Role"),
    Column("is_active", "Active", yes_no),
]
UsernameArgument = Annotated[str, typer.Argument(help="The staff member's username.")]


FIELDS = ("username", "id", "display_name", "role", "is_active")


def _row(member: staff.Staff) -> dict[str, object]:
    return {
        "username": member.username,
        "id": member.id,
        "display_name": member.display_name,
        "role": member.role,
        "is_active": member.is_active,
    }


@app.command("add")
def add(
    username: UsernameArgument,
    role: Annotated[str, typer.Option(help="admin or box_office.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a staff member and print their API token, once: it is stored only as a hash.

    Example: azctl staff add anna --role box_office --name "Anna Rossi"
    """
    with db.session_scope() as session:
        member, token = staff.add_staff(session, username=username, role=role, display_name=name)
    emit_record({**_row(member), "token": token}, key="username", as_json=as_json)
    if not as_json:
        stderr.print("Keep the token now: it is not shown again (`azctl staff token` makes anew).")


@app.command("list")
def list_(as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List staff members.

    Example: azctl staff list
    """
    with db.session_scope() as session:
        rows = [_row(member) for member in staff.list_staff(session)]
    emit_list(rows, COLUMNS, as_json=as_json, as_csv=as_csv, title="Staff", fields=FIELDS)


@app.command("disable")
def disable(username: UsernameArgument) -> None:
    """Disable a staff member; their API token stops working at once.

    Example: azctl staff disable anna
    """
    with db.session_scope() as session:
        member = staff.disable_staff(session, username=username)
    say(f"Disabled {member.username}.")


@app.command("token")
def token(username: UsernameArgument, as_json: JsonOption = False) -> None:
    """Issue a new API token (the old one stops working) and print it, once.

    Example: azctl staff token anna
    """
    with db.session_scope() as session:
        member, raw = staff.issue_token(session, username=username)
    emit_record({"username": member.username, "token": raw}, key="username", as_json=as_json)
