"""The visitor's HTML pages, rendered with Jinja2 (autoescape on) in the visitor's language.

The stylesheet is inline and allowed by its hash in the Content-Security-Policy, so a page loads
in one round trip (plus a poster), needs no static route and runs no script at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from functools import lru_cache
from http import HTTPStatus
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import falcon
import jinja2

from azctl import errors
from azctl.http.cache import AnswerCache
from azctl.services import i18n
from azctl.services.i18n import N_
from azctl.settings import Settings, get_settings

STYLESHEET = (files("azctl.http") / "templates" / "page.css").read_text()
_style_hash = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
LANGUAGE_COOKIE = "azctl_lang"
# Each language's name in itself, for the switch (a visitor looks for their own language).
LANGUAGE_NAMES = {"it": "Italiano", "en": "English", "de": "Deutsch", "fr": "Français"}


def content_security_policy(settings: Settings) -> str:
    """No script at all; the inline stylesheet by its hash; posters from here or over https;
    framed only by the theatre's own sites (AZCTL_EMBED_ORIGINS)."""
    ancestors = settings.embed_origins or "'none'"
    return (
        "default-src 'none'; img-src 'self' https:; "
        f"style-src 'sha256-{_style_hash}'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )


# What a visitor reads when a link cannot do what it promised: a heading per domain code.
_HEADINGS = {
    "invalid_token": N_("This link is not valid"),
    "token_used": N_("This link has already been used"),
    "token_expired": N_("This link has expired"),
    "sold_out": N_("Sorry, sold out"),
    "booking_closed": N_("Booking is closed"),
    "not_enough_seats": N_("Not enough seats"),
    "seats_available": N_("There are free seats: please book"),
    "already_waiting": N_("You are already on the waiting list"),
    "not_found": N_("We could not find this page"),
    "rate_limited": N_("Too many tries"),
    "invalid_state": N_("This link can no longer be used"),
    "unavailable": N_("Please try again in a moment"),
    "forbidden": N_("This form has expired"),
    "internal_error": N_("Something went wrong"),
    "invalid_input": N_("We could not read what was sent"),
}


@lru_cache(maxsize=8)
def _environment(language: str) -> jinja2.Environment:
    return i18n.environment(
        jinja2.PackageLoader("azctl.http", "templates"),
        language,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language_of(req: falcon.Request) -> str:
    """The language this page is written in (chosen by the `Language` middleware)."""
    return req.context.get("language") or i18n.default_language()


def choose_language(req: falcon.Request) -> str:
    """DESIGN §11: `?lang=`, the cookie, `Accept-Language`, the default."""
    return i18n.choose(
        query=i18n.known(req.get_param("lang")),
        cookie=req.cookies.get(LANGUAGE_COOKIE),
        accept_language=req.get_header("Accept-Language"),
    )


def gettext(req: falcon.Request, message: str) -> str:
    return i18n.gettext(language_of(req))(message)


def _switch(req: falcon.Request, language: str) -> list[dict[str, str]]:
    """A link per other language: this page again, with `?lang=`."""
    params = {key: value for key, value in req.params.items() if key != "lang"}
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "href": f"{req.path}?{urlencode({**params, 'lang': code})}",
        }
        for code in i18n.languages()
        if code != language
    ]


def set_cookie(
    req: falcon.Request, resp: falcon.Response, name: str, value: str, *, max_age: int | None = None
) -> None:
    """A cookie of the visitor's pages (the language, the forms' anti-forgery cookie).

    `SameSite=Lax` keeps it from POSTs another site makes. A page framed by the theatre's own
    site (AZCTL_EMBED_ORIGINS) is on another site, where a browser sends no Lax cookie: there,
    on https, it is `SameSite=None; Secure; Partitioned`, kept apart per embedding site.
    """
    framed = bool(get_settings().embed_origins) and req.scheme == "https"
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=req.scheme == "https",
        http_only=True,
        same_site="None" if framed else "Lax",
        partitioned=framed,
    )


def page_bytes(req: falcon.Request, template: str, **context: Any) -> bytes:
    """The page `template` in the visitor's language, with the theatre's name and the switch."""
    settings = get_settings()
    language = language_of(req)
    html = (
        _environment(language)
        .get_template(template)
        .render(
            stylesheet=STYLESHEET,
            theatre={
                "name": settings.theatre_name,
                "url": settings.theatre_url,
                "privacy_url": settings.privacy_url,
            },
            switch=_switch(req, language),
            **context,
        )
    )
    return html.encode()


def _answer(req: falcon.Request, resp: falcon.Response, html: bytes, status: int) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Content-Language", language_of(req))
    resp.data = html


def render(
    req: falcon.Request,
    resp: falcon.Response,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> None:
    """Answers with the page `template` (`page_bytes`)."""
    _answer(req, resp, page_bytes(req, template, **context), status)


def render_kept(
    req: falcon.Request,
    resp: falcon.Response,
    cache: AnswerCache,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> None:
    """A page everyone sees alike (the season, a show): rendered once per language and address
    while the worker's listing cache keeps it, since Babel writing every date of a season
    costs more than the database does. An error `context` raises is not kept."""
    key = f"html:{language_of(req)}:{req.relative_uri}"
    html = cache.kept(key, lambda: page_bytes(req, template, **context()))
    _answer(req, resp, html, 200)


def render_problem(req: falcon.Request, resp: falcon.Response, error: errors.AzctlError) -> None:
    heading = _HEADINGS.get(error.code)
    title = gettext(req, heading) if heading else HTTPStatus(error.status).phrase
    render(req, resp, "problem.html", status=error.status, heading=title, error=error)
