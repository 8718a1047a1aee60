"""The theatre's wall clock: parsing what staff type and showing stored UTC back in local time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from azctl import errors
from azctl.settings import get_settings

# What staff type: a day (`2027-03-12`, `today`, `tomorrow`) and a wall-clock time, joined by a
# space or by `T` (the form the JSON shows, so a time can be pasted back).
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_AND_CLOCK = re.compile(r"(\S+?)(?:T|\s+)(\d{1,2}:\d{2})")
RELATIVE_DAYS = {"today": 0, "tomorrow": 1}


def now_utc() -> datetime:
    return datetime.now(UTC)


def today(now: datetime | None = None) -> date:
    """The theatre's calendar day at `now` (default: this moment)."""
    return to_local(now or now_utc()).date()


def local_to_utc(day: date, clock: time, *, field: str) -> datetime:
    """The UTC instant of a wall-clock time; a time that the DST shift skips is refused."""
    zone = get_settings().zone
    local = datetime.combine(day, clock, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise errors.InvalidInput(field, f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key}")
    return instant


def parse_local_datetime(text: str, *, field: str = "at", now: datetime | None = None) -> datetime:
    """`YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM` in the theatre's zone, as an aware UTC datetime.

    The day may also be `today` or `tomorrow` (`tomorrow 20:30`).
    """
    match = _DAY_AND_CLOCK.fullmatch(text.strip())
    if match is None or not (match[1].lower() in RELATIVE_DAYS or _DAY.fullmatch(match[1])):
        raise errors.InvalidInput(field, f"{field}: expected YYYY-MM-DD HH:MM, got {text!r}")
    day = parse_date(match[1], field=field, now=now)
    return local_to_utc(day, parse_clock(match[2], field=field), field=field)


def parse_date(text: str, *, field: str, now: datetime | None = None) -> date:
    """`YYYY-MM-DD`, `today` or `tomorrow`; a day the calendar lacks is named as such."""
    cleaned = text.strip().lower()
    if cleaned in RELATIVE_DAYS:
        return today(now) + timedelta(days=RELATIVE_DAYS[cleaned])
    match = _DAY.fullmatch(cleaned)
    if match is None:
        raise errors.InvalidInput(
            field, f"{field}: expected YYYY-MM-DD, today or tomorrow, got {text!r}"
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise errors.InvalidInput(field, f"{field}: {cleaned} is not a date") from None


def parse_clock(text: str, *, field: str) -> time:
    """`HH:MM`, 24-hour."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise errors.InvalidInput(field, f"{field}: expected HH:MM, got {text!r}")
    try:
        return time(int(match[1]), int(match[2]))
    except ValueError:
        raise errors.InvalidInput(field, f"{field}: {text.strip()} is not a time of day") from None


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


def refuse_past(starts_at: datetime, *, now: datetime, field: str, hint: str = "") -> None:
    """A start already gone by is a typo far more often than a record of the past: refused,
    naming `field` (`--at`) and what to do instead (`hint`, e.g. "; give --past to add it
    anyway"). Used by `perf add` and `perf schedule` (unless --past) and `perf move` (always)."""
    if starts_at < now:
        raise errors.InvalidInput(
            field.removeprefix("--"),
            f"{field}: {to_local(starts_at):%Y-%m-%d %H:%M} is in the past{hint}",
        )


def wall_clock_before(moment: datetime, span: timedelta) -> datetime:
    """The UTC instant `span` earlier than `moment` on the theatre's wall clock.

    `24h` before Sunday 20:30 is Saturday 20:30 local, also when the clocks change that night
    (then it is 23 or 25 real hours before). A wall-clock time the spring change skips is read
    with the offset before the change; one the autumn change repeats is its first occurrence.
    """
    zone = get_settings().zone
    local = to_local(moment).replace(tzinfo=None) - span
    return local.replace(tzinfo=zone).astimezone(UTC)
