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
from azctl.http import openapi_pages, schemas
from azctl.http import openapi_parts as parts
from azctl.settings import Settings

_MODELS: list[type[BaseModel]] = [
    schemas.Problem,
    schemas.Health,
    schemas.ShowList,
    schemas.PublicShow,
    schemas.PublicPerformance,
    schemas.BookingRequest,
    schemas.BookingAccepted,
    schemas.WaitlistJoined,
    schemas.TokenRequest,
    schemas.Confirmation,
    schemas.Cancellation,
    schemas.ScanRequest,
    schemas.CheckInAnswer,
]


def _paths() -> dict[str, Any]:
    return {
        "/health": {
            "get": {
                "summary": "Is the service and its database up?",
                "responses": {"200": parts.json(schemas.Health, "Up"), **parts.problems()},
            },
            "head": {
                "summary": "The same check, without a body",
                "responses": {"200": {"description": "Up"}, "503": {"description": parts.WHY[503]}},
            },
        },
        "/api/shows": {
            "get": {
                "summary": "Published shows with upcoming bookable performances",
                "responses": {"200": parts.json(schemas.ShowList, "The shows"), **parts.problems()},
            }
        },
        "/api/shows/{slug}": {
            "get": {
                "summary": "One published show and its upcoming performances",
                "parameters": [
                    parts.path_parameter("slug", {"type": "string"}, "The show's slug.")
                ],
                "responses": {
                    "200": parts.json(schemas.PublicShow, "The show"),
                    **parts.problems(404),
                },
            }
        },
        "/api/performances/{performance_id}": {
            "get": {
                "summary": "Availability of one public performance",
                "parameters": [parts.PERFORMANCE_ID],
                "responses": {
                    "200": parts.json(schemas.PublicPerformance, "The performance"),
                    **parts.problems(404),
                },
            }
        },
        "/api/performances/{performance_id}/reservations": {
            "post": {
                "summary": "Ask for seats; they are held once the emailed link is confirmed",
                "parameters": [parts.PERFORMANCE_ID],
                "requestBody": parts.body(schemas.BookingRequest),
                "responses": {
                    "202": parts.json(
                        schemas.BookingAccepted, "Pending; a confirmation mail is queued"
                    ),
                    **parts.problems(404, 409, *parts.POST_PROBLEMS),
                },
            }
        },
        "/api/performances/{performance_id}/waitlist": {
            "post": {
                "summary": (
                    "Join a sold-out performance's waiting list (a party that fits books instead:"
                    " `seats_available`; one entry per email: `already_waiting`)"
                ),
                "parameters": [parts.PERFORMANCE_ID],
                "requestBody": parts.body(schemas.BookingRequest),
                "responses": {
                    "202": parts.json(
                        schemas.WaitlistJoined, "Waiting; a mail with a leave link is queued"
                    ),
                    **parts.problems(404, 409, *parts.POST_PROBLEMS),
                },
            }
        },
        "/api/offers": {
            "post": {
                "summary": "Accept a waiting-list offer with the token from its mail",
                "requestBody": parts.body(schemas.TokenRequest),
                "responses": {
                    "200": parts.json(schemas.Confirmation, "Confirmed; the ticket mail is queued"),
                    **parts.problems(404, 409, 410, *parts.POST_PROBLEMS),
                },
            }
        },
        "/api/confirmations": {
            "post": {
                "summary": "Confirm a pending booking with its token, if the party still fits",
                "requestBody": parts.body(schemas.TokenRequest),
                "responses": {
                    "200": parts.json(schemas.Confirmation, "Confirmed; the ticket mail is queued"),
                    **parts.problems(404, 409, 410, *parts.POST_PROBLEMS),
                },
            }
        },
        "/api/cancellations": {
            "post": {
                "summary": "Cancel a booking with the cancel token from its email",
                "requestBody": parts.body(schemas.TokenRequest),
                "responses": {
                    "200": parts.json(schemas.Cancellation, "Cancelled; its seats are free"),
                    **parts.problems(404, 409, 410, *parts.POST_PROBLEMS),
                },
            }
        },
        "/api/checkins": {
            "post": {
                "summary": "Scan a ticket at a performance's door (staff only)",
                "security": [{"staffToken": []}],
                "requestBody": parts.body(schemas.ScanRequest),
                "responses": {
                    "201": parts.json(schemas.CheckInAnswer, "Admitted"),
                    **parts.problems(401, 404, 409, *parts.POST_PROBLEMS),
                },
            }
        },
        **openapi_pages.page_paths(),
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
    booking = components["BookingRequest"]["properties"]
    booking["party_size"]["maximum"] = settings.max_party_size
    for choice in booking["language"]["anyOf"]:
        if choice.get("type") == "string":
            choice["enum"] = list(settings.language_codes)
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
