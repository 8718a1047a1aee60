"""The Falcon WSGI app: `create_app()` takes its dependencies; `get_app()` is gunicorn's entry.

gunicorn 'azctl.http.app:get_app()'
"""

from __future__ import annotations

import falcon
import limits.errors
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from azctl import db, errors
from azctl.http import (
    api,
    book,
    forgery,
    links,
    middleware,
    openapi,
    posters,
    problems,
    season,
    waitlist,
)
from azctl.http.cache import AnswerCache
from azctl.http.ratelimit import RateLimiter
from azctl.models import MAX_ID
from azctl.settings import Settings, get_settings

_PERFORMANCE = f"/api/performances/{{performance_id:int(min=1, max={MAX_ID})}}"
_BOOK = f"/book/{{performance_id:int(min=1, max={MAX_ID})}}"
_WAITLIST = f"/waitlist/{{performance_id:int(min=1, max={MAX_ID})}}"


def create_app(
    *, engine: Engine, settings: Settings, limiter: RateLimiter | None = None
) -> falcon.App:
    """The public endpoint over `engine`, limited by `limiter` (from `settings` if not given)."""
    try:
        limiter = limiter or RateLimiter.from_settings(settings)
    except limits.errors.ConfigurationError as exc:
        raise errors.InvalidInput(
            "ratelimit_storage", f"AZCTL_RATELIMIT_STORAGE cannot be used: {exc}"
        ) from None
    app = falcon.App(
        middleware=[
            middleware.SecurityHeaders(settings),
            middleware.Language(),
            middleware.DatabaseSession(engine),
            middleware.RateLimits(limiter),
            forgery.Forgery(),
            middleware.StaffAuthentication(),
        ]
    )
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route("/health", api.Health(engine))
    cache = AnswerCache(settings.public_cache_seconds)
    shows = api.Shows(cache)
    app.add_route("/api/shows", shows)
    app.add_route("/api/shows/{slug}", shows, suffix="item")
    performances = api.Performances(cache)
    app.add_route(_PERFORMANCE, performances)
    app.add_route(f"{_PERFORMANCE}/reservations", performances, suffix="reservations")
    app.add_route(f"{_PERFORMANCE}/waitlist", performances, suffix="waitlist")
    app.add_route("/api/confirmations", api.Confirmations())
    app.add_route("/api/offers", api.Offers())
    app.add_route("/api/cancellations", api.Cancellations())
    app.add_route("/api/checkins", api.CheckIns())
    app.add_route("/confirm/{token}", links.ConfirmPage())
    app.add_route("/cancel/{token}", links.CancelPage())
    app.add_route("/t/{ticket}", links.TicketPage())
    app.add_route("/posters/{digest}", posters.PosterImage())
    app.add_route("/t/{ticket}/cancel", links.TicketCancelPage())
    app.add_route(_BOOK, book.BookPage())
    app.add_route("/booked/{receipt}", book.BookedPage())
    app.add_route(_WAITLIST, waitlist.WaitlistPage())
    app.add_route("/waitlisted/{receipt}", waitlist.WaitlistedPage())
    app.add_route("/offer/{token}", waitlist.OfferPage())
    app.add_route("/leave/{token}", waitlist.LeavePage())
    app.add_route("/openapi.json", openapi.OpenAPI(settings))
    app.add_route("/", season.SeasonPage(cache))
    app.add_route("/shows/{slug}", season.ShowPage(cache))
    app.add_error_handler(Exception, problems.handle_unexpected)
    app.add_error_handler((OperationalError, InterfaceError), problems.handle_database_error)
    app.add_error_handler(errors.AzctlError, problems.handle_domain_error)
    app.set_error_serializer(problems.serialize_http_error)
    return app


def get_app() -> falcon.App:
    """The app as configured by `AZCTL_*`: what each gunicorn worker loads."""
    return create_app(engine=db.get_engine(), settings=get_settings())
