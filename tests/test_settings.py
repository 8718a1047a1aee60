"""Settings: defaults that work on a fresh machine, and clear refusals of bad values."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from azctl.settings import Settings, reload_settings


def test_defaults_work_with_nothing_set(isolated_settings: Path, monkeypatch) -> None:
    monkeypatch.delenv("AZCTL_SECRET_KEY")
    settings = reload_settings()
    assert settings.effective_database_url == f"sqlite:///{isolated_settings / 'azctl.db'}"
    assert settings.effective_mail_dir == isolated_settings / "mail"
    assert settings.confirm_ttl == timedelta(hours=24)
    assert settings.checkin_opens_before == timedelta(hours=3)
    assert settings.checkin_closes_after == timedelta(hours=4)
    assert settings.zone.key == "Europe/Rome"


def test_secret_key_is_generated_once_private_and_stable(
    isolated_settings: Path, monkeypatch
) -> None:
    monkeypatch.delenv("AZCTL_SECRET_KEY")
    first = reload_settings().hmac_key
    key_file = isolated_settings / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) == 64
    assert reload_settings().hmac_key == first
    assert not list(isolated_settings.glob(".secret_key.*"))


def test_a_given_secret_key_is_used_and_nothing_is_written(isolated_settings: Path) -> None:
    assert reload_settings().hmac_key == b"test-secret-key"
    assert not (isolated_settings / "secret_key").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("86400", timedelta(days=1)),
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1.5d", timedelta(hours=36)),
        ("PT2H", timedelta(hours=2)),
    ],
)
def test_durations_accept_seconds_units_and_iso(
    monkeypatch, text: str, expected: timedelta
) -> None:
    monkeypatch.setenv("AZCTL_CONFIRM_TTL", text)
    assert Settings().confirm_ttl == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AZCTL_TIMEZONE", "Mars/Olympus"),
        ("AZCTL_MAX_PARTY_SIZE", "0"),
        ("AZCTL_CONFIRM_TTL", "soon"),
    ],
)
def test_bad_values_are_refused(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_public_url_loses_its_trailing_slash(monkeypatch) -> None:
    monkeypatch.setenv("AZCTL_PUBLIC_URL", "https://tickets.example.org/")
    assert Settings().public_url == "https://tickets.example.org"
