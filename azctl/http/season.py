"""The season (`/`) and a show's page (`/shows/{slug}`): what a visitor browses before booking.

Thin shells over `services.public`: the rows come from there (kept a moment by the worker's
listing cache, like the JSON listing) and are rendered in each visitor's language. Both pages
may be indexed by search engines, unlike the pages that links with tokens open.
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
        shows = self.cache.kept("page:/", lambda: public.season(req.context.session))
        pages.render(req, resp, "season.html", shows=shows, shown_dates=SHOWN_DATES)


class ShowPage:
    html_pages = True

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        show = self.cache.kept(
            f"page:{req.path}", lambda: public.show_page(req.context.session, slug=slug)
        )
        # Issue 13 turns this on: a sold-out performance then offers its waiting list.
        pages.render(req, resp, "show.html", show=show, waitlist_open=False)
