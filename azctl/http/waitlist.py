"""The waiting list's pages (DESIGN §8, §11): join (`/waitlist/{performance_id}`), the page a join
leads to (`/waitlisted/{receipt}`), an offer (`/offer/{token}`) and leaving (`/leave/{token}`).

The join form is the booking form (`book.html` with `joining`), checked the same way and refused
field by field in the visitor's words; the list's own refusals (the party fits: book instead;
this email already waits) are shown on it too. A GET only shows; the offer is accepted and the
list left on the page's POST, so a mail scanner following links changes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import falcon

from azctl import errors
from azctl.http import book, forgery, pages
from azctl.services import booking, catalog, i18n, reports, times, waitlist
from azctl.services.i18n import N_
from azctl.settings import get_settings

_RECEIPT_SALT = "azctl.http.waitlisted"
_ALREADY_WAITING = N_("This email is already on the waiting list.")
_CLOSED = N_("Booking has just closed for this performance.")


def _state(summary: reports.PerformanceSummary) -> tuple[str, int]:
    """`open` while the list takes parties (booking open, whatever the free seats), else why
    not; and the free seats."""
    state = booking.booking_state(summary.performance, times.now_utc())
    return state, summary.seats.available_seats


def _seats_message(req: falcon.Request, free: int) -> str:
    translations = i18n.translations(pages.language_of(req))
    message = translations.ngettext(
        "%(num)s seat is free now: if your party fits, please book instead.",
        "%(num)s seats are free now: if your party fits, please book instead.",
        free,
    )
    return str(message % {"num": i18n.format_number(free, pages.language_of(req))})


class WaitlistPage:
    """`GET /waitlist/{performance_id}` the form; `POST` it to join the waiting list."""

    html_pages = True
    html_forms = True
    rate_limit_scope = "booking"

    def on_get(self, req: falcon.Request, resp: falcon.Response, performance_id: int) -> None:
        summary = booking.public_performance(req.context.session, performance_id=performance_id)
        self._render(req, resp, summary, values={})

    def on_post(self, req: falcon.Request, resp: falcon.Response, performance_id: int) -> None:
        session = req.context.session
        summary = booking.public_performance(session, performance_id=performance_id)
        values, fields, refusals = book.read_booking_form(req)
        if _state(summary)[0] != "open":
            self._render(req, resp, summary, values=values, status=409)
            return
        if fields is None:
            self._render(req, resp, summary, values=values, refusals=refusals, status=422)
            return
        try:
            joined = waitlist.join(
                session,
                performance_id=performance_id,
                **dataclasses.asdict(fields),
                language=pages.language_of(req),
            )
        except errors.InvalidInput as refusal:
            refusals = {refusal.field: book.field_message(req, refusal)}
            self._render(req, resp, summary, values=values, refusals=refusals, status=422)
            return
        except errors.SeatsAvailable as refusal:
            message = _seats_message(req, int(refusal.details.get("available", 0)))
            refusals = {"party_size": message}
            self._render(req, resp, summary, values=values, refusals=refusals, status=409)
            return
        except errors.AlreadyWaiting:
            message = pages.gettext(req, _ALREADY_WAITING)
            refusals = {"email": message}
            self._render(req, resp, summary, values=values, refusals=refusals, status=409)
            return
        except errors.BookingClosed:
            summary = booking.public_performance(session, performance_id=performance_id)
            self._render(req, resp, summary, values=values, status=409)
            return
        receipt = book.receipt_for(joined.entry.reference, salt=_RECEIPT_SALT)
        raise falcon.HTTPSeeOther(f"/waitlisted/{receipt}#main")

    def _render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        summary: reports.PerformanceSummary,
        *,
        values: dict[str, str],
        refusals: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        refusals = refusals or {}
        state, free = _state(summary)
        listed: list[dict[str, Any]] = [
            {"field": field, "message": refusals[field]}
            for field in booking.FORM_FIELDS
            if field in refusals
        ]
        if state != "open" and status != 200:
            message = pages.gettext(req, _CLOSED)
            listed.insert(0, {"field": None, "message": message})
        pages.render(
            req,
            resp,
            "book.html",
            status=status,
            joining=True,
            summary=summary,
            venue_address=catalog.venue_line(summary.venue),
            state=state,
            free_seats=free,
            action=f"{req.path}#{book.ERRORS_ANCHOR}",
            csrf_token=forgery.form_token(req),
            values={field: values.get(field, "") for field in booking.FORM_FIELDS},
            refusals=refusals,
            problems=listed,
            max_lengths=booking.MAX_LENGTHS,
            max_party_size=get_settings().max_party_size,
        )


class WaitlistedPage:
    """`GET /waitlisted/{receipt}`: the reference and place of a party that just joined."""

    html_pages = True

    def on_get(self, req: falcon.Request, resp: falcon.Response, receipt: str) -> None:
        reference = book.reference_in(receipt, salt=_RECEIPT_SALT)
        try:
            linked = waitlist.joined(req.context.session, reference=reference)
        except errors.NotFound:
            raise errors.InvalidToken("this link is not valid") from None
        pages.render(
            req,
            resp,
            "waitlisted.html",
            position=linked.position or 0,
            **_facts(linked),
        )


def _facts(linked: waitlist.LinkedEntry) -> dict[str, Any]:
    return {
        "reservation": linked.entry,  # booking.html shows its party size and reference
        "summary": linked.summary,
        "venue_address": catalog.venue_line(linked.summary.venue),
    }


class OfferPage:
    """`/offer/{token}`: GET shows the offer and until when it holds; POST accepts it and goes
    to the ticket (303, a path on this host, as the confirm page does)."""

    html_pages = True
    html_forms = True
    rate_limit_scope = "confirmation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = waitlist.offer_preview(req.context.session, token=token)
        pages.render(
            req,
            resp,
            "offer.html",
            action=req.path,
            csrf_token=forgery.form_token(req),
            until=linked.entry.offer_expires_at,
            **_facts(linked),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        accepted = waitlist.accept_offer(req.context.session, token=token)
        raise falcon.HTTPSeeOther(f"/t/{accepted.ticket_token}")


class LeavePage:
    """`/leave/{token}`: GET asks, POST takes the party off the list."""

    html_pages = True
    html_forms = True
    rate_limit_scope = "cancellation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = waitlist.leave_preview(req.context.session, token=token)
        pages.render(
            req,
            resp,
            "leave.html",
            action=req.path,
            csrf_token=forgery.form_token(req),
            left=False,
            **_facts(linked),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = waitlist.leave(req.context.session, token=token)
        pages.render(req, resp, "leave.html", left=True, **_facts(linked))
