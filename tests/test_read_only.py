"""GET and HEAD requests read on an autocommit session (PostgreSQL): no BEGIN, no ROLLBACK. A
write use case handed such a session must refuse at once, before it writes a row outside a
transaction."""

from __future__ import annotations

import pytest

from azctl import db
from azctl.models import Venue
from azctl.services import catalog
from tests.conftest import count_rows


def test_a_write_on_a_read_only_session_is_refused_and_writes_nothing(engine, backend):
    reader = db.read_only(engine)
    if backend == "sqlite":
        assert reader is engine  # in-process: nothing to save, nothing changed
        return
    with db.new_session(reader) as session, pytest.raises(RuntimeError, match="read-only"):
        catalog.add_venue(session, name="Teatro Nuovo", city="Torino", slug="nuovo")
    assert count_rows(engine, Venue) == 0


def test_a_read_only_session_reads_what_was_committed(engine, session):
    catalog.add_venue(session, name="Teatro Nuovo", city="Torino", slug="nuovo")
    with db.new_session(db.read_only(engine)) as reading:
        assert catalog.get_venue(reading, slug="nuovo").name == "Teatro Nuovo"
