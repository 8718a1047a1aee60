"""The pages a visitor's email links open: confirm, cancel and the printable ticket.

A GET only shows; the change happens on the page's POST, so a mail scanner that follows every
link confirms and cancels nothing.
"""

from __future__ import annotations

from typing import Any

import falcon

from azctl import errors
from azctl.http import pages
from azctl.models import Reservation
from azctl.services import booking, catalog, reports, tickets, times, tokens


def _facts(reservation: Reservation, summary: reports.PerformanceSummary) -> dict[str, Any]:
    return {
        "reservation": reservation,
        "summary": summary,
        "when": times.short_local(summary.performance.starts_at),
        "venue_address": catalog.venue_line(summary.venue),
    }


class ConfirmPage:
    html_pages = True
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
            confirm_by=times.short_local(linked.link_expires_at),
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
    rate_limit_scope = "cancellation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = booking.cancellation_preview(req.context.session, token=token)
        pages.render(
            req,
            resp,
            "cancel.html",
            action=req.path,
            cancelled=False,
            **_facts(linked.reservation, linked.summary),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        session = req.context.session
        reservation = booking.cancel_by_token(session, token=token)
        summary = reports.performance_summary(session, performance_id=reservation.performance_id)
        facts = _facts(reservation, summary)
        pages.render(req, resp, "cancel.html", action=req.path, cancelled=True, **facts)


class TicketPage:
    """`/t/{token}` the printable ticket; `/t/{token}.png` and `.svg` its QR code alone."""

    html_pages = True

    def on_get(self, req: falcon.Request, resp: falcon.Response, ticket: str) -> None:
        token, dot, kind = ticket.partition(".")
        if dot and kind not in ("png", "svg"):
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
        pages.render(
            req,
            resp,
            "ticket.html",
            qr_png=f"{req.path}.png",
            qr_svg=f"{req.path}.svg",
            **_facts(linked.reservation, linked.summary),
        )
