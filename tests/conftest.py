"""Fixtures shared by every test: an isolated data dir and settings, and a migrated database on
SQLite and on PostgreSQL (from AZCTL_TEST_DATABASE_URL), each test starting from empty tables."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from azctl import db
from azctl.models import Performance, Staff
from azctl.services import booking, catalog, staff, times
from azctl.settings import get_settings, reload_settings

PG_URL = os.environ.get("AZCTL_TEST_DATABASE_URL")
PG_MISSING = (
    "PostgreSQL tests skipped: AZCTL_TEST_DATABASE_URL is not set (bash .ci/run sets it up)"
)
SECRET = "test-secret-key"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data dir and a fixed key; nothing leaks from the real user."""
    for name in list(os.environ):
        if name.startswith("AZCTL_") and name != "AZCTL_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("AZCTL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AZCTL_SECRET_KEY", SECRET)
    monkeypatch.setenv("AZCTL_TIMEZONE", "Europe/Rome")
    # Tests read back at once what they just wrote; tests/http/test_cache.py turns it back on.
    monkeypatch.setenv("AZCTL_PUBLIC_CACHE_SECONDS", "0")
    # The theatre's default is Italian (it,en); tests written in English read English unless they
    # ask for Italian, and the language tests set what they need.
    monkeypatch.setenv("AZCTL_LANGUAGES", "en,it")
    reload_settings()
    yield data_dir
    db.dispose_engines()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once by Alembic; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "azctl.db"
    engine = db.create_engine(f"sqlite:///{path}")
    db.migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The throwaway PostgreSQL database, in a schema of this run's own, migrated once.

    A schema per run lets two test runs share one database without touching each other.
    """
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but AZCTL_TEST_DATABASE_URL is not set")
        pytest.skip(PG_MISSING)
    schema = f"azctl_test_{os.getpid()}"
    admin = db.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = db.create_engine(
        url.render_as_string(hide_password=False), pool_size=50, max_overflow=10
    )
    db.migrate(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.dispose()


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
) -> str:
    """An empty, migrated database, also set as AZCTL_DATABASE_URL for the front ends."""
    if request.param == "sqlite":
        path = tmp_path / "azctl.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        engine = request.getfixturevalue("postgres_engine")
        _truncate(engine)
        url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("AZCTL_DATABASE_URL", url)
    reload_settings()
    return url


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def engine(database_url: str) -> Engine:
    return db.get_engine(database_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.new_session(engine) as session:
        yield session


@pytest.fixture
def make_performance(session: Session) -> Callable[..., Performance]:
    """Makes performances of a published show (created on first use), `starts_in` from now."""
    made: dict[str, str] = {}

    def make(
        *,
        capacity: int = 50,
        starts_in: timedelta = timedelta(hours=2),
        published: bool = True,
        additional: int = 0,
        manual: int = 0,
        show_slug: str | None = None,
    ) -> Performance:
        if "venue" not in made:
            made["venue"] = catalog.add_venue(session, name="Teatro Studio", city="Milano").slug
        slug = show_slug or ("open-show" if published else "hidden-show")
        if slug not in made:
            made[slug] = catalog.add_show(
                session, title=slug.replace("-", " ").title(), slug=slug, publish=published
            ).slug
        return catalog.add_performance(
            session,
            show_slug=slug,
            venue_slug=made["venue"],
            starts_at=times.now_utc().replace(second=0, microsecond=0) + starts_in,
            room_capacity=capacity,
            additional_seats=additional,
            manually_occupied_seats=manual,
        )

    return make


@pytest.fixture
def book(session: Session) -> Callable[..., booking.SubmittedBooking]:
    counter = iter(range(1, 100000))

    def make(
        performance: Performance, party_size: int = 2, **fields: str
    ) -> booking.SubmittedBooking:
        number = next(counter)
        assert performance.id is not None
        return booking.submit_booking(
            session,
            performance_id=performance.id,
            name=fields.pop("name", f"Visitor {number}"),
            email=fields.pop("email", f"visitor{number}@example.org"),
            party_size=party_size,
            **fields,
        )

    return make


@pytest.fixture
def confirmed(
    session: Session, book: Callable[..., booking.SubmittedBooking]
) -> Callable[..., booking.ConfirmedBooking]:
    def make(
        performance: Performance, party_size: int = 2, **fields: str
    ) -> booking.ConfirmedBooking:
        submitted = book(performance, party_size, **fields)
        return booking.confirm_booking(session, token=submitted.confirm_token)

    return make


@pytest.fixture
def make_staff(session: Session) -> Callable[..., tuple[Staff, str]]:
    """Adds a staff member; returns the member and the raw API token shown once."""

    def make(username: str = "anna", role: str = "box_office", **fields: str) -> tuple[Staff, str]:
        return staff.add_staff(session, username=username, role=role, **fields)

    return make


def count_rows(engine: Engine, table: type[SQLModel]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
