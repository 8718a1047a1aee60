"""The JSON resources of the public endpoint: thin shells over the services."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from azctl.http import problems, schemas
from azctl.http.bodies import booking_language, read_json
from azctl.http.cache import AnswerCache
from azctl.services import booking, checkin, public, times, waitlist


class Health:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        """200 when the database answers; a 503 problem otherwise."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        resp.media = schemas.checked(schemas.Health, {"status": "ok", "database": "ok"})

    on_head = on_get  # what uptime checkers and load balancers often send; Falcon drops the body


class Shows:
    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.cache.answer(
            resp,
            req.path,
            lambda: schemas.checked(
                schemas.ShowList, {"shows": public.list_shows(req.context.session)}
            ),
        )

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        self.cache.answer(
            resp,
            req.path,
            lambda: schemas.checked(
                schemas.PublicShow, public.get_show(req.context.session, slug=slug)
            ),
        )


class Performances:
    rate_limit_scope = "booking"

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def on_get(self, req: falcon.Request, resp: falcon.Response, performance_id: int) -> None:
        def answer() -> dict[str, Any]:
            summary = booking.public_performance(req.context.session, performance_id=performance_id)
            return schemas.checked(
                schemas.PublicPerformance, public.performance_dict(summary, times.now_utc())
            )

        self.cache.answer(resp, req.path, answer)

    def on_post_reservations(
        self, req: falcon.Request, resp: falcon.Response, performance_id: int
    ) -> None:
        """Ask for seats: 202, because they are held only once the emailed link is followed."""
        request = read_json(req, schemas.BookingRequest)
        submitted = booking.submit_booking(
            req.context.session,
            performance_id=performance_id,
            **_party(req, request),
        )
        resp.status = falcon.HTTP_202
        resp.media = schemas.checked(
            schemas.BookingAccepted,
            {
                "reference": submitted.reservation.reference,
                "status": "pending",
                "message": "We have emailed you a link: your seats are held once you confirm.",
            },
        )

    def on_post_waitlist(
        self, req: falcon.Request, resp: falcon.Response, performance_id: int
    ) -> None:
        """Join a sold-out performance's waiting list (DESIGN §8): 202, a place in the queue."""
        request = read_json(req, schemas.BookingRequest)
        joined = waitlist.join(
            req.context.session,
            performance_id=performance_id,
            **_party(req, request),
        )
        resp.status = falcon.HTTP_202
        resp.media = schemas.checked(
            schemas.WaitlistJoined,
            {
                "reference": joined.entry.reference,
                "status": "waiting",
                "position": joined.position,
                "message": "You are on the waiting list: we will email you when seats are free.",
            },
        )


class Offers:
    """Accept a waiting-list offer with the token from its mail: a confirmed booking."""

    rate_limit_scope = "confirmation"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = read_json(req, schemas.TokenRequest)
        accepted = waitlist.accept_offer(req.context.session, token=request.token)
        resp.media = schemas.checked(schemas.Confirmation, accepted.as_dict())


class Confirmations:
    rate_limit_scope = "confirmation"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = read_json(req, schemas.TokenRequest)
        confirmed = booking.confirm_booking(req.context.session, token=request.token)
        resp.media = schemas.checked(schemas.Confirmation, confirmed.as_dict())


class Cancellations:
    rate_limit_scope = "cancellation"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = read_json(req, schemas.TokenRequest)
        reservation = booking.cancel_by_token(req.context.session, token=request.token)
        resp.media = schemas.checked(
            schemas.Cancellation,
            {
                "reference": reservation.reference,
                "status": "cancelled",
                "message": "Your booking is cancelled and its seats are free again.",
            },
        )


class CheckIns:
    """A door phone or another scanner: staff only; the answer carries no personal data."""

    rate_limit_scope = "checkin"
    staff_only = True

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = read_json(req, schemas.ScanRequest)
        outcome = checkin.scan(
            req.context.session,
            text=request.token,
            performance_id=request.performance_id,
            staff=req.context.staff,
            door=request.door,
            direction=request.direction,
        )
        answer = outcome.as_dict()
        if outcome.admitted:
            resp.status = falcon.HTTP_201
            resp.media = schemas.checked(schemas.CheckInAnswer, answer)
            return
        result, message = answer.pop("result"), answer.pop("message")
        known = {key: value for key, value in answer.items() if value is not None}
        problems.write_problem(resp, outcome.result.http_status, result, message, **known)


def _party(req: falcon.Request, request: schemas.BookingRequest) -> dict[str, Any]:
    """Who asks, as a booking and a waiting list take it: the same fields, the same language."""
    return {
        "name": request.name,
        "email": request.email,
        "phone": request.phone,
        "party_size": request.party_size,
        "notes": request.notes,
        "language": booking_language(req, request.language),
    }
