"""The season (`/`) and a show's page (`/shows/{slug}`): what a visitor browses before booking.

Thin shells over `services.public`: the rows come from there, rendered in each visitor's
language, and each language's page is kept a moment by the worker's listing cache, like the JSON
listing. Both pages may be indexed by search engines, unlike the pages that links with tokens
open.
"""

from __future__ import annotations

import falcon

from azctl.http import pages
from azctl.http.cache import AnswerCache
from azctl.services import public

# How many of a show's next performances the season lists; its own page lists them all.
SHOWN_DATES = 4


class SeasonPage:
    html_pages = True

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        pages.render_kept(
            req,
            resp,
            self.cache,
            "season.html",
            lambda: {"shows": public.season(req.context.session), "shown_dates": SHOWN_DATES},
        )


class ShowPage:
    html_pages = True

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        # A sold-out performance whose booking is open offers its waiting list (DESIGN §8).
        pages.render_kept(
            req,
            resp,
            self.cache,
            "show.html",
            lambda: {
                "show": public.show_page(req.context.session, slug=slug),
                "waitlist_open": True,
            },
        )
