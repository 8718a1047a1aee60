"""`GET /posters/{hash}`: a show's stored poster, named by the hash of its bytes.

The same address always holds the same bytes (a new poster gets a new hash, and the show's page
links the new one), so browsers and proxies may keep it for a year without asking again; a
revalidation that does come is answered 304 by the ETag. A poster of an unpublished show is not
public: 404, like an address that never held one.
"""

from __future__ import annotations

import falcon

from azctl.services import posters

CACHE_CONTROL = "public, max-age=31536000, immutable"


class PosterImage:
    def on_get(self, req: falcon.Request, resp: falcon.Response, digest: str) -> None:
        stored = posters.published(req.context.session, digest=digest)
        # Set only once the poster is found: every refusal stays `no-store` (middleware).
        resp.set_header("Cache-Control", CACHE_CONTROL)
        resp.etag = f'"{digest}"'
        asked = req.if_none_match or []
        if any(tag == "*" or str(tag) == digest for tag in asked):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = stored.media_type or falcon.MEDIA_JPEG
        resp.data = stored.image

    on_head = on_get  # Falcon sends HEAD's headers without the body
