"""Alembic environment: the schema is `SQLModel.metadata`, the engine comes from azctl.db."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import azctl.models  # noqa: F401  (registers every table on the metadata)
from azctl import db

config = context.config
engine = config.attributes.get("engine") or db.create_engine(
    db.get_settings().effective_database_url
)

# The write option makes SQLite take its lock at BEGIN, so two processes starting on a fresh
# database upgrade it one after the other instead of both creating the same tables.
with engine.connect().execution_options(azctl_write=True) as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
