"""A visitor's booking from request to confirmed seat, and every way it ends.

One module per idea: `rules` (why a booking is refused, pure), `locking` (the lock order),
`links` (what an emailed link shows), `mails` (the mails and their tokens), `requests`,
`confirmation`, `cancellation`, `housekeeping`, `exchange` (staff move a booking to another
date), `door_note` (`res flag`), and `form` (a booking's fields checked one by one or all at
once). Front ends import the names below.
"""

from azctl.services.booking.cancellation import (
    cancel_by_ticket,
    cancel_by_token,
    cancel_performance,
    cancel_reservation,
)
from azctl.services.booking.confirmation import ConfirmedBooking, confirm_booking
from azctl.services.booking.door_note import MAX_DOOR_NOTE, flag_reservation
from azctl.services.booking.exchange import MovedBooking, move_reservation
from azctl.services.booking.form import (
    FORM_FIELDS,
    MAX_LENGTHS,
    BookingFields,
    CheckedForm,
    check_form,
)
from azctl.services.booking.housekeeping import expire_pending, resend
from azctl.services.booking.links import (
    LinkedBooking,
    cancellation_preview,
    confirmation_preview,
    confirmed_by_link,
    requested,
    ticket,
    ticket_cancellation_preview,
)
from azctl.services.booking.requests import (
    SubmittedBooking,
    new_reference,
    public_performance,
    submit_booking,
)
from azctl.services.booking.rules import booking_state

__all__ = [
    "FORM_FIELDS",
    "MAX_DOOR_NOTE",
    "MAX_LENGTHS",
    "BookingFields",
    "CheckedForm",
    "ConfirmedBooking",
    "LinkedBooking",
    "MovedBooking",
    "SubmittedBooking",
    "booking_state",
    "cancel_by_ticket",
    "cancel_by_token",
    "cancel_performance",
    "cancel_reservation",
    "cancellation_preview",
    "check_form",
    "confirm_booking",
    "confirmation_preview",
    "confirmed_by_link",
    "expire_pending",
    "flag_reservation",
    "move_reservation",
    "new_reference",
    "public_performance",
    "requested",
    "resend",
    "submit_booking",
    "ticket",
    "ticket_cancellation_preview",
]
