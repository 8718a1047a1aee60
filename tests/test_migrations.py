"""Alembic owns the schema: its migrations build exactly the tables the models describe."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from azctl import db, errors
from tests.conftest import PG_MISSING, PG_URL

SCHEMA = f"azctl_migration_test_{os.getpid()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = db.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but AZCTL_TEST_DATABASE_URL is not set")
        pytest.skip(PG_MISSING)
    admin = db.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    engine = db.create_engine(PG_URL, connect_args={"options": f"-csearch_path={SCHEMA}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    admin.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_builds_exactly_the_models(empty_engine: Engine) -> None:
    assert db.current_revision(empty_engine) is None
    assert db.migrate(empty_engine) == db.head_revision()
    assert db.current_revision(empty_engine) == db.head_revision()
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert _tables(empty_engine) == {t.name for t in SQLModel.metadata.sorted_tables} | {
        "alembic_version"
    }


def test_downgrade_to_nothing_and_back(empty_engine: Engine) -> None:
    db.migrate(empty_engine)
    command.downgrade(db.alembic_config(empty_engine), "base")
    assert _tables(empty_engine) <= {"alembic_version"}
    db.migrate(empty_engine)
    assert "reservation" in _tables(empty_engine)


def test_migrate_twice_changes_nothing(empty_engine: Engine) -> None:
    db.migrate(empty_engine)
    before = _tables(empty_engine)
    db.migrate(empty_engine)
    assert _tables(empty_engine) == before


def test_check_schema_refuses_an_unmigrated_database(empty_engine: Engine) -> None:
    with pytest.raises(errors.DatabaseNotReady, match="azctl db upgrade"):
        db.check_schema(empty_engine)
    db.migrate(empty_engine)
    db.check_schema(empty_engine)


def test_embedded_sqlite_upgrades_itself_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'first.db'}"
    engine = db.get_engine(url)
    assert db.current_revision(engine) == db.head_revision()
    assert (tmp_path / "nested" / "first.db").exists()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
