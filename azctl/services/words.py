"""Counts in sentences people read: `1 seat`, `2 seats`, never `1 seats`."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` with the form of the words that agrees with it.

    `plural(1, "booking")` is `1 booking`; a verb can ride along with its own plural form:
    `plural(2, "seat is", "seats are")` is `2 seats are`.
    """
    if count == 1:
        return f"{count} {singular}"
    return f"{count} {plural_form or singular + 's'}"
