"""`azctl venue add|list|show|edit`."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from azctl.models import Venue
from tests.commands.helpers import (
    Cli,
    assert_error,
    count,
    describe,
    json_output,
    record,
    succeeded,
    table,
)
from tests.helpers import unchanged


@pytest.fixture
def studio(cli: Cli, database_url: str) -> dict[str, object]:
    return json_output(
        cli(
            "venue",
            "add",
            "Teatro Studio",
            "--city",
            "Milano",
            "--address",
            "Via Rivoli 6",
            "--notes",
            "Side door after 19:00",
            "--json",
        )
    )


def test_add_prints_the_slug_first_then_the_record(cli: Cli, database_url: str, engine: Engine):
    result = cli("venue", "add", "Teatro Studio", "--city", "Milano", "--address", "Via Rivoli 6")
    key, fields = record(result)
    assert key == "teatro-studio"
    assert fields == {
        "id": "1",
        "name": "Teatro Studio",
        "city": "Milano",
        "address": "Via Rivoli 6",
        "notes": "",
    }
    assert result.stderr == ""
    assert count(engine, Venue, slug="teatro-studio", city="Milano") == 1


def test_add_json(studio: dict[str, object]):
    assert studio == {
        "slug": "teatro-studio",
        "id": 1,
        "name": "Teatro Studio",
        "city": "Milano",
        "address": "Via Rivoli 6",
        "notes": "Side door after 19:00",
    }


def test_add_with_a_slug_of_ones_own(cli: Cli, database_url: str):
    added = json_output(
        cli(
            "venue",
            "add",
            "Cortile della Cascina",
            "--city",
            "Milano",
            "--slug",
            "Cortile",
            "--json",
        )
    )
    assert added["slug"] == "cortile"
    assert added["name"] == "Cortile della Cascina"


def test_list_table_json_and_empty(cli: Cli, database_url: str):
    empty = succeeded(cli("venue", "list"))
    assert (empty.stdout, empty.stderr) == ("", "No venues.\n")
    assert json_output(cli("venue", "list", "--json")) == []

    succeeded(cli("venue", "add", "Teatro Studio", "--city", "Milano"))
    succeeded(cli("venue", "add", "Cortile", "--city", "Milano", "--address", "Via Cuccagna 2"))
    header, rows = table(cli("venue", "list"), title="Venues")
    assert header == ["Slug", "Name", "City", "Address"]
    assert rows == [
        ["cortile", "Cortile", "Milano", "Via Cuccagna 2"],
        ["teatro-studio", "Teatro Studio", "Milano", ""],
    ]
    listed = json_output(cli("venue", "list", "--json"))
    assert [venue["slug"] for venue in listed] == ["cortile", "teatro-studio"]
    assert listed[0] == {
        "slug": "cortile",
        "id": 2,
        "name": "Cortile",
        "city": "Milano",
        "address": "Via Cuccagna 2",
        "notes": None,
    }


def test_show(cli: Cli, studio: dict[str, object]):
    assert json_output(cli("venue", "show", "teatro-studio", "--json")) == studio
    key, fields = record(cli("venue", "show", "TEATRO-STUDIO"))
    assert key == "teatro-studio"
    assert fields["address"] == "Via Rivoli 6"
    assert fields["notes"] == "Side door after 19:00"


def test_edit_changes_only_what_is_given(cli: Cli, studio: dict[str, object]):
    edited = json_output(
        cli("venue", "edit", "teatro-studio", "--address", "Via Rivoli 8", "--json")
    )
    assert edited == {**studio, "address": "Via Rivoli 8"}
    assert json_output(cli("venue", "show", "teatro-studio", "--json")) == edited


def test_edit_clears_an_optional_field_and_renames(cli: Cli, studio: dict[str, object]):
    key, fields = record(
        cli("venue", "edit", "teatro-studio", "--notes", "", "--new-slug", "studio")
    )
    assert key == "studio"
    assert fields["notes"] == ""
    assert json_output(cli("venue", "show", "studio", "--json"))["notes"] is None
    assert_error(cli("venue", "show", "teatro-studio"), "no venue with slug 'teatro-studio'")


def test_edit_to_a_taken_slug_is_refused(cli: Cli, studio: dict[str, object], engine: Engine):
    succeeded(cli("venue", "add", "Cortile", "--city", "Milano"))
    with unchanged(engine):
        assert_error(
            cli("venue", "edit", "cortile", "--name", "Renamed", "--new-slug", "teatro-studio"),
            "a venue with slug 'teatro-studio' already exists",
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["venue", "show", "nowhere"], "no venue with slug 'nowhere'"),
        (["venue", "edit", "nowhere", "--city", "Roma"], "no venue with slug 'nowhere'"),
        (["venue", "edit", "teatro-studio", "--city", " "], "city is required"),
        (
            ["venue", "add", "Elsewhere", "--city", "Milano", "--slug", "Not A Slug"],
            "slug: 'Not A Slug' must be lowercase letters, digits and single hyphens",
        ),
        (["venue", "add", "???", "--city", "Milano"], "cannot make a slug from '???': give --slug"),
        (["venue", "add", "  ", "--city", "Milano"], "name is required"),
    ],
)
def test_bad_input_is_refused(
    cli: Cli, studio: dict[str, object], engine: Engine, args: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli(*args), message)


def test_a_name_with_square_brackets_is_printed_as_typed(cli: Cli, database_url: str):
    result = cli("venue", "add", "Sala [/] Grande", "--city", "Milano")
    assert result.exception is None, describe(result)
    key, fields = record(result)
    assert (key, fields["name"]) == ("sala-grande", "Sala [/] Grande")


def test_a_city_with_a_markup_like_word_is_printed_as_typed(cli: Cli, database_url: str):
    succeeded(cli("venue", "add", "Sala Rossa", "--city", "Milano [red] zone"))
    _key, fields = record(cli("venue", "show", "sala-rossa"))
    assert fields["city"] == "Milano [red] zone"
