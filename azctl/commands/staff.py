"""`azctl staff`: who works the door, and their API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from azctl.models import Staff

app = typer.Typer(help="Staff: add, list, disable, enable, token.", no_args_is_help=True)

COLUMNS = [
    Column("username", "Username"),
    Column("display_name", "Name"),
    Column("role", "Role"),
    Column("is_active", "Active", yes_no),
]
UsernameArgument = Annotated[str, typer.Argument(help="The staff member's username.")]


FIELDS = ("username", "id", "display_name", "role", "is_active")


def _row(member: Staff) -> dict[str, object]:
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
    from azctl import db
    from azctl.services import staff

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
    from azctl import db
    from azctl.services import staff

    with db.session_scope() as session:
        rows = [_row(member) for member in staff.list_staff(session)]
    emit_list(rows, COLUMNS, as_json=as_json, as_csv=as_csv, title="Staff", fields=FIELDS)


@app.command("disable")
def disable(username: UsernameArgument) -> None:
    """Disable a staff member; their API token stops working at once.

    Example: azctl staff disable anna
    """
    from azctl import db
    from azctl.services import staff

    with db.session_scope() as session:
        member = staff.disable_staff(session, username=username)
    say(f"Disabled {member.username}.")


@app.command("enable")
def enable(username: UsernameArgument) -> None:
    """Let a disabled staff member work again; their old API token stays void.

    Example: azctl staff enable anna && azctl staff token anna
    """
    from azctl import db
    from azctl.services import staff

    with db.session_scope() as session:
        member = staff.enable_staff(session, username=username)
    say(f"Enabled {member.username}.")
    if member.api_token_hash is None:
        stderr.print(
            f"They have no API token: `azctl staff token {member.username}` issues one.",
            markup=False,
        )


@app.command("token")
def token(username: UsernameArgument, as_json: JsonOption = False) -> None:
    """Issue a new API token (the old one stops working) and print it, once.

    Example: azctl staff token anna
    """
    from azctl import db
    from azctl.services import staff

    with db.session_scope() as session:
        member, raw = staff.issue_token(session, username=username)
    emit_record({"username": member.username, "token": raw}, key="username", as_json=as_json)
