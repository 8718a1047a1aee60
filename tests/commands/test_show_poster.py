"""`azctl show edit SLUG --poster PATH|URL | --no-poster`, `--summary`, `--description`,
`--description-file PATH|-`, and how `show show` and `show list` tell of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from azctl import db
from azctl.models import Show
from tests.commands.helpers import (
    Cli,
    assert_error,
    assert_usage_error,
    json_output,
    record,
    succeeded,
    table,
)
from tests.helpers import finish, unchanged
from tests.images import encoded, opened, with_gps, write

URL = "https://www.azionelab.it/locandine/la-locandiera.jpg"


@pytest.fixture
def locandiera(cli: Cli, database_url: str) -> dict[str, object]:
    return json_output(cli("show", "add", "La Locandiera", "--summary", "Goldoni", "--json"))


def stored(engine: Engine) -> Show:
    with db.new_session(engine) as session:
        show = session.get(Show, 1)
        assert show is not None
        return show


def test_a_poster_file_is_stored_and_shown(
    cli: Cli, locandiera: dict[str, object], engine: Engine, tmp_path: Path
):
    photo = write(tmp_path, "locandina.jpg", with_gps("JPEG", (3000, 4000)))
    edited = json_output(cli("show", "edit", "la-locandiera", "--poster", str(photo), "--json"))
    show = stored(engine)
    assert show.poster_image is not None
    assert edited == {
        **locandiera,
        "poster": f"/posters/{show.poster_hash}",
        "poster_type": "image/jpeg",
        "poster_bytes": len(show.poster_image),
    }
    image = opened(show.poster_image)
    assert image.size == (1200, 1600)
    assert dict(image.getexif()) == {}

    key, fields = record(cli("show", "show", "la-locandiera"))
    assert key == "la-locandiera"
    size = round(len(show.poster_image) / 1024)
    assert fields["poster"] == f"image/jpeg, {size} KB at /posters/{show.poster_hash}"
    _header, rows = table(cli("show", "list"), title="Shows")
    assert rows == [["la-locandiera", "La Locandiera", "no", "Goldoni", f"image/jpeg, {size} KB"]]


def test_a_poster_url_replaces_the_file_and_no_poster_removes_it(
    cli: Cli, locandiera: dict[str, object], engine: Engine, tmp_path: Path
):
    succeeded(
        cli(
            "show",
            "edit",
            "la-locandiera",
            "--poster",
            str(write(tmp_path, "p.png", encoded("PNG"))),
        )
    )
    _key, fields = record(cli("show", "edit", "la-locandiera", "--poster", URL))
    assert fields["poster"] == URL
    show = stored(engine)
    assert (show.poster_url, show.poster_image, show.poster_hash) == (URL, None, None)
    _header, rows = table(cli("show", "list"), title="Shows")
    assert rows[0][-1] == URL

    removed = json_output(cli("show", "edit", "la-locandiera", "--no-poster", "--json"))
    assert (removed["poster"], removed["poster_type"], removed["poster_bytes"]) == (
        None,
        None,
        None,
    )
    assert stored(engine).poster_url is None


REFUSED_FILES = {
    "gif": ("still.gif", lambda: encoded("GIF"), "still.gif is not a PNG, JPEG or WebP image"),
    "text": ("notes.png", lambda: b"not an image\n", "notes.png is not a PNG, JPEG or WebP image"),
    "oversized": (
        "big.png",
        lambda: b"\x89PNG" + b"\0" * (8 * 1024 * 1024),
        "big.png is larger than 8 MB",
    ),
}


@pytest.mark.parametrize("case", REFUSED_FILES)
def test_a_refused_poster_changes_nothing_not_even_the_other_options(
    cli: Cli,
    locandiera: dict[str, object],
    engine: Engine,
    tmp_path: Path,
    case: str,
):
    name, make, message = REFUSED_FILES[case]
    path = write(tmp_path, name, make())
    with unchanged(engine):
        result = cli("show", "edit", "la-locandiera", "--summary", "New", "--poster", str(path))
        assert_error(result, f"poster: {message}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--poster", "http://example.org/p.jpg"], "poster: only https URLs are taken, not http"),
        (["--poster", "https://"], "poster: the URL has no host"),
        (["--poster", "missing.jpg"], "poster: cannot read missing.jpg: No such file or directory"),
        (["--summary", "bell\x07"], "summary contains control characters"),
        (["--description", "x" * 10001], "description is longer than 10000 characters"),
        (["--description", "esc\x1b[2J"], "description contains control characters"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Cli, locandiera: dict[str, object], engine: Engine, args: list[str], message: str
):
    with unchanged(engine):
        assert_error(cli("show", "edit", "la-locandiera", "--title", "Changed", *args), message)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--poster", URL, "--no-poster"], "give --poster or --no-poster, not both"),
        (
            ["--description", "x", "--description-file", "-"],
            "give --description or --description-file, not both",
        ),
    ],
)
def test_options_that_contradict_are_a_usage_error(
    cli: Cli, locandiera: dict[str, object], engine: Engine, args: list[str], needle: str
):
    with unchanged(engine):
        assert_usage_error(cli("show", "edit", "la-locandiera", *args), needle)


def test_summary_and_description_from_options(cli: Cli, locandiera: dict[str, object]):
    edited = json_output(
        cli(
            "show",
            "edit",
            "la-locandiera",
            "--summary",
            "Goldoni's comedy\nof an innkeeper",
            "--description",
            "Act one.\n\nAct two.",
            "--json",
        )
    )
    assert (edited["summary"], edited["description"]) == (
        "Goldoni's comedy of an innkeeper",
        "Act one.\n\nAct two.",
    )
    cleared = json_output(
        cli("show", "edit", "la-locandiera", "--summary", "", "--description", "", "--json")
    )
    assert (cleared["summary"], cleared["description"]) == (None, None)


def test_description_from_a_file_keeps_its_paragraphs(
    cli: Cli, locandiera: dict[str, object], tmp_path: Path
):
    text = "\ufeffMirandolina runs an inn.\r\n\r\nEvery guest falls for her.\r\n"
    path = tmp_path / "description.txt"
    path.write_bytes(text.encode())
    edited = json_output(
        cli("show", "edit", "la-locandiera", "--description-file", str(path), "--json")
    )
    assert edited["description"] == "Mirandolina runs an inn.\n\nEvery guest falls for her."


def test_description_from_stdin(cli: Cli, locandiera: dict[str, object]):
    edited = json_output(
        cli(
            "show",
            "edit",
            "la-locandiera",
            "--description-file",
            "-",
            "--json",
            input="Una locanda a Firenze.\n\nTre atti.\n",
        )
    )
    assert edited["description"] == "Una locanda a Firenze.\n\nTre atti."


def test_a_description_file_that_cannot_be_used_changes_nothing(
    cli: Cli, locandiera: dict[str, object], engine: Engine, tmp_path: Path
):
    latin1 = write(tmp_path, "latin1.txt", "Più atti".encode("latin-1"))
    huge = write(tmp_path, "huge.txt", b"x" * 30_000)
    cases = [
        (str(latin1), f"description: {latin1} is not UTF-8 text"),
        (str(huge), f"description: {huge} is too long for a description"),
        ("nowhere.txt", "description: cannot read nowhere.txt: No such file or directory"),
        (str(tmp_path), f"description: cannot read {tmp_path}: Is a directory"),
    ]
    for path, message in cases:
        with unchanged(engine):
            assert_error(
                cli("show", "edit", "la-locandiera", "--title", "X", "--description-file", path),
                message,
            )


def test_the_demo_show_has_a_summary_description_and_poster(
    cli: Cli, database_url: str, engine: Engine
):
    succeeded(cli("demo"))
    shown = json_output(cli("show", "show", "la-locandiera", "--json"))
    assert shown["summary"] == "Goldoni's comedy of an innkeeper"
    assert shown["description"].count("\n\n") == 1
    assert shown["poster"] == f"/posters/{stored(engine).poster_hash}"
    assert shown["poster_type"] == "image/jpeg"
    with db.new_session(engine) as session:
        show = session.get(Show, 1)
        assert show is not None and show.poster_image is not None
        assert opened(show.poster_image).size == (800, 1132)


def test_python_m_azctl_sets_a_poster(cli: Cli, isolated_settings: Path, tmp_path: Path):
    """As a user runs it: its own process, on the embedded SQLite default."""
    succeeded(cli("show", "add", "La Locandiera", "--publish"))
    photo = write(tmp_path, "locandina.webp", encoded("WEBP", (2400, 1200)))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AZCTL_")}
    env["AZCTL_DATA_DIR"] = str(isolated_settings)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "azctl",
            "show",
            "edit",
            "la-locandiera",
            "--poster",
            str(photo),
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = finish(process, timeout=120)
    assert (process.returncode, stderr) == (0, ""), stderr
    edited = json.loads(stdout or "")
    assert edited["poster_type"] == "image/jpeg"
    assert edited["poster"].startswith("/posters/")
    listed = json_output(cli("show", "show", "la-locandiera", "--json"))
    assert listed == edited
