"""Domain errors: the only exceptions services raise.

Each carries a stable `code` (scripts and HTTP clients match on it), the HTTP status the public
endpoint answers with, and a one-line message written for a person. Front ends turn these into
their own kind of error in one place each.
"""

from __future__ import annotations

from typing import Any


class AzctlError(Exception):
    """A refusal or failure that a person can act on."""

    code = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(AzctlError):
    """A value that breaks a rule; `field` names the input at fault.

    `reason` says which rule, in a word that does not change when the message is reworded
    (`required`, `too_long`, `not_an_email`, ...): a page shows its own words for it, in the
    visitor's language. It stays out of `details`, so JSON answers are as they were.
    """

    code = "invalid_input"
    status = 422

    def __init__(
        self, field: str, message: str, *, reason: str = "invalid", **details: Any
    ) -> None:
        super().__init__(message, field=field, **details)
        self.field = field
        self.reason = reason


class NotFound(AzctlError):
    code = "not_found"
    status = 404


class Conflict(AzctlError):
    """The change clashes with what is stored (a taken slug, a duplicate performance)."""

    code = "conflict"
    status = 409


class InvalidState(AzctlError):
    """The record is not in a state that allows this (cancelling a cancelled reservation)."""

    code = "invalid_state"
    status = 409


class CapacityConflict(AzctlError):
    """A capacity change that would leave fewer seats than are confirmed or occupied."""

    code = "capacity_conflict"
    status = 409


class BookingClosed(AzctlError):
    code = "booking_closed"
    status = 409


class NotEnoughSeats(AzctlError):
    code = "not_enough_seats"
    status = 409


class InvalidToken(AzctlError):
    code = "invalid_token"
    status = 404


class TokenUsed(AzctlError):
    code = "token_used"
    status = 409


class TokenExpired(AzctlError):
    code = "token_expired"
    status = 410


class SoldOut(AzctlError):
    code = "sold_out"
    status = 409


class Unauthorized(AzctlError):
    code = "unauthorized"
    status = 401


class DatabaseNotReady(AzctlError):
    """The schema is missing or behind the code; `azctl db upgrade` fixes it."""

    code = "database_not_ready"
    status = 503


class Unavailable(AzctlError):
    """The database went away mid-transaction; nothing was written and a retry may succeed."""

    code = "unavailable"
    status = 503


class SeatsAvailable(AzctlError):
    """A waiting list is for a party that does not fit: this one does, so book instead."""

    code = "seats_available"
    status = 409


class AlreadyWaiting(Conflict):
    """One entry per email per performance on its waiting list (DESIGN §8)."""

    code = "already_waiting"
