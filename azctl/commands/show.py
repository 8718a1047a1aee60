"""`azctl show`: the productions the company plays."""

from __future__ import annotations

from typing import Annotated

import typer

from azctl.commands.output import Column, JsonOption, emit_list, emit_record, yes_no

app = typer.Typer(help="Shows: add, list, show, edit, publish, unpublish.", no_args_is_help=True)

COLUMNS = [
    Column("slug", "Slug"),
    Column("title", "Title"),
    Column("is_published", "Published", yes_no),
    Column("summary", "Summary"),
]
SlugArgument = Annotated[str, typer.Argument(help="The show's slug.")]


@app.command("add")
def add(
    title: Annotated[str, typer.Argument(help="The show's public title.")],
    slug: Annotated[str | None, typer.Option(help="URL slug (default: from the title).")] = None,
    summary: Annotated[str | None, typer.Option(help="One line for listings.")] = None,
    description: Annotated[str | None, typer.Option(help="The full description.")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Make it public at once.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a show (unpublished unless --publish); prints its slug first.

    Example: azctl show add "La Locandiera" --summary "Goldoni's comedy" --publish
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        created = catalog.add_show(
            session,
            title=title,
            slug=slug,
            summary=summary,
            description=description,
            publish=publish,
        )
    emit_record(catalog.show_dict(created), key="slug", as_json=as_json)


@app.command("list")
def list_(
    published: Annotated[bool, typer.Option("--published", help="Only published shows.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List shows.

    Example: azctl show list --published --json
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        rows = [
            catalog.show_dict(item)
            for item in catalog.list_shows(session, published_only=published)
        ]
    emit_list(rows, COLUMNS, as_json=as_json, title="Shows")


@app.command("show")
def show(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Show one show.

    Example: azctl show show la-locandiera --json
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        found = catalog.get_show(session, slug=slug)
    emit_record(catalog.show_dict(found), key="slug", as_json=as_json)


@app.command("edit")
def edit(
    slug: SlugArgument,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    summary: Annotated[str | None, typer.Option(help="New summary ('' clears it).")] = None,
    description: Annotated[str | None, typer.Option(help="New description ('' clears it).")] = None,
    new_slug: Annotated[str | None, typer.Option(help="A new slug.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a show's details; only the options given change.

    Example: azctl show edit la-locandiera --summary "Goldoni, new staging"
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        changed = catalog.edit_show(
            session,
            slug=slug,
            title=title,
            summary=summary,
            description=description,
            new_slug=new_slug,
        )
    emit_record(catalog.show_dict(changed), key="slug", as_json=as_json)


@app.command("publish")
def publish(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Make a show and its performances visible to visitors.

    Example: azctl show publish la-locandiera
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        changed = catalog.set_published(session, slug=slug, published=True)
    emit_record(catalog.show_dict(changed), key="slug", as_json=as_json)


@app.command("unpublish")
def unpublish(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Hide a show from visitors (bookings already made stay).

    Example: azctl show unpublish la-locandiera
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        changed = catalog.set_published(session, slug=slug, published=False)
    emit_record(catalog.show_dict(changed), key="slug", as_json=as_json)
