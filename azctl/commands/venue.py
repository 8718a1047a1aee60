"""`azctl venue`: the places performances happen."""

from __future__ import annotations

from typing import Annotated

import typer

from azctl.commands.output import Column, JsonOption, emit_list, emit_record

app = typer.Typer(help="Venues: add, list, show, edit.", no_args_is_help=True)

COLUMNS = [
    Column("slug", "Slug"),
    Column("name", "Name"),
    Column("city", "City"),
    Column("address", "Address"),
]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The venue's public name.")],
    city: Annotated[str, typer.Option(help="City.")],
    address: Annotated[str | None, typer.Option(help="Street address.")] = None,
    slug: Annotated[str | None, typer.Option(help="URL slug (default: from the name).")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes for staff.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a venue; prints its slug first.

    Example: azctl venue add "Teatro Studio" --city Milano --address "Via Rivoli 6"
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        venue = catalog.add_venue(
            session, name=name, city=city, address=address, slug=slug, notes=notes
        )
        emit_record(catalog.venue_dict(venue), key="slug", as_json=as_json)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List venues.

    Example: azctl venue list --json
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        rows = [catalog.venue_dict(venue) for venue in catalog.list_venues(session)]
    emit_list(rows, COLUMNS, as_json=as_json, title="Venues")


@app.command("show")
def show(
    slug: Annotated[str, typer.Argument(help="The venue's slug.")],
    as_json: JsonOption = False,
) -> None:
    """Show one venue.

    Example: azctl venue show teatro-studio
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        venue = catalog.get_venue(session, slug=slug)
    emit_record(catalog.venue_dict(venue), key="slug", as_json=as_json)


@app.command("edit")
def edit(
    slug: Annotated[str, typer.Argument(help="The venue's slug.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    city: Annotated[str | None, typer.Option(help="New city.")] = None,
    address: Annotated[str | None, typer.Option(help="New address ('' clears it).")] = None,
    notes: Annotated[str | None, typer.Option(help="New notes ('' clears them).")] = None,
    new_slug: Annotated[str | None, typer.Option(help="A new slug.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a venue's details; only the options given change.

    Example: azctl venue edit teatro-studio --address "Via Rivoli 8"
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        venue = catalog.edit_venue(
            session,
            slug=slug,
            name=name,
            city=city,
            address=address,
            notes=notes,
            new_slug=new_slug,
        )
    emit_record(catalog.venue_dict(venue), key="slug", as_json=as_json)
