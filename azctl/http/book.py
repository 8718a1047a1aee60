"""The booking form (`/book/{performance_id}`) and the page it leads to (`/booked/{receipt}`).

The form is checked whole by `booking.check_form`: a refused form comes back (422) with every
field's message beside it, in the visitor's words and language, and with what they typed. Then
`booking.submit_booking` decides as it does for the JSON API, and a refusal of the booking itself
(seats, a closed performance) is shown on the same page. A booking made answers 303 to a page that
names it by a signed receipt, so its address holds nothing about the visitor and a reload posts
nothing again.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import falcon
from itsdangerous import BadData, URLSafeTimedSerializer

from azctl import errors
from azctl.http import forgery, pages
from azctl.http.bodies import read_form
from azctl.services import booking, catalog, i18n, public, reports, times
from azctl.services.i18n import N_
from azctl.settings import get_settings

# Where the browser lands after a refused POST: the summary of what is wrong (see book.html).
ERRORS_ANCHOR = "errors"
_RECEIPT_SALT = "azctl.http.booked"
# How long the page after a form (booked, waitlisted) can be opened again from its address.
_RECEIPT_MAX_AGE_SECONDS = 7 * 86400

# What a visitor reads beside a refused field, by field and `InvalidInput.reason`; `%(max)s` is
# the field's longest length.
_FIELD_MESSAGES = {
    ("name", "required"): N_("Please enter your name"),
    ("name", "too_long"): N_("Your name can be at most %(max)s characters long"),
    ("email", "required"): N_("Please enter your email address"),
    ("email", "too_long"): N_("The email address can be at most %(max)s characters long"),
    ("email", "not_an_email"): N_("This is not an email address we can write to"),
    ("email", "not_mailable"): N_(
        "We cannot send mail to this address: only the part after the @ may have letters"
        " such as à or ü"
    ),
    ("phone", "too_long"): N_("The phone number can be at most %(max)s characters long"),
    ("notes", "too_long"): N_("The notes can be at most %(max)s characters long"),
    ("party_size", "required"): N_("Please say how many seats you want"),
    ("party_size", "not_a_number"): N_("Please write the number of seats in figures, like 2"),
    ("party_size", "too_small"): N_("Please book at least one seat"),
    ("consent", "required"): N_(
        "To book, please agree that the theatre keeps these details to manage the booking"
    ),
}
# A rule any field may break, said the same way whichever it is.
_REASON_MESSAGES = {
    "required": N_("Please fill in this field"),
    "too_long": N_("This can be at most %(max)s characters long"),
    "control_characters": N_("Please remove the invisible control characters from this field"),
}
_ANY_REFUSAL = N_("Please check this field")


def _translations(req: falcon.Request) -> Any:
    return i18n.translations(pages.language_of(req))


def field_message(req: falcon.Request, refusal: errors.InvalidInput) -> str:
    """A refused field's message in the visitor's language (never the service's English)."""
    language = pages.language_of(req)
    translations = _translations(req)
    if (refusal.field, refusal.reason) == ("party_size", "too_large"):
        most = get_settings().max_party_size
        message = translations.ngettext(
            "You can book at most %(num)s seat", "You can book at most %(num)s seats", most
        )
        return str(message % {"num": i18n.format_number(most, language)})
    message = _FIELD_MESSAGES.get((refusal.field, refusal.reason)) or _REASON_MESSAGES.get(
        refusal.reason, _ANY_REFUSAL
    )
    longest = booking.MAX_LENGTHS.get(refusal.field, 0)
    return str(translations.gettext(message) % {"max": i18n.format_number(longest, language)})


def _booking_message(req: falcon.Request, *, free: int | None) -> str:
    """What the summary says when the booking itself is refused: too few seats (`free` of
    them), or booking closed (`free` is None)."""
    translations = _translations(req)
    if free is None:
        return str(translations.gettext("Booking has just closed for this performance."))
    if free <= 0:
        return str(translations.gettext("Sorry, the last seats have just been taken."))
    message = translations.ngettext(
        "Only %(num)s seat is free now: please ask for fewer.",
        "Only %(num)s seats are free now: please ask for fewer.",
        free,
    )
    return str(message % {"num": i18n.format_number(free, pages.language_of(req))})


def state_of(summary: reports.PerformanceSummary) -> tuple[str, int]:
    """`open` when the form can be used, else why not (`sold_out`, `closed`, `started`,
    `cancelled`); and the free seats. The rule is the public API's (`public.performance_dict`)."""
    shown = public.performance_dict(summary, times.now_utc())
    if shown["is_bookable"]:
        return "open", shown["available_seats"]
    state = "sold_out" if shown["booking"] == "open" else shown["booking"]
    return state, shown["available_seats"]


def receipt_for(reference: str, *, salt: str) -> str:
    """A signed receipt of a reference: the address of the page after a form holds it and
    nothing else. Each page has its salt, so one page's receipt opens no other."""
    return str(URLSafeTimedSerializer(get_settings().hmac_key, salt=salt).dumps(reference))


def reference_in(receipt: str, *, salt: str) -> str:
    """The reference a receipt made by `receipt_for` holds; a forged or old one is refused."""
    try:
        reference = URLSafeTimedSerializer(get_settings().hmac_key, salt=salt).loads(
            receipt, max_age=_RECEIPT_MAX_AGE_SECONDS
        )
    except BadData:
        raise errors.InvalidToken("this link is not valid") from None
    return str(reference)


def booked_path(reference: str) -> str:
    """The page of a booking just asked for, on this host: a signed receipt of its reference,
    nothing else. `#main` so that the form's `#errors` is not carried along by the browser
    (a redirect without a fragment keeps the one the request had)."""
    return f"/booked/{receipt_for(reference, salt=_RECEIPT_SALT)}#main"


def read_booking_form(
    req: falcon.Request,
) -> tuple[dict[str, str], booking.BookingFields | None, dict[str, str]]:
    """The booking form as typed (kept to show again), its fields checked and cleaned (None if
    any was refused), and each refused field's message in the visitor's language. The joining
    form of a waiting list has the same fields."""
    typed = read_form(req)
    values = {field: typed.get(field, "") for field in booking.FORM_FIELDS}
    checked = booking.check_form(values)
    refusals = {field: field_message(req, refusal) for field, refusal in checked.refusals.items()}
    return values, checked.fields, refusals


class BookPage:
    """`GET /book/{performance_id}` the form; `POST` it to ask for seats."""

    html_pages = True
    html_forms = True
    rate_limit_scope = "booking"  # counted with the JSON API's booking, per client

    def on_get(self, req: falcon.Request, resp: falcon.Response, performance_id: int) -> None:
        summary = booking.public_performance(req.context.session, performance_id=performance_id)
        self._render(req, resp, summary, values={})

    def on_post(self, req: falcon.Request, resp: falcon.Response, performance_id: int) -> None:
        session = req.context.session
        summary = booking.public_performance(session, performance_id=performance_id)
        values, fields, refusals = read_booking_form(req)
        state, _free = state_of(summary)
        if state != "open":  # closed or full since the form was shown: the fields do not matter
            self._refused_booking(req, resp, summary, values, sold_out=state == "sold_out")
            return
        if fields is None:
            self._render(req, resp, summary, values=values, refusals=refusals, status=422)
            return
        try:
            submitted = booking.submit_booking(
                session,
                performance_id=performance_id,
                **dataclasses.asdict(fields),
                language=pages.language_of(req),
            )
        except errors.InvalidInput as refusal:  # the service's own check; the form's agrees
            refusals = {refusal.field: field_message(req, refusal)}
            self._render(req, resp, summary, values=values, refusals=refusals, status=422)
            return
        except (errors.NotEnoughSeats, errors.BookingClosed) as refusal:
            summary = booking.public_performance(session, performance_id=performance_id)
            free = refusal.details.get("available") if refusal.code == "not_enough_seats" else None
            self._refused_booking(req, resp, summary, values, free=free)
            return
        raise falcon.HTTPSeeOther(booked_path(submitted.reservation.reference))

    def _refused_booking(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        summary: reports.PerformanceSummary,
        values: dict[str, str],
        *,
        free: int | None = None,
        sold_out: bool = False,
    ) -> None:
        """The form again (409) with why the booking was refused: beside the seats when fewer
        would do, else at the top of a page that no longer has a form."""
        message = _booking_message(req, free=0 if sold_out else free)
        if state_of(summary)[0] == "open" and free:
            self._render(
                req, resp, summary, values=values, refusals={"party_size": message}, status=409
            )
            return
        problems = [{"field": None, "message": message}]
        self._render(req, resp, summary, values=values, problems=problems, status=409)

    def _render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        summary: reports.PerformanceSummary,
        *,
        values: dict[str, str],
        refusals: dict[str, str] | None = None,
        problems: list[dict[str, Any]] | None = None,
        status: int = 200,
    ) -> None:
        refusals = refusals or {}
        state, free = state_of(summary)
        listed = [
            {"field": field, "message": refusals[field]}
            for field in booking.FORM_FIELDS
            if field in refusals
        ]
        pages.render(
            req,
            resp,
            "book.html",
            status=status,
            summary=summary,
            venue_address=catalog.venue_line(summary.venue),
            state=state,
            free_seats=free,
            action=f"{req.path}#{ERRORS_ANCHOR}",
            csrf_token=forgery.form_token(req),
            values={field: values.get(field, "") for field in booking.FORM_FIELDS},
            refusals=refusals,
            problems=[*(problems or []), *listed],
            max_lengths=booking.MAX_LENGTHS,
            max_party_size=get_settings().max_party_size,
        )


class BookedPage:
    """`GET /booked/{receipt}`: the reference of the booking just asked for, and what to do."""

    html_pages = True

    def on_get(self, req: falcon.Request, resp: falcon.Response, receipt: str) -> None:
        reference = reference_in(receipt, salt=_RECEIPT_SALT)
        try:
            linked = booking.requested(req.context.session, reference=reference)
        except errors.NotFound:
            raise errors.InvalidToken("this link is not valid") from None
        pages.render(
            req,
            resp,
            "booked.html",
            reservation=linked.reservation,
            summary=linked.summary,
            venue_address=catalog.venue_line(linked.summary.venue),
            confirm_by=linked.link_expires_at,
        )
