"""A worker's short memory of the public listing answers.

When tickets go on sale, visitors reload `GET /api/shows`, the season page, a show's page and a
performance's seats far more often than anything changes. Each gunicorn worker keeps an answer
for `AZCTL_PUBLIC_CACHE_SECONDS` (1 s by default), so a crowd costs a query a second, not one per
reload. A seat count shown may be
that old; it is only a hint, since booking and confirmation always recount under the lock.
Refusals (404) are never kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar

import falcon
import falcon.media

T = TypeVar("T")
MAX_ANSWERS = 1024  # one per published show and performance; a bound, not a tuning knob


class AnswerCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._answers: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._json = falcon.media.JSONHandler()

    def answer(self, resp: falcon.Response, key: str, make: Callable[[], dict[str, Any]]) -> None:
        """Answer `resp` with the JSON of `make()`, or with the one made for `key` lately."""
        if self.seconds <= 0:
            resp.media = make()
            return
        resp.data = self.kept(key, lambda: self._json.serialize(make(), falcon.MEDIA_JSON))
        resp.content_type = falcon.MEDIA_JSON

    def kept(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, or what it made for `key` lately; an error it raises is not kept.

        What is kept is shared by the worker's threads, so `make` returns something never
        changed afterwards (bytes, frozen rows). The visitor's pages keep their rows this way
        and render them in each visitor's language.
        """
        if self.seconds <= 0:
            return make()
        now = monotonic()
        kept = self._answers.get(key)
        if kept is None or kept[0] <= now:
            kept = (now + self.seconds, make())
            with self._lock:
                if len(self._answers) >= MAX_ANSWERS:
                    self._answers.clear()
                self._answers[key] = kept
        return kept[1]  # type: ignore[no-any-return]
