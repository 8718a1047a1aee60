"""`db.is_current`: what lets a command skip loading Alembic must agree with Alembic itself."""

from __future__ import annotations

from pathlib import Path

from azctl import db


def test_the_newest_revision_on_file_is_alembics_head():
    assert db._newest_revision_on_file() == db.head_revision()


def test_only_a_database_at_the_head_is_current(tmp_path: Path):
    engine = db.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert not db.is_current(engine)  # empty: no alembic_version table at all
        db.migrate(engine)
        assert db.is_current(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
        assert not db.is_current(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM alembic_version")
        assert not db.is_current(engine)
    finally:
        engine.dispose()


def test_get_engine_still_migrates_a_fresh_embedded_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    try:
        assert db.is_current(db.get_engine(url))
    finally:
        db.dispose_engines()
