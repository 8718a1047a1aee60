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
        linked = booking.confirmation_preview(req.context.session, token=token)
        pages.render(
            resp,
            "confirm.html",
            action=req.path,
            confirm_by=times.short_local(linked.link_expires_at),
            **_facts(linked.reservation, linked.summary),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        """Confirm, then send the browser to its ticket (303, so a reload does not re-post)."""
        confirmed = booking.confirm_booking(req.context.session, token=token)
        raise falcon.HTTPSeeOther(tickets.ticket_url(confirmed.ticket_token))


class CancelPage:
    html_pages = True
    rate_limit_scope = "cancellation"

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        linked = booking.cancellation_preview(req.context.session, token=token)
        pages.render(
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
        pages.render(resp, "cancel.html", action=req.path, cancelled=True, **facts)


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
            resp,
            "ticket.html",
            qr_png=f"{req.path}.png",
            qr_svg=f"{req.path}.svg",
            **_facts(linked.reservation, linked.summary),
        )
