"""A booking's fields checked one by one, as the JSON API wants, or all at once, as a form does.

A program fixes one thing at a time, so the API refuses a request at its first field at fault. A
person filling in the booking form wants to see every field at fault at once, each with its
reason, and keep what they typed: `check_form` answers with the cleaned values or with every
field's refusal. Both use the same rules and limits, and `submit_booking` checks everything
again when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azctl import errors
from azctl.services import validation
from azctl.settings import get_settings

# The longest value each text field may hold (also the form's `maxlength`).
MAX_LENGTHS = {"name": 200, "email": 254, "phone": 40, "notes": 1000}
# The form's fields, in the order a visitor meets them (and is told what is wrong with them).
FORM_FIELDS = ("name", "email", "phone", "party_size", "notes", "consent")


@dataclass(frozen=True)
class BookingFields:
    """A booking's details, checked and cleaned (trimmed, the email in the form mail uses)."""

    name: str
    email: str
    party_size: int
    phone: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class CheckedForm:
    """What a submitted form holds: `fields` if every value passed (else None), and each
    refused field's refusal, in the form's order."""

    fields: BookingFields | None
    refusals: dict[str, errors.InvalidInput]


def _party_size(value: Any) -> int:
    return validation.count("party_size", value, minimum=1, maximum=get_settings().max_party_size)


_TEXT_RULES: dict[str, Callable[[Any], Any]] = {
    "name": lambda value: validation.required_text("name", value, max_length=MAX_LENGTHS["name"]),
    "email": validation.email,
    "phone": lambda value: validation.optional_text(
        "phone", value, max_length=MAX_LENGTHS["phone"]
    ),
    "notes": lambda value: validation.optional_text(
        "notes", value, max_length=MAX_LENGTHS["notes"]
    ),
}


def clean(
    *, name: str, email: str, party_size: object, phone: str | None, notes: str | None
) -> BookingFields:
    """The fields checked in this order; the first at fault is raised as `invalid_input`."""
    return BookingFields(
        name=_TEXT_RULES["name"](name),
        email=_TEXT_RULES["email"](email),
        phone=_TEXT_RULES["phone"](phone),
        notes=_TEXT_RULES["notes"](notes),
        party_size=_party_size(party_size),
    )


def _consent(value: str | None) -> bool:
    """The box was ticked: a browser sends a ticked checkbox's value and omits an unticked one."""
    if not (value or "").strip():
        raise errors.InvalidInput(
            "consent", "consent is required: agree to the privacy notice", reason="required"
        )
    return True


def check_form(values: Mapping[str, str]) -> CheckedForm:
    """Every field of a submitted booking form (text as typed, `party_size` too), each judged
    on its own. A field's refusal is its `errors.InvalidInput`, with the field and a `reason`.
    """
    cleaned: dict[str, Any] = {}
    refusals: dict[str, errors.InvalidInput] = {}
    rules: dict[str, Callable[[Any], Any]] = {
        **_TEXT_RULES,
        "party_size": lambda text: _party_size(validation.whole_number_text("party_size", text)),
        "consent": _consent,
    }
    for field in FORM_FIELDS:
        try:
            cleaned[field] = rules[field](values.get(field))
        except errors.InvalidInput as refusal:
            refusals[field] = refusal
    if refusals:
        return CheckedForm(fields=None, refusals=refusals)
    cleaned.pop("consent")
    return CheckedForm(fields=BookingFields(**cleaned), refusals={})
