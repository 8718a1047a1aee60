"""`azctl waitlist`: a performance's waiting list (DESIGN §8), for the box office."""

from __future__ import annotations

from typing import Annotated

import typer

from azctl.commands.output import Column, CsvOption, JsonOption, emit_list, say, when

app = typer.Typer(help="Waiting lists: list, remove.", no_args_is_help=True)

COLUMNS = [
    Column("position", "#", justify="right"),
    Column("reference", "Reference", no_wrap=True),
    Column("name", "Name"),
    Column("email", "Email"),
    Column("party_size", "Seats", justify="right"),
    Column("status", "Status", no_wrap=True),
    Column("joined_at", "Joined", when, no_wrap=True),
    Column("offer_expires_at", "Offer until", when, no_wrap=True),
]


@app.command("list")
def list_(
    perf: Annotated[int, typer.Option("--perf", help="The performance.")],
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List a performance's waiting list in joining order, with contact details (this output
    holds personal data). Those still waiting are numbered; an open offer shows until when.

    Example: azctl waitlist list --perf 12
    """
    from azctl import db
    from azctl.services import waitlist

    with db.session_scope() as session:
        rows = [row.as_dict() for row in waitlist.list_entries(session, performance_id=perf)]
    emit_list(
        rows,
        COLUMNS,
        as_json=as_json,
        as_csv=as_csv,
        title="Waiting list",
        fields=waitlist.EntryRow.FIELDS,
    )


@app.command("remove")
def remove(
    reference: Annotated[str, typer.Argument(help="The entry's reference, e.g. AZ-7KQ4M2.")],
) -> None:
    """Take a party off a waiting list; seats held by its open offer go to the next round.

    Example: azctl waitlist remove AZ-7KQ4M2
    """
    from azctl import db
    from azctl.services import waitlist

    with db.session_scope() as session:
        entry = waitlist.remove(session, reference=reference)
    say(f"Removed {entry.reference} from the waiting list.")
