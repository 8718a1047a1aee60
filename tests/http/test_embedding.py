"""Embedding: the theatre's own site may frame the visitor's pages (AZCTL_EMBED_ORIGINS); no other
site may, and without the setting no site at all."""

from __future__ import annotations

import pytest

from azctl.settings import reload_settings

PAGES = ["/", "/shows/nothing-here", "/confirm/" + "A" * 32]


def _ancestors(headers) -> str:
    policy = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )
    return policy["frame-ancestors"]


def test_by_default_no_site_may_frame_a_page(make_client):
    client = make_client()
    for path in PAGES:
        headers = client.simulate_get(path).headers
        assert _ancestors(headers) == "'none'"
        assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "setting",
    [
        "https://www.teatro.example https://teatro.example",
        "https://www.teatro.example/,https://teatro.example",
    ],
)
def test_the_theatres_sites_may_frame_the_pages(make_client, monkeypatch, setting):
    monkeypatch.setenv("AZCTL_EMBED_ORIGINS", setting)
    reload_settings()
    client = make_client()
    for path in PAGES:
        headers = client.simulate_get(path).headers
        assert _ancestors(headers) == "https://www.teatro.example https://teatro.example"
        # X-Frame-Options can say only DENY or SAMEORIGIN: it would forbid what the CSP allows.
        assert "X-Frame-Options" not in headers


@pytest.mark.parametrize(
    "origin", ["www.teatro.example", "ftp://teatro.example", "https://teatro.example/page", "*"]
)
def test_anything_but_an_origin_is_refused_at_start(monkeypatch, origin):
    from pydantic import ValidationError

    monkeypatch.setenv("AZCTL_EMBED_ORIGINS", origin)
    with pytest.raises(ValidationError, match="is not an origin"):
        reload_settings()


def test_the_language_cookie_reaches_a_framed_page_over_https(make_client, monkeypatch):
    monkeypatch.setenv("AZCTL_EMBED_ORIGINS", "https://www.teatro.example")
    reload_settings()
    client = make_client()
    framed = client.simulate_get("/", params={"lang": "it"}, protocol="https").cookies["azctl_lang"]
    assert (framed.value, framed.same_site, framed.secure, framed.partitioned) == (
        "it",
        "None",
        True,
        True,
    )
    plain = client.simulate_get("/", params={"lang": "it"}).cookies["azctl_lang"]
    assert (plain.same_site, plain.partitioned) == ("Lax", False)
