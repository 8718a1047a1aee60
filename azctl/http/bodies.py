"""Reading a request body, a JSON document into a model or a page's form into its fields, or
refusing it before anything is touched; and the language a JSON booking asks for."""

from __future__ import annotations

import json
from typing import TypeVar
from urllib.parse import parse_qs

import falcon
from pydantic import BaseModel, ValidationError

from azctl import errors
from azctl.http.problems import MalformedBody, UnsupportedMediaType
from azctl.services import i18n

MAX_BODY_BYTES = 16 * 1024
# A booking form at every field's longest, each letter beyond ASCII sent as up to 12 bytes.
MAX_FORM_BYTES = 32 * 1024
_MAX_FORM_FIELDS = 20
FORM = "application/x-www-form-urlencoded"
Model = TypeVar("Model", bound=BaseModel)


def _field_of(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def read_json(req: falcon.Request, model: type[Model]) -> Model:
    """The body as `model`: 415 if it is not JSON, 400 if it is unreadable or larger than
    `MAX_BODY_BYTES`, 422 naming the first field at fault."""
    media_type = (req.content_type or "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json")
    if (req.content_length or 0) > MAX_BODY_BYTES:
        raise MalformedBody("body", f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedBody("body", f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting too deep is unreadable
        raise MalformedBody("body", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise MalformedBody("body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = _field_of(first["loc"])
        message = first["msg"][0].lower() + first["msg"][1:]
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of this request"
        raise errors.InvalidInput(field, f"{field}: {message}") from None


def read_form(req: falcon.Request) -> dict[str, str]:
    """A page's form POST as its fields (the first value of each), read once per request.

    Anything but `application/x-www-form-urlencoded` holds no fields (and so no anti-forgery
    token); a body that is too large, or not UTF-8, is refused (400).
    """
    cached = req.context.get("form")
    if cached is not None:
        return dict(cached)
    fields: dict[str, str] = {}
    media_type = (req.content_type or "").split(";")[0].strip().lower()
    if media_type == FORM:
        if (req.content_length or 0) > MAX_FORM_BYTES:
            raise MalformedBody("body", f"the form is larger than {MAX_FORM_BYTES} bytes")
        raw = req.bounded_stream.read(MAX_FORM_BYTES + 1)
        if len(raw) > MAX_FORM_BYTES:
            raise MalformedBody("body", f"the form is larger than {MAX_FORM_BYTES} bytes")
        try:
            parsed = parse_qs(
                raw.decode("utf-8"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=_MAX_FORM_FIELDS,
            )
        except ValueError:  # UnicodeDecodeError included; or too many fields
            raise MalformedBody("body", "the form is not readable") from None
        fields = {name: values[0] for name, values in parsed.items()}
    req.context.form = fields
    return dict(fields)


def booking_language(req: falcon.Request, asked: str | None) -> str:
    """The language of a booking asked for by JSON: `language` if the theatre offers it (else
    `invalid_input`), or the one `Accept-Language` prefers, or the theatre's default."""
    if asked is not None and asked not in i18n.languages():
        offered = ", ".join(i18n.languages())
        raise errors.InvalidInput(
            "language", f"language: {asked!r} is not one of {offered}", reason="not_offered"
        )
    return i18n.choose(query=asked, cookie=None, accept_language=req.get_header("Accept-Language"))
