"""Reading a JSON request body into a model, or refusing it before anything is touched."""

from __future__ import annotations

import json
from typing import TypeVar

import falcon
from pydantic import BaseModel, ValidationError

from azctl import errors
from azctl.http.problems import MalformedBody, UnsupportedMediaType

MAX_BODY_BYTES = 16 * 1024
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
