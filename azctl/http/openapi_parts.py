"""The pieces the OpenAPI document is written with: answers, problems, pages and forms."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from azctl.http import forgery, schemas
from azctl.http.bodies import FORM
from azctl.http.problems import PROBLEM_JSON
from azctl.models import MAX_ID

WHY = {
    303: "Confirmed: see the ticket at `Location`, a path on the host the request used",
    400: "Malformed JSON or an oversized body (`invalid_input`)",
    401: "No valid staff token (`unauthorized`)",
    403: "The form's anti-forgery token is missing, wrong or expired (`forbidden`)",
    404: "No such thing (`not_found`, `invalid_token`, `unknown_token`)",
    409: "A conflict: see `code`",
    410: "Expired (`token_expired`)",
    415: "Not JSON (`unsupported_media_type`)",
    422: "A field breaks a rule (`invalid_input`) or a scan is refused: see `code`",
    429: "Rate limited (`rate_limited`); see `Retry-After`",
    503: "The database is unavailable (`unavailable`)",
}


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": WHY[status],
            "content": {PROBLEM_JSON: {"schema": ref(schemas.Problem)}},
        }
        for status in (*statuses, 503)
    }


PAGE = {"text/html": {"schema": {"type": "string"}}}
LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The page's language (one of AZCTL_LANGUAGES), kept in a cookie.",
}


def page(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": PAGE}}


def page_problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": WHY[status], "content": PAGE} for status in (*statuses, 503)
    }


def page_or_problem_404() -> dict[str, Any]:
    """A page's 404 where the path may name no route at all (an id out of range): a browser is
    answered with the page, any other client with problem+json."""
    content = {**PAGE, PROBLEM_JSON: {"schema": ref(schemas.Problem)}}
    return {"404": {"description": WHY[404], "content": content}}


def body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


CSRF_FIELD = {
    "csrf_token": {
        "type": "string",
        "description": "The anti-forgery token of the page's form, valid with the page's cookie.",
    }
}


def form(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A page's form POST: its fields and the anti-forgery token (a browser sends all as text)."""
    schema = {"type": "object", "properties": {**(fields or {}), **CSRF_FIELD}}
    return {"required": True, "content": {FORM: {"schema": schema}}}


TEXT = {"type": "string"}
BOOKING_FORM = {
    "name": TEXT,
    "email": TEXT,
    "phone": TEXT,
    "party_size": {"type": "string", "description": "Seats, as digits."},
    "notes": TEXT,
    "consent": {"type": "string", "description": "Any value: the privacy notice is agreed to."},
}
FORM_COOKIE = {
    "name": forgery.COOKIE,
    "in": "cookie",
    "required": False,
    "schema": {"type": "string"},
    "description": "The browser's anti-forgery cookie, set by the page that shows the form.",
}
# What refuses any page's form POST before it reaches the booking.
FORM_REFUSALS = (400, 403, 429)


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


TOKEN = path_parameter("token", {"type": "string"}, "The token from the email link.")
PERFORMANCE_ID = path_parameter(
    "performance_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A performance id."
)
POST_PROBLEMS = (400, 415, 422, 429)
