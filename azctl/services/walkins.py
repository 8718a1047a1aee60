"""Walk-in seats sold (and given back) at the door: a seat occupied by hand, listed with the scans.

A walk-in is written to the scan log beside the admissions, one row per seat, so every door's
recent list shows it, the evening reads as one story, and the season report counts them.
Selling is for the night itself: outside the check-in window it is refused unless staff say
they mean it, since a door screen can be opened on a performance days away and F3 there would
sell a seat for the wrong night.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from azctl import db, errors
from azctl.models import ScanLog, Staff
from azctl.services import capacity, reports, times
from azctl.services.capacity import SeatCounts

# How the scan log names a walk-in: its source, and the result of selling or giving back a seat.
SOURCE = "walk_in"
SOLD = "walk_in_sold"
GIVEN_BACK = "walk_in_given_back"


def change_walk_ins(
    session: Session,
    *,
    performance_id: int,
    change: int,
    staff: Staff | None = None,
    anyway: bool = False,
    now: datetime | None = None,
) -> SeatCounts:
    """Sell (`change` > 0) or give back (< 0) walk-in seats, under the performance lock, and log it.

    Selling outside the check-in window raises `InvalidState` saying when the door opens or
    closed, unless `anyway` (staff confirmed); giving a seat back is always allowed, as it undoes
    a mistake. A cancelled performance sells nothing.
    """
    now = now or times.now_utc()
    if change == 0:
        raise errors.InvalidInput("change", "change: sell or give back at least one seat")
    with db.write(session):
        performance = db.lock_performance(session, performance_id)
        if change > 0:
            if performance.cancelled_at is not None:
                raise errors.BookingClosed("the performance is cancelled: no walk-in seats")
            opens, closes = reports.checkin_window(performance)
            if not anyway and now < opens:
                raise errors.InvalidState(
                    f"the door opens at {times.short_local(opens)} (now {times.short_local(now)})"
                )
            if not anyway and now > closes:
                raise errors.InvalidState(
                    f"the door closed at {times.short_local(closes)} (now {times.short_local(now)})"
                )
        seats = capacity.occupy_seats(session, performance=performance, occupy=change)
        # One row per seat, so that the season report counts walk-ins by counting rows.
        session.add_all(
            ScanLog(
                scanned_at=now,
                performance_id=performance_id,
                staff_id=staff.id if staff else None,
                source=SOURCE,
                result=SOLD if change > 0 else GIVEN_BACK,
            )
            for _ in range(abs(change))
        )
        return seats
