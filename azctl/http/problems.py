"""One place where every refusal becomes an answer: `application/problem+json` (RFC 9457) with
the domain's stable `code`, or, on a visitor's HTML page, a page that says the same in words.

Nothing escapes as a traceback: a lost database is a 503 and anything unforeseen a logged 500.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

import falcon
from sqlalchemy.exc import DBAPIError

from azctl import errors
from azctl.http import pages

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("azctl.http")

_DETAILS = {
    404: "there is nothing at this address",
    405: "this address does not answer that method",
}
# Codes for Falcon's own refusals (no route, wrong method, …), which carry none of ours.
_HTTP_CODES = {
    400: "invalid_input",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# The links' pages carry a raw token in their path (`/t/{TOKEN}.png`): the token is a key to the
# booking, so what is logged of a path keeps the route and drops the token.
_TOKEN_IN_PATH = re.compile(
    r"(/(?:confirm|cancel|t)/)[^/?#]+?(\.(?:png|svg|ics))?(?=[/?#]|$)", re.I
)


def loggable_path(path: str) -> str:
    """`path` (or a request target with a query) with any link token in it replaced."""
    return _TOKEN_IN_PATH.sub(r"\1[token]\2", path)


class MalformedBody(errors.InvalidInput):
    """Not JSON at all, or too large to read: the request itself is bad (400), not a value."""

    status = 400


class UnsupportedMediaType(errors.AzctlError):
    code = "unsupported_media_type"
    status = 415


class RateLimited(errors.AzctlError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    title = HTTPStatus(status).phrase
    return {
        "type": f"https://azctl.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def write_problem(resp: falcon.Response, status: int, code: str, detail: str, **extra: Any) -> None:
    resp.status = status
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(problem(status, code, detail, **extra))


def _answer(req: falcon.Request, resp: falcon.Response, error: errors.AzctlError) -> None:
    if isinstance(error, RateLimited):
        resp.set_header("Retry-After", str(error.retry_after))
    if isinstance(error, errors.Unauthorized):
        resp.set_header("WWW-Authenticate", 'Bearer realm="azctl"')
    if req.context.get("html_page"):
        pages.render_problem(req, resp, error)
        return
    write_problem(resp, error.status, error.code, error.message, **error.details)


def handle_domain_error(
    req: falcon.Request, resp: falcon.Response, ex: errors.AzctlError, _params: dict[str, Any]
) -> None:
    _answer(req, resp, ex)


def handle_database_error(
    req: falcon.Request, resp: falcon.Response, ex: DBAPIError, _params: dict[str, Any]
) -> None:
    """The database cannot be reached: nothing was written (the transaction rolled back), and a
    retry may succeed. Other database errors are bugs, answered as such (500), not as outages."""
    path = loggable_path(req.path)
    log.warning("database unavailable on %s %s: %s", req.method, path, ex.orig or ex)
    resp.set_header("Retry-After", "5")
    _answer(req, resp, errors.Unavailable("the box office is briefly unavailable; try again"))


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, _params: dict[str, Any]
) -> None:
    log.exception("unexpected error on %s %s", req.method, loggable_path(req.path))
    error = errors.AzctlError("something went wrong on our side; nothing was changed")
    error.code, error.status = "internal_error", 500
    _answer(req, resp, error)


_OFFERED = (PROBLEM_JSON, falcon.MEDIA_JSON, falcon.MEDIA_HTML)


def _wants_a_page(req: falcon.Request) -> bool:
    """A browser, which asks for HTML before anything else; API clients ask for JSON or `*/*`."""
    accept = req.get_header("Accept") or ""
    return "text/html" in accept and req.client_prefers(_OFFERED) == falcon.MEDIA_HTML


def serialize_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError) -> None:
    """Falcon's own refusals (unknown path, wrong method) in the same problem shape; an unknown
    path asked for by a browser is the visitor's "not found" page, in their language."""
    status = ex.status_code
    code = ex.code if isinstance(ex.code, str) else _HTTP_CODES.get(status, "http_error")
    detail = ex.description or _DETAILS.get(status) or HTTPStatus(status).phrase
    if status == 404 and _wants_a_page(req):
        # No resource was found, so the `Language` middleware did not run.
        req.context.language = pages.choose_language(req)
        pages.render_problem(req, resp, errors.NotFound(str(detail)))
        return
    write_problem(resp, status, code, str(detail))
