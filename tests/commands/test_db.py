"""`azctl db upgrade|status`."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from azctl import db
from tests.commands.helpers import Cli, assert_error, json_output, record, succeeded

HEAD = db.head_revision()
EMPTY_OUTBOX = {"queued": 0, "sending": 0, "sent": 0, "failed": 0}


def shown_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def test_upgrade_of_a_migrated_database_says_it_is_up_to_date(cli: Cli, database_url: str):
    result = succeeded(cli("db", "upgrade"))
    assert result.stdout == f"{shown_url(database_url)} is up to date at revision {HEAD}.\n"
    assert result.stderr == ""


def test_status_json(cli: Cli, database_url: str):
    assert json_output(cli("db", "status", "--json")) == {
        "database": shown_url(database_url),
        "revision": HEAD,
        "head": HEAD,
        "up_to_date": True,
        "outbox": EMPTY_OUTBOX,
    }


def test_status_table_counts_the_outbox(cli: Cli, database_url: str, make_performance, book):
    book(make_performance())
    key, fields = record(cli("db", "status"))
    assert key == shown_url(database_url)
    assert fields == {
        "revision": HEAD,
        "head": HEAD,
        "up to date": "yes",
        "outbox": "queued 1, sending 0, sent 0, failed 0",
    }


def test_a_fresh_sqlite_file_is_created_and_upgraded(cli: Cli, tmp_path: Path):
    path = tmp_path / "fresh" / "box-office.db"
    env = {"AZCTL_DATABASE_URL": f"sqlite:///{path}"}

    before = json_output(cli("db", "status", "--json", env=env))
    assert before == {
        "database": f"sqlite:///{path}",
        "revision": None,
        "head": HEAD,
        "up_to_date": False,
    }

    upgraded = succeeded(cli("db", "upgrade", env=env))
    assert upgraded.stdout == f"sqlite:///{path} upgraded from empty to revision {HEAD}.\n"
    assert path.exists()

    after = json_output(cli("db", "status", "--json", env=env))
    assert after["up_to_date"] is True
    assert after["revision"] == HEAD
    assert after["outbox"] == EMPTY_OUTBOX

    again = succeeded(cli("db", "upgrade", env=env))
    assert again.stdout == f"sqlite:///{path} is up to date at revision {HEAD}.\n"


def test_the_embedded_default_lives_in_the_data_dir(cli: Cli, isolated_settings: Path):
    status = json_output(cli("db", "status", "--json"))
    assert status["database"] == f"sqlite:///{isolated_settings / 'azctl.db'}"


@pytest.fixture
def schemaless_postgres_url(postgres_engine: Engine) -> str:
    """The test PostgreSQL database seen through a search path with no azctl tables in it."""
    url = postgres_engine.url.update_query_dict({"options": "-csearch_path=azctl_no_such_schema"})
    return url.render_as_string(hide_password=False)


def test_postgres_without_the_schema_is_refused_until_upgraded(
    cli: Cli, schemaless_postgres_url: str
):
    env = {"AZCTL_DATABASE_URL": schemaless_postgres_url}
    assert_error(
        cli("venue", "list", env=env),
        f"database schema is at nothing, expected {HEAD}: run `azctl db upgrade`",
    )
    status = json_output(cli("db", "status", "--json", env=env))
    assert status["revision"] is None
    assert status["up_to_date"] is False
    assert "outbox" not in status
