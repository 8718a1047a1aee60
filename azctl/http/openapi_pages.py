"""The visitor's HTML pages in the OpenAPI document: what each answers, and the forms they post."""

from __future__ import annotations

from typing import Any

from azctl.http import openapi_parts as parts


def _form_page(*, shown: str, page: str, sent: str, redirect: str) -> dict[str, Any]:
    """A performance's form page (booking, waiting list): GET shows it, POST sends it."""
    return {
        "get": {
            "summary": shown,
            "parameters": [parts.PERFORMANCE_ID],
            "responses": {
                **parts.page(page),
                **parts.page_problems(),
                **parts.page_or_problem_404(),
            },
        },
        "post": {
            "summary": sent,
            "parameters": [parts.FORM_COOKIE, parts.PERFORMANCE_ID],
            "requestBody": parts.form(parts.BOOKING_FORM),
            "responses": {
                "303": {
                    "description": redirect,
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                **parts.page_problems(409, 422, *parts.FORM_REFUSALS),
                **parts.page_or_problem_404(),
            },
        },
    }


def _receipt_page(shown: str, page: str) -> dict[str, Any]:
    """The page a sent form leads to, named by a signed receipt of its reference."""
    return {
        "get": {
            "summary": shown,
            "parameters": [
                parts.path_parameter("receipt", {"type": "string"}, "A signed receipt.")
            ],
            "responses": {**parts.page(page), **parts.page_problems(404)},
        }
    }


def page_paths() -> dict[str, Any]:
    return {
        "/": {
            "get": {
                "summary": "The season: published shows, their next performances and free seats",
                "parameters": [parts.LANG],
                "responses": {**parts.page("The season page"), **parts.page_problems()},
            }
        },
        "/shows/{slug}": {
            "get": {
                "summary": "A show: poster, summary, description, performances and Book links",
                "parameters": [
                    parts.path_parameter("slug", {"type": "string"}, "The show's slug."),
                    parts.LANG,
                ],
                "responses": {**parts.page("The show's page"), **parts.page_problems(404)},
            }
        },
        "/posters/{digest}": {
            method: {
                "summary": "A show's stored poster, cached for a year (its URL is its hash)",
                "parameters": [
                    parts.path_parameter("digest", {"type": "string"}, "The hash of the poster.")
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
                    **parts.problems(404),
                },
            }
            for method in ("get", "head")
        },
        "/book/{performance_id}": _form_page(
            shown="The booking form of a performance (or why it cannot be booked now)",
            page="The performance and its booking form",
            sent="Ask for seats with the form; they are held once the mail is confirmed",
            redirect="Asked: `Location` is the page that says to check the mail",
        ),
        "/booked/{receipt}": _receipt_page(
            "The reference of a booking just asked for, and the mail to look for",
            "The booking's reference",
        ),
        "/waitlist/{performance_id}": _form_page(
            shown="The waiting-list form of a performance (the booking form's fields)",
            page="The performance and its waiting-list form",
            sent="Join the waiting list with the form",
            redirect="Joined: `Location` names the reference and place",
        ),
        "/waitlisted/{receipt}": _receipt_page(
            "The reference and place of a party that just joined a waiting list",
            "The entry's reference",
        ),
        "/offer/{token}": {
            "get": {
                "summary": "A waiting-list offer and until when it holds (showing accepts nothing)",
                "parameters": [parts.TOKEN],
                "responses": {
                    **parts.page("The offer and an Accept button"),
                    **parts.page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Accept the offer, then go to the ticket",
                "parameters": [parts.FORM_COOKIE, parts.TOKEN],
                "requestBody": parts.form(),
                "responses": {
                    "303": {
                        "description": parts.WHY[303],
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **parts.page_problems(404, 409, 410, *parts.FORM_REFUSALS),
                },
            },
        },
        "/leave/{token}": {
            "get": {
                "summary": "The leave page of a waiting-list entry (showing it changes nothing)",
                "parameters": [parts.TOKEN],
                "responses": {
                    **parts.page("The entry and a Leave button"),
                    **parts.page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Leave the waiting list (an open offer's seats are passed on)",
                "parameters": [parts.FORM_COOKIE, parts.TOKEN],
                "requestBody": parts.form(),
                "responses": {
                    **parts.page("Left"),
                    **parts.page_problems(404, 409, 410, *parts.FORM_REFUSALS),
                },
            },
        },
        "/confirm/{token}": {
            "get": {
                "summary": "The confirm page (showing it confirms nothing)",
                "parameters": [parts.TOKEN],
                "responses": {
                    **parts.page("The booking and a Confirm button"),
                    **parts.page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Confirm, then go to the ticket",
                "parameters": [parts.FORM_COOKIE, parts.TOKEN],
                "requestBody": parts.form(),
                "responses": {
                    "303": {
                        "description": parts.WHY[303],
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **parts.page_problems(404, 409, 410, *parts.FORM_REFUSALS),
                },
            },
        },
        "/cancel/{token}": {
            "get": {
                "summary": "The cancel page (showing it cancels nothing)",
                "parameters": [parts.TOKEN],
                "responses": {
                    **parts.page("The booking and a Cancel button"),
                    **parts.page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Cancel the booking",
                "parameters": [parts.FORM_COOKIE, parts.TOKEN],
                "requestBody": parts.form(),
                "responses": {
                    **parts.page("Cancelled"),
                    **parts.page_problems(404, 409, 410, *parts.FORM_REFUSALS),
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
                    parts.path_parameter(
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
                    **parts.page_problems(404, 409),
                },
            }
        },
        "/t/{ticket}/cancel": {
            "get": {
                "summary": "Cancel from the ticket: the page (showing it cancels nothing)",
                "parameters": [
                    parts.path_parameter("ticket", {"type": "string"}, "The ticket token.")
                ],
                "responses": {
                    **parts.page("The booking and a Cancel button"),
                    **parts.page_problems(404, 409, 410),
                },
            },
            "post": {
                "summary": "Cancel the booking of this ticket, until the performance starts",
                "parameters": [
                    parts.FORM_COOKIE,
                    parts.path_parameter("ticket", {"type": "string"}, "The ticket token."),
                ],
                "requestBody": parts.form(),
                "responses": {
                    **parts.page("Cancelled"),
                    **parts.page_problems(404, 409, 410, *parts.FORM_REFUSALS),
                },
            },
        },
    }
