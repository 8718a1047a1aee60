"""A visitor's booking from request to confirmed seat, and every way it ends.

One module per idea: `rules` (why a booking is refused, pure), `locking` (the lock order),
`links` (what an emailed link shows), `mails` (the mails and their tokens), `requests`,
`confirmation`, `cancellation` and `housekeeping`. Front ends import the names below.
"""

from azctl.services.booking.cancellation import (
    cancel_by_token,
    cancel_performance,
    cancel_reservation,
)
from azctl.services.booking.confirmation import ConfirmedBooking, confirm_booking
from azctl.services.booking.housekeeping import expire_pending, resend
from azctl.services.booking.links import (
    LinkedBooking,
    cancellation_preview,
    confirmation_preview,
    confirmed_by_link,
    ticket,
)
from azctl.services.booking.requests import (
    SubmittedBooking,
    new_reference,
    public_performance,
    submit_booking,
)
from azctl.services.booking.rules import booking_state

__all__ = [
    "ConfirmedBooking",
    "LinkedBooking",
    "SubmittedBooking",
    "booking_state",
    "cancel_by_token",
    "cancel_performance",
    "cancel_reservation",
    "cancellation_preview",
    "confirm_booking",
    "confirmation_preview",
    "confirmed_by_link",
    "expire_pending",
    "new_reference",
    "public_performance",
    "resend",
    "submit_booking",
    "ticket",
]
