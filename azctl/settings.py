"""Configuration from `AZCTL_*` environment variables, with defaults that work on a fresh machine.

The embedded default needs nothing set: the database is a SQLite file and mail goes to `.eml`
files, both in the user data dir, and the HMAC key is generated there on first run.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import sqlalchemy as sa
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PLAIN_LIMIT = re.compile(r"[1-9][0-9]*/(second|minute|hour|day)")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_LOCALE_DIR = Path(__file__).parent / "locale"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (`10.0.0.0/8, 127.0.0.1`), each one checked."""
    networks = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


class Settings(BaseSettings):
    """Every knob of azctl; each field is read from `AZCTL_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="AZCTL_", frozen=True)

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("azctl")))
    database_url: str | None = None
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Europe/Rome"
    confirm_ttl: timedelta = timedelta(hours=24)
    max_party_size: int = Field(default=8, ge=1)
    checkin_opens_before: timedelta = timedelta(hours=3)
    checkin_closes_after: timedelta = timedelta(hours=4)
    smtp_url: str | None = None
    mail_from: str = "Box office <boxoffice@localhost>"
    mail_dir: Path | None = None
    rate_limit: str = "30/minute"
    ratelimit_storage: str = "memory://"
    trusted_proxies: str = ""
    # How long a worker may reuse its answer to a public listing GET; 0 turns that off.
    public_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # How long a mail sender's claim on one message lasts; a sender that dies holding one
    # leaves it for another sender after this long. The SMTP transport is given half of it.
    mail_lease: timedelta = Field(default=timedelta(minutes=5), ge=timedelta(seconds=1))
    # The visitor's languages, the first the default (DESIGN §11); each needs a catalog in
    # azctl/locale (English, the templates' own language, needs none).
    languages: str = "it,en"
    # Who the pages and mails say they are from, and where the theatre's own pages are.
    theatre_name: str = Field(default="Box office", min_length=1, max_length=200)
    theatre_url: str | None = None
    privacy_url: str | None = None
    # Sites that may show the pages in a frame (CSP frame-ancestors), space- or comma-separated.
    embed_origins: str = ""
    # A performance with fewer free seats than this is shown as "few left" on the pages.
    few_seats: int = Field(default=10, ge=0)
    # How long before its performance a confirmed booking gets its reminder mail (DESIGN §8),
    # counted on the theatre's wall clock (services/reminders.py); `off` (None) sends none.
    reminder_before: timedelta | None = Field(default=timedelta(hours=24))
    # How long personal data is kept after a performance starts (DESIGN §8); None (`off`): kept.
    retention: timedelta | None = Field(default=timedelta(days=365))
    # How long a waiting-list offer holds its seats (never past the performance's start, §8).
    waitlist_hold: timedelta = Field(default=timedelta(hours=12), gt=timedelta(0))

    @field_validator(
        "confirm_ttl",
        "checkin_opens_before",
        "checkin_closes_after",
        "mail_lease",
        "waitlist_hold",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        """Seconds (`86400`), a unit (`90m`, `24h`, `2d`) or ISO 8601 (`PT24H`)."""
        if isinstance(value, str):
            match = _DURATION.fullmatch(value.strip().lower())
            if match:
                return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2] or "s"])
        return value

    @field_validator("reminder_before", "retention", mode="before")
    @classmethod
    def _duration_or_off(cls, value: object) -> object:
        """A duration as `_duration` reads it (`24h`, `365d`, `P365D`), or `off`: none at all."""
        if isinstance(value, str) and value.strip().lower() in {"off", "none", ""}:
            return None
        return cls._duration(value)

    @field_validator("reminder_before", "retention")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("use a duration above zero, like 24h or 365d, or off")
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            backend = sa.make_url(value).get_backend_name()
        except sa.exc.ArgumentError:
            raise ValueError("not a database URL") from None
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _usable_smtp(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("use smtp://[USER:PASSWORD@]HOST[:PORT][?starttls=1] or smtps://…")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("rate_limit")
    @classmethod
    def _usable_rate_limit(cls, value: str) -> str:
        """A `limits` string per client and endpoint (`30/minute`), or `off`."""
        value = value.strip()
        if value.lower() == "off":
            return "off"
        if _PLAIN_LIMIT.fullmatch(value):
            return value  # `limits` reads this form (the default's); loading it costs start-up
        import limits

        try:
            limits.parse(value)
        except ValueError:
            raise ValueError("use a limit like 30/minute or 5/second, or off") from None
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: str) -> str:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        if not codes:
            raise ValueError("name at least one language, e.g. it,en")
        for code in codes:
            if not _LANGUAGE.fullmatch(code):
                raise ValueError(f"{code!r} is not a language code like it or en")
            if code != "en" and not (_LOCALE_DIR / code / "LC_MESSAGES" / "messages.mo").is_file():
                raise ValueError(f"there is no {code} catalog in azctl/locale")
        return ",".join(dict.fromkeys(codes))

    @field_validator("theatre_url", "privacy_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("use a web address, https://...")
        return value.strip()

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        origins = value.replace(",", " ").split()
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in "/":
                raise ValueError(f"{origin!r} is not an origin like https://www.example.org")
        return " ".join(origin.rstrip("/") for origin in origins)

    @property
    def language_codes(self) -> tuple[str, ...]:
        """The visitor's languages, the default first."""
        return tuple(self.languages.split(","))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        _networks(value)
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        """The proxies whose `X-Forwarded-For` names the client (comma-separated addresses)."""
        return _networks(self.trusted_proxies)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'azctl.db'}"

    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @cached_property
    def hmac_key(self) -> bytes:
        """The key that token hashes are made with; generated into the data dir on first use."""
        if self.secret_key:
            return self.secret_key.encode()
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Written aside and linked into place, so a second process starting at the same
            # moment reads either no key or the whole key, never half of one.
            draft = key_file.with_name(f".secret_key.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(draft, key_file)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return key_file.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; `reload_settings()` reads the environment again."""
    return Settings()


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
