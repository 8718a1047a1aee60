"""Anti-forgery tokens for the visitor's forms: a POST counts only if this browser's page made it.

Each browser gets a random cookie (`azctl_form`, HttpOnly). Every form on a page carries a hidden
`csrf_token`: the cookie's digest, signed with the secret key (`itsdangerous`, with a salt of
its own) and timed. Another site can make a browser POST here, cookie and all, but cannot read
a page of ours to learn a token, and a token made for one cookie is refused with any other. So a
POST to a resource with `html_forms = True` is refused with a 403 page (`forbidden`), before any
service is called and so with nothing changed, when the token is missing, forged, too old or
for another cookie. The JSON API has no forms and no cookies, and takes no token.

A theatre that frames the pages in its own site (`AZCTL_EMBED_ORIGINS`) is another site: a
browser sends a `SameSite=Lax` cookie to a framed page of ours from no other site. There, on
https, the cookie is `SameSite=None; Secure; Partitioned`: kept apart per embedding site,
and sent from the frame. The token is what tells the visitor's own POST from a forged one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

import falcon
from itsdangerous import BadData, URLSafeTimedSerializer

from azctl import errors
from azctl.http import pages
from azctl.http.bodies import read_form
from azctl.settings import get_settings

COOKIE = "azctl_form"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 12 * 3600  # a form left open over a long lunch still posts
_SALT = "azctl.http.forgery"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class FormExpired(errors.AzctlError):
    """A form POST without a good token: forged, or from a page open for too long."""

    code = "forbidden"
    status = 403


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().hmac_key, salt=_SALT)


def _digest(cookie: str) -> str:
    """What a token holds of its cookie: a page shows the token, never the cookie itself."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def new_cookie() -> str:
    return secrets.token_urlsafe(32)


def token_for(cookie: str) -> str:
    """The `csrf_token` a page's forms carry for the browser holding `cookie`."""
    return str(_serializer().dumps(_digest(cookie)))


def is_valid(cookie: str | None, token: str | None) -> bool:
    """`token` was made here for `cookie`, less than `MAX_AGE_SECONDS` ago."""
    if not cookie or not token or not _COOKIE_VALUE.fullmatch(cookie):
        return False
    try:
        signed = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadData:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, _digest(cookie))


def form_token(req: falcon.Request) -> str:
    """The token for this page's forms (set by `Forgery` on every `html_forms` resource)."""
    return str(req.context.form_token)


class Forgery:
    """Checks the token of every POST to an `html_forms` resource, and gives every such page a
    token for its forms (and the browser its cookie, if it has none yet)."""

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, _params: dict[str, Any]
    ) -> None:
        if not getattr(resource, "html_forms", False):
            return
        cookie = req.cookies.get(COOKIE)
        if req.method == "POST":
            if not is_valid(cookie, read_form(req).get(FIELD)):
                raise FormExpired("this form has expired or was not sent from our page; reload it")
        elif cookie is None or not _COOKIE_VALUE.fullmatch(cookie):
            cookie = new_cookie()
            pages.set_cookie(req, resp, COOKIE, cookie)
        req.context.form_token = token_for(str(cookie))
