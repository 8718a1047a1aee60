"""Fixtures for the HTTP tests: a Falcon test client over an app on the test's database (SQLite
and PostgreSQL, from tests/conftest.py), staff tokens, and bookings made at a chosen moment.

Every client notes the (method, path, status) of each answer; after the test, each of them must be
declared by the app's own /openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl.http.app import create_app
from azctl.http.ratelimit import RateLimiter
from azctl.models import Performance, Staff
from azctl.services import booking
from azctl.settings import get_settings
from tests.http.helpers import VISITOR, Client


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[..., Client]]:
    """`make_client(limiter=..., over=engine)`: a client over a new app, with current settings."""
    made: list[Client] = []

    def make(*, limiter: RateLimiter | None = None, over: Engine | None = None) -> Client:
        app = create_app(engine=over or engine, settings=get_settings(), limiter=limiter)
        made.append(Client(app))
        return made[-1]

    yield make
    for client in made:
        assert not client.undocumented(), "answers /openapi.json does not declare"


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture
def performance(make_performance: Callable[..., Performance]) -> Performance:
    """A published performance in two hours, so its door is open now."""
    return make_performance(capacity=10)


@pytest.fixture
def staff_token(make_staff: Callable[..., tuple[Staff, str]]) -> str:
    _member, token = make_staff("anna", display_name="Anna Verdi")
    return token


@pytest.fixture
def bearer(staff_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token}"}


@pytest.fixture
def visitor_booking(session: Session) -> Callable[..., booking.SubmittedBooking]:
    """Books for the distinctive VISITOR, as if at moment `at` (default: now)."""

    def make(
        performance: Performance, party_size: int = 2, *, at: datetime | None = None
    ) -> booking.SubmittedBooking:
        assert performance.id is not None
        return booking.submit_booking(
            session, performance_id=performance.id, party_size=party_size, now=at, **VISITOR
        )

    return make


@pytest.fixture
def visitor_ticket(
    session: Session, visitor_booking: Callable[..., booking.SubmittedBooking]
) -> Callable[..., booking.ConfirmedBooking]:
    """Books for VISITOR and confirms, both as if at moment `at` (default: now)."""

    def make(
        performance: Performance, party_size: int = 2, *, at: datetime | None = None
    ) -> booking.ConfirmedBooking:
        submitted = visitor_booking(performance, party_size, at=at)
        return booking.confirm_booking(session, token=submitted.confirm_token, now=at)

    return make
