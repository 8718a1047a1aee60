"""The shapes of the JSON the public endpoint reads and writes.

Request bodies are validated against these models, answers are checked against them before they
leave, and `/openapi.json` is generated from them: the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from azctl.models import MAX_ID


class _Request(BaseModel):
    """Strict: `"2"` is not a party size and an unknown field is a typo, not something to drop."""

    model_config = ConfigDict(strict=True, extra="forbid")


class BookingRequest(_Request):
    name: str = Field(min_length=1, max_length=200, description="Who the seats are for.")
    email: str = Field(
        min_length=3, max_length=254, description="Where the confirmation link is sent."
    )
    phone: str | None = Field(default=None, max_length=40)
    party_size: int = Field(ge=1, description="Seats asked for; at most AZCTL_MAX_PARTY_SIZE.")
    notes: str | None = Field(default=None, max_length=1000)
    language: str | None = Field(
        default=None,
        max_length=16,
        description=(
            "The language of the booking's mails, one of AZCTL_LANGUAGES; if left out, the one"
            " Accept-Language prefers, else the theatre's default."
        ),
    )


class TokenRequest(_Request):
    token: str = Field(min_length=1, max_length=200, description="The token from the email link.")


class ScanRequest(_Request):
    token: str = Field(
        min_length=1, max_length=500, description="What was scanned: a token or a ticket URL."
    )
    performance_id: int = Field(ge=1, le=MAX_ID, description="The door's performance.")
    door: str | None = Field(
        default=None,
        max_length=40,
        description="The entrance scanning (DESIGN §10); `main` when left out.",
    )
    direction: Literal["in", "out"] = Field(
        default="in", description="`out` for a party leaving at the interval."
    )


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is the stable domain code to match on."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str


class Health(_Answer):
    status: Literal["ok"]
    database: Literal["ok"]


class PublicVenue(_Answer):
    slug: str
    name: str
    city: str
    address: str | None


class PublicPerformance(_Answer):
    id: int
    show: str
    starts_at: str = Field(description="ISO 8601 with the theatre's offset.")
    venue: PublicVenue
    available_seats: int
    booking: Literal["open", "closed", "cancelled", "started"]
    is_bookable: bool


class PublicShow(_Answer):
    slug: str
    title: str
    summary: str | None
    description: str | None
    performances: list[PublicPerformance]


class ShowList(_Answer):
    shows: list[PublicShow]


class BookingAccepted(_Answer):
    reference: str
    status: Literal["pending"]
    message: str


class WaitlistJoined(_Answer):
    reference: str
    status: Literal["waiting"]
    position: int = Field(ge=1, description="The party's place among those waiting (1 = next).")
    message: str


class ConfirmedPerformance(_Answer):
    id: int
    show: str
    venue: str
    starts_at: str


class Confirmation(_Answer):
    reference: str
    status: Literal["confirmed"]
    party_size: int
    performance: ConfirmedPerformance
    ticket_url: str


class Cancellation(_Answer):
    reference: str
    status: Literal["cancelled"]
    message: str


class CheckInAnswer(_Answer):
    """An admitted scan. No name, email, phone or notes: only what the door needs."""

    result: Literal["ok"]
    message: str
    reference: str
    party_size: int
    performance_id: int
    performance: str
    checked_in_at: str | None
    checked_in_by: str | None
    direction: Literal["in", "out"]
    door: str
    door_note: str | None = Field(
        description="Staff's note for the door (`res flag`), e.g. a wheelchair space."
    )


def checked(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """`data` as JSON-ready, after making sure it has the documented shape."""
    return model.model_validate(data).model_dump(mode="json")
