"""`GET /openapi.json`: the OpenAPI 3.1 description of the public endpoint.

Schemas come from the models in `schemas.py` that the resources validate with, so the document
describes what the code does; only the paths and their status codes are written out here.
"""

from __future__ import annotations

from typing import Any

import falcon
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from azctl import __version__
from azctl.http import schemas
from azctl.http.problems import PROBLEM_JSON
from azctl.models import MAX_ID
from azctl.settings import Settings

_MODELS: list[type[BaseModel]] = [
    schemas.Problem,
    schemas.Health,
    schemas.ShowList,
    schemas.PublicShow,
    schemas.PublicPerformance,
    schemas.BookingRequest,
    schemas.BookingAccepted,
    schemas.TokenRequest,
    schemas.Confirmation,
    schemas.Cancellation,
    schemas.ScanRequest,
    schemas.CheckInAnswer,
]
_WHY = {
    303: "Confirmed: see the ticket at `Location`, a path on the host the request used",
    400: "Malformed JSON or an oversized body (`invalid_input`)",
    401: "No valid staff token (`unauthorized`)",
    404: "No such thing (`not_found`, `invalid_token`, `unknown_token`)",
    409: "A conflict: see `code`",
    410: "Expired (`token_expired`)",
    415: "Not JSON (`unsupported_media_type`)",
    422: "A field breaks a rule (`invalid_input`) or a scan is refused: see `code`",
    429: "Rate limited (`rate_limited`); see `Retry-After`",
    503: "The database is unavailable (`unavailable`)",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _WHY[status],
            "content": {PROBLEM_JSON: {"schema": _ref(schemas.Problem)}},
        }
        for status in (*statuses, 503)
    }


_PAGE = {"text/html": {"schema": {"type": "string"}}}


def _page(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": _PAGE}}


def _page_problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": _WHY[status], "content": _PAGE} for status in (*statuses, 503)
    }


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def _path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


_TOKEN = _path_parameter("token", {"type": "string"}, "The token from the email link.")
_PERFORMANCE_ID = _path_parameter(
    "performance_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A performance id."
)
_POST_PROBLEMS = (400, 415, 422, 429)


def _paths() -> dict[str, Any]:
    return {
        "/health": {
            "get": {
                "summary": "Is the service and its database up?",
                "responses": {"200": _json(schemas.Health, "Up"), **_problems()},
            },
            "head": {
                "summary": "The same check, without a body",
                "responses": {"200": {"description": "Up"}, "503": {"description": _WHY[503]}},
            },
        },
        "/api/shows": {
            "get": {
                "summary": "Published shows with upcoming bookable performances",
                "responses": {"200": _json(schemas.ShowList, "The shows"), **_problems()},
            }
        },
        "/api/shows/{slug}": {
            "get": {
                "summary": "One published show and its upcoming performances",
                "parameters": [_path_parameter("slug", {"type": "string"}, "The show's slug.")],
                "responses": {"200": _json(schemas.PublicShow, "The show"), **_problems(404)},
            }
        },
        "/api/performances/{performance_id}": {
            "get": {
                "summary": "Availability of one public performance",
                "parameters": [_PERFORMANCE_ID],
                "responses": {
                    "200": _json(schemas.PublicPerformance, "The performance"),
                    **_problems(404),
                },
            }
        },
        "/api/performances/{performance_id}/reservations": {
            "post": {
                "summary": "Ask for seats; they are held once the emailed link is confirmed",
                "parameters": [_PERFORMANCE_ID],
                "requestBody": _body(schemas.BookingRequest),
                "responses": {
                    "202": _json(schemas.BookingAccepted, "Pending; a confirmation mail is queued"),
                    **_problems(404, 409, *_POST_PROBLEMS),
                },
            }
        },
        "/api/confirmations": {
            "post": {
                "summary": "Confirm a pending booking with its token, if the party still fits",
                "requestBody": _body(schemas.TokenRequest),
                "responses": {
                    "200": _json(schemas.Confirmation, "Confirmed; the ticket mail is queued"),
                    **_problems(404, 409, 410, *_POST_PROBLEMS),
                },
            }
        },
        "/api/cancellations": {
            "post": {
                "summary": "Cancel a booking with the cancel token from its email",
                "requestBody": _body(schemas.TokenRequest),
                "responses": {
                    "200": _json(schemas.Cancellation, "Cancelled; its seats are free"),
                    **_problems(404, 409, 410, *_POST_PROBLEMS),
                },
            }
        },
        "/api/checkins": {
            "post": {
                "summary": "Scan a ticket at a performance's door (staff only)",
                "security": [{"staffToken": []}],
                "requestBody": _body(schemas.ScanRequest),
                "responses": {
                    "201": _json(schemas.CheckInAnswer, "Admitted"),
                    **_problems(401, 404, 409, *_POST_PROBLEMS),
                },
            }
        },
        "/confirm/{token}": {
            "get": {
                "summary": "The confirm page (showing it confirms nothing)",
                "parameters": [_TOKEN],
                "responses": {
                    **_page("The booking and a Confirm button"),
                    **_page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Confirm, then go to the ticket",
                "parameters": [_TOKEN],
                "responses": {
                    "303": {
                        "description": _WHY[303],
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_page_problems(404, 409, 410, 429),
                },
            },
        },
        "/cancel/{token}": {
            "get": {
                "summary": "The cancel page (showing it cancels nothing)",
                "parameters": [_TOKEN],
                "responses": {
                    **_page("The booking and a Cancel button"),
                    **_page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Cancel the booking",
                "parameters": [_TOKEN],
                "responses": {**_page("Cancelled"), **_page_problems(404, 409, 410, 429)},
            },
        },
        "/t/{ticket}": {
            "get": {
                "summary": "The printable ticket; `{token}.png` or `{token}.svg` its QR code",
                "parameters": [
                    _path_parameter("ticket", {"type": "string"}, "TOKEN, TOKEN.png or TOKEN.svg")
                ],
                "responses": {
                    "200": {
                        "description": "The ticket page or its QR code",
                        "content": {
                            "text/html": {"schema": {"type": "string"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                            "image/svg+xml": {"schema": {"type": "string"}},
                        },
                    },
                    **_page_problems(404, 409),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def document(settings: Settings) -> dict[str, Any]:
    _top, definitions = models_json_schema(
        [(model, "validation") for model in _MODELS],
        ref_template="#/components/schemas/{model}",
    )
    components = definitions["$defs"]
    components["BookingRequest"]["properties"]["party_size"]["maximum"] = settings.max_party_size
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "azctl public box office",
            "version": __version__,
            "description": "Book, confirm and cancel seats; staff scan tickets at the door.",
        },
        "servers": [{"url": settings.public_url}],
        "paths": _paths(),
        "components": {
            "schemas": components,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }


class OpenAPI:
    def __init__(self, settings: Settings) -> None:
        self.document = document(settings)

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
