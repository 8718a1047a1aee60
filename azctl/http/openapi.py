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
from azctl.http import forgery, schemas
from azctl.http.bodies import FORM
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
    schemas.WaitlistJoined,
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
    403: "The form's anti-forgery token is missing, wrong or expired (`forbidden`)",
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
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The page's language (one of AZCTL_LANGUAGES), kept in a cookie.",
}


def _page(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": _PAGE}}


def _page_problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": _WHY[status], "content": _PAGE} for status in (*statuses, 503)
    }


def _page_or_problem_404() -> dict[str, Any]:
    """A page's 404 where the path may name no route at all (an id out of range): a browser is
    answered with the page, any other client with problem+json."""
    content = {**_PAGE, PROBLEM_JSON: {"schema": _ref(schemas.Problem)}}
    return {"404": {"description": _WHY[404], "content": content}}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


_CSRF_FIELD = {
    "csrf_token": {
        "type": "string",
        "description": "The anti-forgery token of the page's form, valid with the page's cookie.",
    }
}


def _form(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A page's form POST: its fields and the anti-forgery token (a browser sends all as text)."""
    schema = {"type": "object", "properties": {**(fields or {}), **_CSRF_FIELD}}
    return {"required": True, "content": {FORM: {"schema": schema}}}


_TEXT = {"type": "string"}
_BOOKING_FORM = {
    "name": _TEXT,
    "email": _TEXT,
    "phone": _TEXT,
    "party_size": {"type": "string", "description": "Seats, as digits."},
    "notes": _TEXT,
    "consent": {"type": "string", "description": "Any value: the privacy notice is agreed to."},
}
_FORM_COOKIE = {
    "name": forgery.COOKIE,
    "in": "cookie",
    "required": False,
    "schema": {"type": "string"},
    "description": "The browser's anti-forgery cookie, set by the page that shows the form.",
}
# What refuses any page's form POST before it reaches the booking.
_FORM_REFUSALS = (400, 403, 429)


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
        "/api/performances/{performance_id}/waitlist": {
            "post": {
                "summary": (
                    "Join a sold-out performance's waiting list (a party that fits books instead:"
                    " `seats_available`; one entry per email: `already_waiting`)"
                ),
                "parameters": [_PERFORMANCE_ID],
                "requestBody": _body(schemas.BookingRequest),
                "responses": {
                    "202": _json(
                        schemas.WaitlistJoined, "Waiting; a mail with a leave link is queued"
                    ),
                    **_problems(404, 409, *_POST_PROBLEMS),
                },
            }
        },
        "/api/offers": {
            "post": {
                "summary": "Accept a waiting-list offer with the token from its mail",
                "requestBody": _body(schemas.TokenRequest),
                "responses": {
                    "200": _json(schemas.Confirmation, "Confirmed; the ticket mail is queued"),
                    **_problems(404, 409, 410, *_POST_PROBLEMS),
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
        "/": {
            "get": {
                "summary": "The season: published shows, their next performances and free seats",
                "parameters": [_LANG],
                "responses": {**_page("The season page"), **_page_problems()},
            }
        },
        "/shows/{slug}": {
            "get": {
                "summary": "A show: poster, summary, description, performances and Book links",
                "parameters": [
                    _path_parameter("slug", {"type": "string"}, "The show's slug."),
                    _LANG,
                ],
                "responses": {**_page("The show's page"), **_page_problems(404)},
            }
        },
        "/posters/{digest}": {
            method: {
                "summary": "A show's stored poster, cached for a year (its URL is its hash)",
                "parameters": [
                    _path_parameter("digest", {"type": "string"}, "The hash of the poster.")
                ],
                "responses": {
                    "200": {
                        "description": "The image",
                        "content": {
                            media: {"schema": {"type": "string", "format": "binary"}}
                            for media in ("image/jpeg", "image/png")
                        },
                    },
                    "304": {"description": "Not modified (If-None-Match)"},
                    **_problems(404),
                },
            }
            for method in ("get", "head")
        },
        "/book/{performance_id}": {
            "get": {
                "summary": "The booking form of a performance (or why it cannot be booked now)",
                "parameters": [_PERFORMANCE_ID],
                "responses": {
                    **_page("The performance and its booking form"),
                    **_page_problems(),
                    **_page_or_problem_404(),
                },
            },
            "post": {
                "summary": "Ask for seats with the form; they are held once the mail is confirmed",
                "parameters": [_FORM_COOKIE, _PERFORMANCE_ID],
                "requestBody": _form(_BOOKING_FORM),
                "responses": {
                    "303": {
                        "description": "Asked: `Location` is the page that says to check the mail",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_page_problems(409, 422, *_FORM_REFUSALS),
                    **_page_or_problem_404(),
                },
            },
        },
        "/booked/{receipt}": {
            "get": {
                "summary": "The reference of a booking just asked for, and the mail to look for",
                "parameters": [_path_parameter("receipt", {"type": "string"}, "A signed receipt.")],
                "responses": {**_page("The booking's reference"), **_page_problems(404)},
            }
        },
        "/waitlist/{performance_id}": {
            "get": {
                "summary": "The waiting-list form of a performance (the booking form's fields)",
                "parameters": [_PERFORMANCE_ID],
                "responses": {
                    **_page("The performance and its waiting-list form"),
                    **_page_problems(),
                    **_page_or_problem_404(),
                },
            },
            "post": {
                "summary": "Join the waiting list with the form",
                "parameters": [_FORM_COOKIE, _PERFORMANCE_ID],
                "requestBody": _form(_BOOKING_FORM),
                "responses": {
                    "303": {
                        "description": "Joined: `Location` names the reference and place",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_page_problems(409, 422, *_FORM_REFUSALS),
                    **_page_or_problem_404(),
                },
            },
        },
        "/waitlisted/{receipt}": {
            "get": {
                "summary": "The reference and place of a party that just joined a waiting list",
                "parameters": [_path_parameter("receipt", {"type": "string"}, "A signed receipt.")],
                "responses": {**_page("The entry's reference"), **_page_problems(404)},
            }
        },
        "/offer/{token}": {
            "get": {
                "summary": "A waiting-list offer and until when it holds (showing accepts nothing)",
                "parameters": [_TOKEN],
                "responses": {
                    **_page("The offer and an Accept button"),
                    **_page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Accept the offer, then go to the ticket",
                "parameters": [_FORM_COOKIE, _TOKEN],
                "requestBody": _form(),
                "responses": {
                    "303": {
                        "description": _WHY[303],
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_page_problems(404, 409, 410, *_FORM_REFUSALS),
                },
            },
        },
        "/leave/{token}": {
            "get": {
                "summary": "The leave page of a waiting-list entry (showing it changes nothing)",
                "parameters": [_TOKEN],
                "responses": {
                    **_page("The entry and a Leave button"),
                    **_page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Leave the waiting list (an open offer's seats are passed on)",
                "parameters": [_FORM_COOKIE, _TOKEN],
                "requestBody": _form(),
                "responses": {
                    **_page("Left"),
                    **_page_problems(404, 409, 410, *_FORM_REFUSALS),
                },
            },
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
                "parameters": [_FORM_COOKIE, _TOKEN],
                "requestBody": _form(),
                "responses": {
                    "303": {
                        "description": _WHY[303],
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_page_problems(404, 409, 410, *_FORM_REFUSALS),
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
                "parameters": [_FORM_COOKIE, _TOKEN],
                "requestBody": _form(),
                "responses": {
                    **_page("Cancelled"),
                    **_page_problems(404, 409, 410, *_FORM_REFUSALS),
                },
            },
        },
        "/t/{ticket}": {
            "get": {
                "summary": (
                    "The printable ticket; `{token}.png` or `.svg` its QR code, `.ics` the"
                    " performance for a calendar"
                ),
                "parameters": [
                    _path_parameter(
                        "ticket", {"type": "string"}, "TOKEN, TOKEN.png, TOKEN.svg or TOKEN.ics"
                    )
                ],
                "responses": {
                    "200": {
                        "description": "The ticket page, its QR code or its calendar entry",
                        "content": {
                            "text/html": {"schema": {"type": "string"}},
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                            "image/svg+xml": {"schema": {"type": "string"}},
                            "text/calendar": {"schema": {"type": "string"}},
                        },
                    },
                    **_page_problems(404, 409),
                },
            }
        },
        "/t/{ticket}/cancel": {
            "get": {
                "summary": "Cancel from the ticket: the page (showing it cancels nothing)",
                "parameters": [_path_parameter("ticket", {"type": "string"}, "The ticket token.")],
                "responses": {
                    **_page("The booking and a Cancel button"),
                    **_page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Cancel the booking of this ticket, until the performance starts",
                "parameters": [
                    _FORM_COOKIE,
                    _path_parameter("ticket", {"type": "string"}, "The ticket token."),
                ],
                "requestBody": _form(),
                "responses": {
                    **_page("Cancelled"),
                    **_page_problems(404, 409, 410, *_FORM_REFUSALS),
                },
            },
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
