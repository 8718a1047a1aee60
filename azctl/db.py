"""Engines, sessions, the dialect-aware write lock, and schema migration.

PostgreSQL serialises confirmations with `SELECT … FOR UPDATE` on the performance row. SQLite has
no row locks, so every write use case opens its transaction with `BEGIN IMMEDIATE`: the database's
one write lock, taken before the first read, so a read-then-write never trips over a stale snapshot.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from azctl import errors
from azctl.models import Performance
from azctl.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

_WRITE_OPTION = "azctl_write"
_WRITING = "azctl_writing"
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with azctl's connection rules (WAL, foreign keys, BEGIN control).

    Statement parameters are visitors' details and raw tokens (in queued mail): they are kept
    out of SQLAlchemy's statement log and out of the text of its errors, which get logged.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    # A database behind a dropped network must fail a call within seconds, not hang it: the
    # door goes offline on a failure (DESIGN §10), and a thread stuck on a dead socket would
    # hold a pooled connection for the kernel's two hours. Connecting gives up after 3 s; a
    # socket whose data goes unacknowledged for 6 s, or silent under keepalives, is closed.
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", 3)
    connect_args.setdefault("keepalives", 1)
    connect_args.setdefault("keepalives_idle", 5)
    connect_args.setdefault("keepalives_interval", 2)
    connect_args.setdefault("keepalives_count", 2)
    connect_args.setdefault("tcp_user_timeout", 6000)
    return sa.create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand BEGIN over to SQLAlchemy (see _on_begin); the driver's own is deferred and lazy.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for `url` (default: the configured database), migrated if embedded."""
    url = url or get_settings().effective_database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(url)
            try:
                if not is_current(engine):
                    if url.startswith("sqlite"):
                        migrate(engine)
                    else:
                        check_schema(engine)
            except Exception:
                engine.dispose()
                raise
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and forks that must not share sockets)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def read_only(engine: Engine) -> Engine:
    """`engine` for work that only reads: autocommit on PostgreSQL, each statement its own
    snapshot, with no BEGIN or ROLLBACK round trip. SQLite, in-process, stays as it is.
    `write()` refuses a session on it: a use case that writes needs its one transaction."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def new_session(engine: Engine | None = None) -> Session:
    """A session whose objects stay readable after commit, for front ends to display."""
    return Session(engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    with new_session(engine) as session:
        yield session


@contextmanager
def write(session: Session) -> Iterator[Session]:
    """One write use case: its transaction, committed on success and rolled back whole on error.

    On SQLite the database's write lock is taken at BEGIN, before anything this use case reads; a
    read transaction the caller left open is ended first so that the lock comes before the reads.
    """
    if session.in_transaction():
        session.commit()
    session.info[_WRITING] = True
    try:
        connection = session.connection(execution_options={_WRITE_OPTION: True})
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            raise RuntimeError("a write use case on a read-only session")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITING, None)


def _refuse_outside_write(session: Session) -> None:
    """A lock outside `write()` would end with the first commit of whoever holds the session,
    or never be taken in the agreed order: a programming error, not a visitor's."""
    if not session.info.get(_WRITING):
        raise RuntimeError("performance locks are taken only inside db.write()")


def lock_performances(
    session: Session, performance_ids: Iterable[int], *, shared: bool = False
) -> dict[int, Performance]:
    """Lock performance rows in ascending id, for the rest of the transaction; returns them fresh.

    The first step of the lock order (docs/architecture.md, "Lock order"): a write that changes a
    booking locks its performance before the reservation, and two performances (an exchange, a
    ticket scanned at another performance's door) in ascending id, so two writers never wait on
    each other in a circle. `shared` takes `FOR KEY SHARE` on PostgreSQL: doors checking in at
    once do not queue behind each other, but do queue behind a confirmation or cancellation,
    which take `FOR UPDATE`. On SQLite `write()` already holds the database's write lock.
    Missing ids are simply absent from the answer.
    """
    _refuse_outside_write(session)
    locked: dict[int, Performance] = {}
    for performance_id in sorted(set(performance_ids)):
        statement = _performance_lock(Performance.id == performance_id, shared=shared)
        performance = session.exec(statement).first()
        if performance is not None:
            locked[performance_id] = performance
    return locked


def lock_performance(session: Session, performance_id: int) -> Performance:
    """Lock one performance row (see `lock_performances`), or `not_found`."""
    performance = lock_performances(session, [performance_id]).get(performance_id)
    if performance is None:
        raise errors.NotFound(f"no performance with id {performance_id}")
    return performance


def lock_performance_where(
    session: Session, condition: Any, *, params: dict[str, Any] | None = None
) -> Performance | None:
    """`lock_performance` for the performance `condition` picks (a subquery, say), if any: a
    find-and-lock in one statement, for the hot path of a confirmation."""
    _refuse_outside_write(session)
    return session.exec(_performance_lock(condition), params=params or {}).first()  # type: ignore[call-overload]


def _performance_lock(condition: Any, *, shared: bool = False) -> Any:
    return (
        select(Performance)
        .where(condition)
        .with_for_update(read=shared, key_share=shared)
        .execution_options(populate_existing=True)
    )


# Alembic is loaded only to migrate or to explain why the schema is not current: loading it is a
# good part of a command's start-up, and nearly every run finds the schema current without it.
MIGRATIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION_LINE = re.compile(r"^(revision|down_revision)(?:\s*:[^=]*)?\s*=\s*(.+)$", re.MULTILINE)


def _newest_revision_on_file() -> str | None:
    """The revision no migration file names as its `down_revision`, read from the files' own
    assignments; None when they do not say plainly (then Alembic is asked)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in MIGRATIONS.glob("*.py"):
        assigned: dict[str, Any] = {}
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            try:
                assigned[name] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                return None
        revision, down = assigned.get("revision"), assigned.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(revision)
        if down is not None:
            followed.add(down)
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest revision, learnt without loading Alembic."""
    newest = _newest_revision_on_file()
    if newest is None:
        return False
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return False
        stored = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [row[0] for row in stored] == [newest]


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration, built in code so that no alembic.ini has to be found."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "azctl:migrations")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; returns that revision."""
    head = head_revision()
    if current_revision(engine) != head:
        from alembic import command

        command.upgrade(alembic_config(engine), "head")
    return head


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that is not at the code's schema revision."""
    current = current_revision(engine)
    if current != head_revision():
        raise errors.DatabaseNotReady(
            f"database schema is at {current or 'nothing'}, expected {head_revision()}:"
            " run `azctl db upgrade`"
        )
