"""Fixtures for the door's tests, on top of tests/conftest.py (each test runs on both backends),
and the one hook that runs their `async def` tests: Textual's pilot is async, and a plugin for
one folder of tests is more than a dozen lines are worth."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

import pytest
from sqlmodel import Session

from azctl.models import Performance, Staff
from azctl.services import staff


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture
def anna(session: Session) -> Staff:
    """The box-office member at the door (`--as anna`)."""
    member, _token = staff.add_staff(session, username="anna", role="box_office")
    return member


@pytest.fixture
def tonight(make_performance: Callable[..., Performance]) -> Performance:
    """A performance in two hours: its door is open now."""
    return make_performance(capacity=20)
