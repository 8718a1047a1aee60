"""Fixtures for the service tests, on top of tests/conftest.py (each test runs on both backends)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from azctl.models import Staff
from azctl.services import staff


@pytest.fixture
def make_staff(session: Session) -> Callable[..., tuple[Staff, str]]:
    """Adds a staff member; returns the member and the raw API token shown once."""

    def make(username: str = "anna", role: str = "box_office", **fields: str) -> tuple[Staff, str]:
        return staff.add_staff(session, username=username, role=role, **fields)

    return make


@pytest.fixture
def anna(make_staff: Callable[..., tuple[Staff, str]]) -> Staff:
    member, _token = make_staff("anna", "box_office", display_name="Anna Verdi")
    return member
