"""The few HTML pages a visitor's email link lands on, rendered with Jinja2 (autoescape on).

The stylesheet is inline and allowed by its hash in the Content-Security-Policy, so the pages
need no static route and run no script at all.
"""

from __future__ import annotations

import base64
import hashlib
from http import HTTPStatus
from importlib.resources import files
from typing import Any

import falcon
import jinja2

from azctl import errors

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("azctl.http", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STYLESHEET = (files("azctl.http") / "templates" / "page.css").read_text()
_style_hash = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; "
    f"style-src 'sha256-{_style_hash}'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

# What a visitor reads when a link cannot do what it promised: a heading per domain code.
_HEADINGS = {
    "invalid_token": "This link is not valid",
    "token_used": "This link has already been used",
    "token_expired": "This link has expired",
    "sold_out": "Sorry, sold out",
    "booking_closed": "Booking is closed",
    "rate_limited": "Too many tries",
    "invalid_state": "This link can no longer be used",
    "unavailable": "Please try again in a moment",
}


def render(resp: falcon.Response, template: str, *, status: int = 200, **context: Any) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.text = _environment.get_template(template).render(stylesheet=STYLESHEET, **context)


def render_problem(resp: falcon.Response, error: errors.AzctlError) -> None:
    heading = _HEADINGS.get(error.code) or HTTPStatus(error.status).phrase
    render(resp, "problem.html", status=error.status, heading=heading, error=error)
