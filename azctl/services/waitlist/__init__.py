"""The waiting list of a sold-out performance (DESIGN §8), from joining to a confirmed booking.

`entries` (join, leave, staff removal, the list), `offers` (the worker's rounds and lapses,
accepting an offer), `mails` (the joined and offer mails and their tokens), `locking` (the lock
order for an entry). Front ends import the names below; the worker runs `offer_round` and
`lapse_offers`, each `(engine, now) -> int`.
"""

from azctl.services.waitlist.entries import (
    EntryRow,
    JoinedEntry,
    LinkedEntry,
    join,
    joined,
    leave,
    leave_preview,
    list_entries,
    position,
    remove,
)
from azctl.services.waitlist.offers import accept_offer, lapse_offers, offer_preview, offer_round

__all__ = [
    "EntryRow",
    "JoinedEntry",
    "LinkedEntry",
    "accept_offer",
    "join",
    "joined",
    "lapse_offers",
    "leave",
    "leave_preview",
    "list_entries",
    "offer_preview",
    "offer_round",
    "position",
    "remove",
]
