"""What every request passes through: a database session, security headers, rate limits and
staff authentication, each declared by the resource it concerns rather than by path."""

from __future__ import annotations

from typing import Any

import falcon
from sqlalchemy.engine import Engine

from azctl import db
from azctl.http import pages, problems
from azctl.http.ratelimit import RateLimiter
from azctl.services import i18n, staff
from azctl.settings import Settings

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Links carry tokens in their path: never leak them to another site, never keep them in caches.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Nor write them to the server's access log: gunicorn logs the request line from these keys of the
# environ after the app has answered, so the app leaves them with the token replaced.
_LOGGED_TARGETS = ("RAW_URI", "REQUEST_URI", "PATH_INFO")


class DatabaseSession:
    """One session per request, on `req.context.session`; closed (rolled back if open) after.

    GET and HEAD change nothing (a visitor's link pages only show), so on PostgreSQL they read
    in autocommit: no BEGIN and no ROLLBACK, two round trips fewer on every page a crowd reloads.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_engine = db.read_only(engine)

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        reading = req.method in ("GET", "HEAD")
        req.context.session = db.new_session(self.read_engine if reading else self.engine)

    def process_response(
        self, req: falcon.Request, _resp: falcon.Response, _resource: Any, _succeeded: bool
    ) -> None:
        session = req.context.get("session")
        if session is not None:
            session.close()


class SecurityHeaders:
    """The same headers on every answer; a page may be framed only by AZCTL_EMBED_ORIGINS."""

    def __init__(self, settings: Settings) -> None:
        self.headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": pages.content_security_policy(settings),
        }
        if not settings.embed_origins:
            self.headers["X-Frame-Options"] = "DENY"  # for browsers older than frame-ancestors

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        req.context.html_page = False

    def process_resource(
        self, req: falcon.Request, _resp: falcon.Response, resource: Any, _params: dict[str, Any]
    ) -> None:
        # Tells the error handler to answer a visitor's page with a page, not with JSON.
        req.context.html_page = getattr(resource, "html_pages", False)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, _resource: Any, succeeded: bool
    ) -> None:
        # A resource may name its own cache lifetime for an answer it gave (a poster, named by
        # its hash, is kept for a year); everything else, refusals included, is `no-store`.
        own_cache = resp.get_header("Cache-Control") if succeeded else None
        resp.set_headers(self.headers)
        if own_cache and resp.status_code < 400:
            resp.set_header("Cache-Control", own_cache)
        for key in _LOGGED_TARGETS:
            if isinstance(req.env.get(key), str):
                req.env[key] = problems.loggable_path(req.env[key])


class Language:
    """Chooses the language of a visitor's page (DESIGN §11): `?lang=`, the cookie,
    `Accept-Language`, the default. A `?lang=` the theatre offers is kept in the cookie."""

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, _params: dict[str, Any]
    ) -> None:
        if not getattr(resource, "html_pages", False):
            return
        asked = i18n.known(req.get_param("lang"))
        req.context.language = pages.choose_language(req)
        resp.append_header("Vary", "Accept-Language, Cookie")
        if asked:
            pages.set_cookie(req, resp, pages.LANGUAGE_COOKIE, asked, max_age=365 * 86400)


class RateLimits:
    """POSTs to a resource with a `rate_limit_scope` count against that scope's limit."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def process_resource(
        self, req: falcon.Request, _resp: falcon.Response, resource: Any, _params: dict[str, Any]
    ) -> None:
        scope = getattr(resource, "rate_limit_scope", None)
        if scope is not None and req.method == "POST":
            self.limiter.hit(req, scope)


class StaffAuthentication:
    """Resources with `staff_only = True` need `Authorization: Bearer <token>` of active staff."""

    def process_resource(
        self, req: falcon.Request, _resp: falcon.Response, resource: Any, _params: dict[str, Any]
    ) -> None:
        if not getattr(resource, "staff_only", False):
            return
        if not hasattr(resource, f"on_{req.method.lower()}"):
            return  # Falcon answers 405; a wrong method is not a login attempt
        scheme, _, token = (req.get_header("Authorization") or "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        req.context.staff = staff.authenticate(req.context.session, token=bearer)
