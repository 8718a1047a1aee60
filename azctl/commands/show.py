"""`azctl show`: the productions the company plays."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from azctl.commands.output import Column, JsonOption, emit_list, emit_record, yes_no

app = typer.Typer(help="Shows: add, list, show, edit, publish, unpublish.", no_args_is_help=True)

COLUMNS = [
    Column("slug", "Slug"),
    Column("title", "Title"),
    Column("is_published", "Published", yes_no),
    Column("summary", "Summary"),
    Column("poster", "Poster"),
]
SlugArgument = Annotated[str, typer.Argument(help="The show's slug.")]
# What --description-file reads at most: the longest description, even if every line ends in CR LF.
MAX_DESCRIPTION_FILE_CHARS = 2 * 10000


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{round(count / 1024)} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _for_people(record: dict[str, Any], *, where: bool = True) -> dict[str, Any]:
    """The record as a table shows it: the poster in one cell (`image/jpeg, 183 KB` and, with
    `where`, the address it is served at; or its URL); --json keeps the separate keys."""
    shown = {key: value for key, value in record.items() if not key.startswith("poster_")}
    if record["poster_bytes"] is not None:
        stored = f"{record['poster_type']}, {_size(record['poster_bytes'])}"
        shown["poster"] = f"{stored} at {record['poster']}" if where else stored
    return shown


def _emit(record: dict[str, Any], *, as_json: bool) -> None:
    emit_record(record if as_json else _for_people(record), key="slug", as_json=as_json)


def _read_text(path: str, *, field: str, limit: int) -> str:
    """The UTF-8 text of the file at `path`, or of stdin for `-`; at most `limit` characters are
    read (what is longer than that is too long anyway)."""
    from azctl import errors

    name = "stdin" if path == "-" else path
    try:
        if path == "-":
            text = typer.get_text_stream("stdin").read(limit + 1)
        else:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read(limit + 1)
        text.encode()  # a terminal's undecodable bytes arrive as lone surrogates
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise errors.InvalidInput(field, f"{field}: {name} is not UTF-8 text") from None
    except OSError as exc:
        raise errors.InvalidInput(
            field, f"{field}: cannot read {name}: {exc.strerror or exc}"
        ) from None
    if len(text) > limit:
        raise errors.InvalidInput(field, f"{field}: {name} is too long for a description")
    return text


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
        record = catalog.show_dict(created)
    _emit(record, as_json=as_json)


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
    shown = rows if as_json else [_for_people(row, where=False) for row in rows]
    emit_list(shown, COLUMNS, as_json=as_json, title="Shows")


@app.command("show")
def show(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Show one show.

    Example: azctl show show la-locandiera --json
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        record = catalog.show_dict(catalog.get_show(session, slug=slug))
    _emit(record, as_json=as_json)


@app.command("edit")
def edit(
    slug: SlugArgument,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    summary: Annotated[str | None, typer.Option(help="New summary ('' clears it).")] = None,
    description: Annotated[
        str | None,
        typer.Option(help="New description: plain text, paragraphs split by a blank line."),
    ] = None,
    description_file: Annotated[
        str | None,
        typer.Option(metavar="PATH", help="Read the description from a file ('-': stdin)."),
    ] = None,
    poster: Annotated[
        str | None,
        typer.Option(
            metavar="PATH|URL",
            help="A PNG, JPEG or WebP file of at most 8 MB (scaled to 1200 px wide, its"
            " metadata removed), or the https URL of an image.",
        ),
    ] = None,
    no_poster: Annotated[bool, typer.Option("--no-poster", help="Remove the poster.")] = False,
    new_slug: Annotated[str | None, typer.Option(help="A new slug.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a show's details; only the options given change; nothing does if one is refused.

    Example: azctl show edit la-locandiera --summary "Goldoni, new staging" --poster poster.jpg
    """
    if description is not None and description_file is not None:
        raise typer.BadParameter("give --description or --description-file, not both")
    if poster is not None and no_poster:
        raise typer.BadParameter("give --poster or --no-poster, not both")
    from azctl import db
    from azctl.services import catalog, posters

    if description_file is not None:
        description = _read_text(
            description_file, field="description", limit=MAX_DESCRIPTION_FILE_CHARS
        )
    chosen = posters.from_source(poster) if poster is not None else None
    with db.session_scope() as session:
        changed = catalog.edit_show(
            session,
            slug=slug,
            title=title,
            summary=summary,
            description=description,
            new_slug=new_slug,
            poster=chosen,
            remove_poster=no_poster,
        )
        record = catalog.show_dict(changed)
    _emit(record, as_json=as_json)


@app.command("publish")
def publish(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Make a show and its performances visible to visitors.

    Example: azctl show publish la-locandiera
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        record = catalog.show_dict(catalog.set_published(session, slug=slug, published=True))
    _emit(record, as_json=as_json)


@app.command("unpublish")
def unpublish(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Hide a show from visitors (bookings already made stay).

    Example: azctl show unpublish la-locandiera
    """
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        record = catalog.show_dict(catalog.set_published(session, slug=slug, published=False))
    _emit(record, as_json=as_json)
