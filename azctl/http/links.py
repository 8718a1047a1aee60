"""The pages a visitor's email links open: confirm, cancel, the printable ticket (with its
calendar entry) and the ticket's own cancel page.

A GET only shows; the change happens on the page's POST, so a mail scanner that follows every
link confirms and cancels nothing. Each form carries its anti-forgery token (`forgery`).
"""

from __future__ import annotations

from typing import Any

import falcon

from azctl import errors
from azctl.http import forgery, pages
from azctl.models import Reservation
from azctl.services import booking, catalog, reports, tickets, times, tokens


def _facts(reservation: Reservation, summary: reports.PerformanceSummary) -> dict[str, Any]:
    return {
        "reservation": reservation,
        "summary": summary,
        "venue_address": catalog.venue_line(summary.venue),
    }


class ConfirmPage:
    html_pages = True
    html_forms = True
    rate_limit_scope = "confirmation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        try:
            linked = booking.confirmation_preview(req.context.session, token=token)
        except errors.TokenUsed as used:
            _explain_used_confirmation(req, resp, token, used)
            return
        pages.render(
            req,
            resp,
            "confirm.html",
            action=req.path,
            csrf_token=forgery.form_token(req),
            confirm_by=linked.link_expires_at,
            **_facts(linked.reservation, linked.summary),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        """Confirm, then send the browser to its ticket (303, so a reload does not re-post).

        The redirect is a path, so the browser stays on the host and port it came by: an
        absolute URL built from `AZCTL_PUBLIC_URL` leads elsewhere whenever that is not the
        address this visitor used, and the page's `form-action 'self'` then blocks it, leaving
        a confirmed visitor on the confirm page (docs/architecture.md, "Links and redirects").
        """
        try:
            confirmed = booking.confirm_booking(req.context.session, token=token)
        except errors.TokenUsed as used:
            _explain_used_confirmation(req, resp, token, used)
            return
        raise falcon.HTTPSeeOther(_ticket_path(confirmed.ticket_token))


def _ticket_path(token: str) -> str:
    """Where the ticket of `token` is on this host (mail and QR codes use `tickets.ticket_url`)."""
    return f"/t/{token}"


def _explain_used_confirmation(
    req: falcon.Request, resp: falcon.Response, token: str, used: errors.TokenUsed
) -> None:
    """A spent confirm link of a confirmed booking says so, and that the ticket was mailed.

    Only the ticket mail holds the ticket's link (raw tokens are never stored), so the page
    names the booking and points at that mail, and links nothing. A link spent otherwise (the
    booking was cancelled) is the plain `token_used` page.
    """
    linked = booking.confirmed_by_link(req.context.session, token=token)
    if linked is None:
        raise used
    pages.render(
        req,
        resp,
        "confirmed.html",
        status=used.status,
        error=used,
        **_facts(linked.reservation, linked.summary),
    )


class CancelPage:
    html_pages = True
    html_forms = True
    rate_limit_scope = "cancellation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = booking.cancellation_preview(req.context.session, token=token)
        _ask_to_cancel(req, resp, linked, back=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        reservation = booking.cancel_by_token(req.context.session, token=token)
        _cancelled(req, resp, reservation)


def _ask_to_cancel(
    req: falcon.Request, resp: falcon.Response, linked: booking.LinkedBooking, back: str | None
) -> None:
    pages.render(
        req,
        resp,
        "cancel.html",
        action=req.path,
        csrf_token=forgery.form_token(req),
        cancelled=False,
        back=back,
        **_facts(linked.reservation, linked.summary),
    )


def _cancelled(req: falcon.Request, resp: falcon.Response, reservation: Reservation) -> None:
    summary = reports.performance_summary(
        req.context.session, performance_id=reservation.performance_id
    )
    facts = _facts(reservation, summary)
    pages.render(req, resp, "cancel.html", cancelled=True, **facts)


class TicketPage:
    """`/t/{token}` the printable ticket; `/t/{token}.png` and `.svg` its QR code alone, and
    `/t/{token}.ics` the performance for the visitor's calendar."""

    html_pages = True

    def on_get(self, req: falcon.Request, resp: falcon.Response, ticket: str) -> None:
        token, dot, kind = ticket.partition(".")
        if dot and kind not in ("png", "svg", "ics"):
            raise errors.InvalidToken("this link is not valid")
        linked = booking.ticket(req.context.session, token=token)
        token = tokens.parse_scanned(token) or token  # the QR holds the canonical spelling
        if kind == "png":
            resp.content_type = "image/png"
            resp.data = tickets.qr_png(token, scale=10)
            return
        if kind == "svg":
            resp.content_type = "image/svg+xml"
            resp.data = tickets.qr_svg(token, scale=10)
            return
        if kind == "ics":
            _calendar_entry(resp, token, linked)
            return
        pages.render(
            req,
            resp,
            "ticket.html",
            qr_png=f"{req.path}.png",
            qr_svg=f"{req.path}.svg",
            calendar=f"{req.path}.ics",
            cancel=f"{req.path}/cancel",
            **_facts(linked.reservation, linked.summary),
        )


def _calendar_entry(resp: falcon.Response, token: str, linked: booking.LinkedBooking) -> None:
    """The performance as an iCalendar event, as the ticket mail attaches it."""
    reservation, summary = linked.reservation, linked.summary
    address = catalog.venue_line(summary.venue)
    resp.content_type = "text/calendar; charset=utf-8"
    resp.set_header("Content-Disposition", f'attachment; filename="{reservation.reference}.ics"')
    resp.data = tickets.ics_event(
        uid=f"{reservation.reference}@azctl",
        title=summary.show.title,
        location=f"{summary.venue.name}, {address}" if address else summary.venue.name,
        starts_at=summary.performance.starts_at,
        url=tickets.ticket_url(token),
        sequence=tickets.calendar_sequence(times.now_utc()),
    )


class TicketCancelPage:
    """`/t/{token}/cancel`: cancel from the ticket (GET asks, POST cancels), until the start."""

    html_pages = True
    html_forms = True
    rate_limit_scope = "cancellation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, ticket: str) -> None:
        linked = booking.ticket_cancellation_preview(req.context.session, token=ticket)
        _ask_to_cancel(req, resp, linked, back=_ticket_path(ticket))

    def on_post(self, req: falcon.Request, resp: falcon.Response, ticket: str) -> None:
        reservation = booking.cancel_by_ticket(req.context.session, token=ticket)
        _cancelled(req, resp, reservation)
