"""Checks shared by the HTTP tests: a client that remembers its answers, the problem+json shape,
visitor pages, security headers, posting a page's form as a browser does, and reading back the
QR code a ticket serves."""

from __future__ import annotations

import re
import struct
import zlib
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import falcon
import falcon.testing
import zxingcpp
from falcon.testing import Result

from azctl.http import forgery

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORM = "application/x-www-form-urlencoded"
_FORM_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')
_BIT_TO_GREY = bytes.maketrans(b"01", b"\x00\xff")

# A visitor whose every detail is distinctive enough to be searched for in an answer.
VISITOR = {
    "name": "Mirandolina Locandiera",
    "email": "mirandolina@example.org",
    "phone": "+39 333 7654321",
    "notes": "needs the wheelchair space",
}


def _documented_path(paths: dict[str, Any], path: str) -> str | None:
    """The path template of the document that `path` falls under, if any."""
    path = path.split("?", maxsplit=1)[0].rstrip("/") or "/"
    for template in paths:
        parts = re.split(r"\{\w+\}", template)
        if re.fullmatch("[^/]+".join(re.escape(part) for part in parts), path):
            return template
    return None


class Client(falcon.testing.TestClient):
    """A test client that remembers what it was answered, for the OpenAPI check."""

    def __init__(self, app: falcon.App) -> None:
        super().__init__(app)
        self.answered: list[tuple[str, str, int]] = []

    def simulate_request(  # type: ignore[override]
        self, method: str = "GET", path: str = "/", **kwargs: Any
    ) -> falcon.testing.Result:
        result = super().simulate_request(method, path, **kwargs)
        self.answered.append((method, path, result.status_code))
        return result

    def undocumented(self) -> list[tuple[str, str, int]]:
        """Answers given on a documented path and method with a status the document omits.

        Unknown paths and methods a path does not have (404, 405) are Falcon's and not listed.
        """
        paths = falcon.testing.simulate_get(self.app, "/openapi.json").json["paths"]
        missing = []
        for method, path, status in self.answered:
            template = _documented_path(paths, path)
            operation = paths[template].get(method.lower()) if template else None
            # A 500 is a bug the test itself reports; it is never a documented answer.
            if status == 500 or operation is None:
                continue
            if str(status) not in operation["responses"]:
                missing.append((method, template, status))
        return missing


def assert_security_headers(result: Result) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert result.headers.get(name) == value, f"{name} on {result.status}"
    policy = result.headers.get("Content-Security-Policy") or ""
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def assert_problem(result: Result, status: int, code: str) -> dict[str, Any]:
    """An `application/problem+json` answer with the given status and domain code."""
    assert result.status_code == status, result.text
    assert result.headers["Content-Type"] == "application/problem+json"
    body = result.json
    assert body.keys() >= PROBLEM_KEYS
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"] == HTTPStatus(status).phrase
    assert body["type"].endswith(f"/problems/{code}")
    assert body["detail"].strip()
    assert "Traceback" not in result.text
    assert_security_headers(result)
    return body


def assert_page(result: Result, status: int, heading: str) -> str:
    """A visitor's HTML page with the given status and main heading; returns its text."""
    assert result.status_code == status, result.text
    assert result.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in result.text
    assert "Traceback" not in result.text
    assert_security_headers(result)
    return result.text


def assert_no_personal_data(text: str) -> None:
    lowered = text.lower()
    for value in VISITOR.values():
        assert value.lower() not in lowered
    for key in ("email", "phone", "notes"):
        assert f'"{key}"' not in lowered


def booking_body(**changes: Any) -> dict[str, Any]:
    """A valid booking request with `changes` applied."""
    body: dict[str, Any] = {"name": VISITOR["name"], "email": VISITOR["email"], "party_size": 2}
    body.update(changes)
    return body


def qr_text(png: bytes) -> str:
    """The text of the one QR code in a 1-bit greyscale PNG (as segno writes), read by zxing."""
    assert png.startswith(PNG_MAGIC)
    position, data = len(PNG_MAGIC), b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, chunk = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            data += chunk
        position += 12 + length
    assert (depth, colour) == (1, 0), "expected a 1-bit greyscale PNG"
    stride = (width + 7) // 8
    raw = zlib.decompress(data)
    grey, previous = bytearray(), bytes(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        # segno filters a row with None (0), or with Up (2) when it repeats the row above.
        assert kind in (0, 2), "expected only the None and Up row filters"
        if kind == 2:
            line = bytes((byte + above) & 0xFF for byte, above in zip(line, previous, strict=True))
        bits = format(int.from_bytes(line, "big"), f"0{stride * 8}b")[:width]
        grey += bits.encode().translate(_BIT_TO_GREY)
        previous = line
    [barcode] = zxingcpp.read_barcodes(memoryview(bytes(grey)).cast("B", (height, width)))
    return barcode.text


def form_token_in(page: str) -> str | None:
    """The anti-forgery token a page's form carries, if it has a form."""
    found = _FORM_TOKEN.search(page)
    return found[1] if found else None


def form_pass(shown: Result | None = None) -> tuple[str, str]:
    """The (cookie, token) a browser posts a form with: the ones the page `shown` gave it, or,
    if it had no form (a refusal), the ones an earlier page would have given it, made here."""
    cookie = shown.cookies.get(forgery.COOKIE) if shown is not None else None
    token = form_token_in(shown.text) if shown is not None else None
    if cookie is None or token is None:
        value = forgery.new_cookie()
        return value, forgery.token_for(value)
    return cookie.value, token


def post_form(
    client: falcon.testing.TestClient,
    path: str,
    fields: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Result:
    """POSTs the form of the page at `path` with `fields`, as a browser does: it GETs the page
    first and sends the anti-forgery token and cookie the page came with (`form_pass`).
    `headers` go with both requests; the other arguments (host, port, remote_addr) with the POST.
    """
    cookie, token = form_pass(client.simulate_get(path, headers=headers))
    return client.simulate_post(
        path,
        body=urlencode({**(fields or {}), forgery.FIELD: token}),
        content_type=FORM,
        cookies={forgery.COOKIE: cookie},
        headers=headers,
        **kwargs,
    )
