"""`azctl show add|list|show|edit|publish|unpublish`."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.commands.helpers import Cli, assert_error, json_output, record, succeeded, table
from tests.helpers import unchanged


@pytest.fixture
def locandiera(cli: Cli, database_url: str) -> dict[str, object]:
    return json_output(
        cli(
            "show",
            "add",
            "La Locandiera",
            "--summary",
            "Goldoni's comedy",
            "--description",
            "Mirandolina runs an inn.",
            "--json",
        )
    )


def test_add_json_is_unpublished_unless_asked(locandiera: dict[str, object]):
    assert locandiera == {
        "slug": "la-locandiera",
        "id": 1,
        "title": "La Locandiera",
        "summary": "Goldoni's comedy",
        "description": "Mirandolina runs an inn.",
        "is_published": False,
        "poster": None,
        "poster_type": None,
        "poster_bytes": None,
    }


def test_add_prints_the_slug_first(cli: Cli, database_url: str):
    result = cli("show", "add", "Il servitore di due padroni (2026)", "--publish")
    key, fields = record(result)
    assert key == "il-servitore-di-due-padroni-2026"
    assert fields == {
        "id": "1",
        "title": "Il servitore di due padroni (2026)",
        "summary": "",
        "description": "",
        "is published": "yes",
        "poster": "",
    }
    assert result.stderr == ""


def test_add_with_a_slug_of_ones_own(cli: Cli, database_url: str):
    added = json_output(cli("show", "add", "Aspettando Godot", "--slug", "godot", "--json"))
    assert (added["slug"], added["title"]) == ("godot", "Aspettando Godot")


def test_list_table_json_and_published_only(cli: Cli, locandiera: dict[str, object]):
    succeeded(cli("show", "add", "Aspettando Godot", "--publish", "--summary", "Two tramps"))
    header, rows = table(cli("show", "list"), title="Shows")
    assert header == ["Slug", "Title", "Published", "Summary", "Poster"]
    assert rows == [
        ["aspettando-godot", "Aspettando Godot", "yes", "Two tramps", ""],
        ["la-locandiera", "La Locandiera", "no", "Goldoni's comedy", ""],
    ]
    listed = json_output(cli("show", "list", "--json"))
    assert [show["slug"] for show in listed] == ["aspettando-godot", "la-locandiera"]
    assert listed[1] == locandiera
    published = json_output(cli("show", "list", "--published", "--json"))
    assert [show["slug"] for show in published] == ["aspettando-godot"]


def test_list_when_there_are_none(cli: Cli, database_url: str):
    result = succeeded(cli("show", "list"))
    assert (result.stdout, result.stderr) == ("", "No shows.\n")
    assert json_output(cli("show", "list", "--published", "--json")) == []


def test_show(cli: Cli, locandiera: dict[str, object]):
    assert json_output(cli("show", "show", "la-locandiera", "--json")) == locandiera
    key, fields = record(cli("show", "show", "la-locandiera"))
    assert key == "la-locandiera"
    assert fields["description"] == "Mirandolina runs an inn."
    assert fields["is published"] == "no"


def test_edit_changes_only_what_is_given(cli: Cli, locandiera: dict[str, object]):
    edited = json_output(
        cli("show", "edit", "la-locandiera", "--title", "La Locandiera (2026)", "--json")
    )
    assert edited == {**locandiera, "title": "La Locandiera (2026)"}


def test_edit_clears_and_renames(cli: Cli, locandiera: dict[str, object]):
    key, fields = record(
        cli("show", "edit", "la-locandiera", "--summary", "", "--new-slug", "locandiera")
    )
    assert key == "locandiera"
    assert fields["summary"] == ""
    assert json_output(cli("show", "show", "locandiera", "--json"))["summary"] is None


def test_publish_and_unpublish(cli: Cli, locandiera: dict[str, object]):
    key, fields = record(cli("show", "publish", "la-locandiera"))
    assert (key, fields["is published"]) == ("la-locandiera", "yes")
    assert json_output(cli("show", "show", "la-locandiera", "--json"))["is_published"] is True
    unpublished = json_output(cli("show", "unpublish", "la-locandiera", "--json"))
    assert unpublished == locandiera
    assert json_output(cli("show", "publish", "la-locandiera", "--json"))["is_published"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "show", "hamlet"], "no show with slug 'hamlet'"),
        (["show", "edit", "hamlet", "--title", "Amleto"], "no show with slug 'hamlet'"),
        (["show", "publish", "hamlet"], "no show with slug 'hamlet'"),
        (["show", "unpublish", "hamlet"], "no show with slug 'hamlet'"),
        (["show", "add", "La Locandiera"], "a show with slug 'la-locandiera' already exists"),
        (
            ["show", "add", "Another", "--slug", "la-locandiera"],
            "a show with slug 'la-locandiera' already exists",
        ),
        (["show", "edit", "la-locandiera", "--title", ""], "title is required"),
        (
            ["show", "add", "Amleto", "--summary", "x" * 501],
            "summary is longer than 500 characters",
        ),
    ],
)
def test_bad_input_is_refused(
    cli: Cli, locandiera: dict[str, object], engine: Engine, args: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli(*args), message)


def test_a_title_with_a_markup_like_word_is_printed_as_typed(cli: Cli, database_url: str):
    key, fields = record(cli("show", "add", "Ubu [bold] re", "--slug", "ubu"))
    assert (key, fields["title"]) == ("ubu", "Ubu [bold] re")
