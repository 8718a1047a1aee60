"""`GET /posters/{hash}`: a published show's stored poster, cached for a year, revalidated by
its ETag; 404 for anything else. Every other answer stays `Cache-Control: no-store`."""

from __future__ import annotations

import falcon
import pytest
from sqlmodel import Session

from azctl import errors
from azctl.models import Show
from azctl.services import catalog, posters
from tests.http.helpers import Client, assert_problem
from tests.images import encoded, opened

YEAR = "public, max-age=31536000, immutable"


@pytest.fixture
def show(session: Session) -> Show:
    return catalog.add_show(session, title="La Locandiera", publish=True)


def with_poster(session: Session, show: Show, poster: posters.Poster) -> str:
    catalog.edit_show(session, slug=show.slug, poster=poster)
    assert poster.digest is not None
    return poster.digest


@pytest.fixture
def photo() -> posters.Poster:
    return posters.from_bytes(encoded("JPEG", (2000, 3000)))


def test_the_stored_poster_is_served_with_its_type_and_a_years_cache(
    client: Client, session: Session, show: Show, photo: posters.Poster
):
    digest = with_poster(session, show, photo)
    result = client.simulate_get(f"/posters/{digest}")
    assert result.status_code == 200
    assert result.content == photo.image
    assert result.headers["Content-Type"] == "image/jpeg"
    assert result.headers["Cache-Control"] == YEAR
    assert result.headers["ETag"] == f'"{digest}"'
    assert result.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in result.headers["Content-Security-Policy"]
    assert opened(result.content).size == (1200, 1800)


def test_a_transparent_poster_is_served_as_png(client: Client, session: Session, show: Show):
    poster = posters.from_bytes(encoded("PNG", (300, 300), mode="RGBA", color=(0, 0, 0, 0)))
    result = client.simulate_get(f"/posters/{with_poster(session, show, poster)}")
    assert (result.status_code, result.headers["Content-Type"]) == (200, "image/png")
    assert result.content == poster.image


@pytest.mark.parametrize("tag", ['"{digest}"', 'W/"{digest}"', '"other", "{digest}"', "*"])
def test_a_browser_that_has_it_is_answered_304(
    client: Client, session: Session, show: Show, photo: posters.Poster, tag: str
):
    digest = with_poster(session, show, photo)
    result = client.simulate_get(
        f"/posters/{digest}", headers={"If-None-Match": tag.format(digest=digest)}
    )
    assert result.status_code == 304
    assert result.content == b""
    assert result.headers["ETag"] == f'"{digest}"'
    assert result.headers["Cache-Control"] == YEAR


def test_another_etag_gets_the_image(
    client: Client, session: Session, show: Show, photo: posters.Poster
):
    digest = with_poster(session, show, photo)
    result = client.simulate_get(f"/posters/{digest}", headers={"If-None-Match": '"0123abcd"'})
    assert (result.status_code, result.content) == (200, photo.image)


def test_head_sends_the_headers_alone(
    client: Client, session: Session, show: Show, photo: posters.Poster
):
    digest = with_poster(session, show, photo)
    result = client.simulate_head(f"/posters/{digest}")
    assert (result.status_code, result.content) == (200, b"")
    assert (result.headers["Content-Type"], result.headers["Cache-Control"]) == ("image/jpeg", YEAR)


@pytest.mark.parametrize(
    "path",
    [
        "/posters/" + "0" * 32,
        "/posters/" + "0" * 64,
        "/posters/ZZZ",
        "/posters/%2e%2e%2fsecret_key",
        "/posters/" + "a" * 5000,
    ],
)
def test_an_unknown_or_malformed_hash_is_a_404_problem_never_cached(
    client: Client, session: Session, show: Show, photo: posters.Poster, path: str
):
    with_poster(session, show, photo)
    result = client.simulate_get(path, headers={"If-None-Match": "*"})
    assert_problem(result, 404, "not_found")  # with `Cache-Control: no-store`


def test_an_unpublished_shows_poster_is_not_served(
    client: Client, session: Session, show: Show, photo: posters.Poster
):
    digest = with_poster(session, show, photo)
    catalog.set_published(session, slug=show.slug, published=False)
    assert_problem(client.simulate_get(f"/posters/{digest}"), 404, "not_found")
    # Nor answered 304, which would tell that it exists.
    hidden = client.simulate_get(f"/posters/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert_problem(hidden, 404, "not_found")
    catalog.set_published(session, slug=show.slug, published=True)
    assert client.simulate_get(f"/posters/{digest}").status_code == 200


def test_a_replaced_or_removed_poster_is_gone_from_its_address(
    client: Client, session: Session, show: Show, photo: posters.Poster
):
    old = with_poster(session, show, photo)
    new = with_poster(session, show, posters.from_bytes(encoded("PNG", color=(0, 90, 0))))
    assert new != old
    assert_problem(client.simulate_get(f"/posters/{old}"), 404, "not_found")
    assert client.simulate_get(f"/posters/{new}").status_code == 200
    catalog.edit_show(session, slug=show.slug, remove_poster=True)
    assert_problem(client.simulate_get(f"/posters/{new}"), 404, "not_found")


def test_a_poster_given_as_a_url_is_not_served_here(client: Client, session: Session, show: Show):
    catalog.edit_show(
        session, slug=show.slug, poster=posters.from_url("https://example.org/poster.jpg")
    )
    stored = catalog.get_show(session, slug=show.slug)
    assert stored.poster_src == "https://example.org/poster.jpg"
    assert_problem(client.simulate_get("/posters/" + "0" * 32), 404, "not_found")


class _OwnCache:
    """A resource that names its own lifetime, then, when asked, refuses."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.set_header("Cache-Control", "public, max-age=60")
        if req.get_param_as_bool("refuse"):
            raise errors.NotFound("not here")
        resp.text = "ok"


def test_only_an_answer_given_keeps_a_resources_own_cache_lifetime(client: Client):
    client.app.add_route("/own-cache", _OwnCache())
    assert client.simulate_get("/own-cache").headers["Cache-Control"] == "public, max-age=60"
    refused = client.simulate_get("/own-cache", params={"refuse": "true"})
    assert_problem(refused, 404, "not_found")  # `no-store`, not the resource's own
    assert client.simulate_get("/api/shows").headers["Cache-Control"] == "no-store"
