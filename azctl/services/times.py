"""The theatre's wall clock: parsing what staff type and showing stored UTC back in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from azctl import errors
from azctl.settings import get_settings

DATETIME_INPUT = "%Y-%m-%d %H:%M"


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_to_utc(day: date, clock: time, *, field: str) -> datetime:
    """The UTC instant of a wall-clock time; a time that the DST shift skips is refused."""
    zone = get_settings().zone
    local = datetime.combine(day, clock, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise errors.InvalidInput(field, f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key}")
    return instant


def parse_local_datetime(text: str, *, field: str = "at") -> datetime:
    """`YYYY-MM-DD HH:MM` in the theatre's zone, as an aware UTC datetime."""
    try:
        parsed = datetime.strptime(text.strip(), DATETIME_INPUT)
    except ValueError:
        raise errors.InvalidInput(
            field, f"{field}: expected YYYY-MM-DD HH:MM, got {text!r}"
        ) from None
    return local_to_utc(parsed.date(), parsed.time(), field=field)


def parse_date(text: str, *, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise errors.InvalidInput(field, f"{field}: expected YYYY-MM-DD, got {text!r}") from None


def parse_clock(text: str, *, field: str) -> time:
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise errors.InvalidInput(field, f"{field}: expected HH:MM, got {text!r}") from None


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(get_settings().zone)


def iso_local(moment: datetime | None) -> str | None:
    """ISO 8601 with the theatre's offset, the form every JSON answer carries."""
    return None if moment is None else to_local(moment).isoformat()


def short_local(moment: datetime) -> str:
    """What staff read on a screen: `Sat 12 Dec 20:30`."""
    return to_local(moment).strftime("%a %d %b %H:%M")


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends."""
    zone = get_settings().zone
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, time(23, 59, 59, 999999), tzinfo=zone).astimezone(UTC)
    return start, end


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
