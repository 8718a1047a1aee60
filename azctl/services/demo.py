"""A sample season, so a newcomer sees every part of azctl at once (`azctl demo`).

Everything goes through the same services the front ends use: bookings are submitted and
confirmed as a visitor would, check-ins are made as the door would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from azctl.models import Venue
from azctl.services import booking, catalog, checkin, staff, times

DEMO_VENUE = "teatro-studio"
VISITORS = [
    ("Giulia Bianchi", 2),
    ("Marco Rossi", 4),
    ("Sara Conti", 1),
    ("Luca Ferrari", 3),
    ("Elena Ricci", 2),
    ("Paolo Greco", 2),
    ("Chiara Marino", 1),
    ("Davide Gallo", 4),
]


@dataclass
class DemoReport:
    already_loaded: bool = False
    lines: list[str] = field(default_factory=list)
    tonight_id: int | None = None
    ticket_token: str | None = None
    staff_token: str | None = None


def _tonight(now: datetime) -> datetime:
    """Today at 20:30, or, late in the evening, an hour or so from now (on the half hour)."""
    evening = times.local_to_utc(times.to_local(now).date(), time(20, 30), field="demo")
    if evening - now >= timedelta(hours=1):
        return evening
    later = now + timedelta(minutes=90)
    return later.replace(minute=0 if later.minute < 30 else 30, second=0, microsecond=0)


def load_demo(session: Session, *, now: datetime | None = None) -> DemoReport:
    """Fill the database with two venues, three shows, a run of performances, staff, and
    pending, confirmed and checked-in reservations; does nothing if the demo is there already."""
    now = now or times.now_utc()
    report = DemoReport()
    if session.exec(select(Venue.id).where(Venue.slug == DEMO_VENUE)).first() is not None:
        report.already_loaded = True
        report.lines.append("The demo season is already loaded; `azctl perf list` shows it.")
        return report
    studio = catalog.add_venue(
        session, name="Teatro Studio", city="Milano", address="Via Rivoli 6", slug=DEMO_VENUE
    )
    cortile = catalog.add_venue(
        session, name="Cortile della Cascina", city="Milano", address="Via Cuccagna 2"
    )
    report.lines.append(f"Venues: {studio.name} ({studio.slug}), {cortile.name} ({cortile.slug})")
    locandiera = catalog.add_show(
        session, title="La Locandiera", summary="Goldoni's comedy of an innkeeper", publish=True
    )
    servitore = catalog.add_show(
        session,
        title="Il servitore di due padroni",
        summary="Truffaldino serves two masters",
        publish=True,
    )
    godot = catalog.add_show(
        session, title="Aspettando Godot", summary="In rehearsal: not yet public"
    )
    report.lines.append(
        f"Shows: {locandiera.slug} and {servitore.slug} (published), {godot.slug} (unpublished)"
    )

    starts = _tonight(now)
    tonight = catalog.add_performance(
        session,
        show_slug=locandiera.slug,
        venue_slug=studio.slug,
        starts_at=starts,
        room_capacity=60,
        additional_seats=4,
        # The demo's door opens now, so its tickets can be scanned straight away.
        checkin_opens_before_minutes=math.ceil((starts - now).total_seconds() / 60) + 60,
    )
    assert tonight.id is not None
    report.tonight_id = tonight.id
    today = times.to_local(now).date()
    run = catalog.schedule_performances(
        session,
        show_slug=locandiera.slug,
        venue_slug=studio.slug,
        first_day=today + timedelta(days=1),
        last_day=today + timedelta(days=21),
        weekdays={3, 4, 5},
        at=time(20, 30),
        room_capacity=60,
    )
    tour = catalog.schedule_performances(
        session,
        show_slug=servitore.slug,
        venue_slug=cortile.slug,
        first_day=today + timedelta(days=2),
        last_day=today + timedelta(days=16),
        weekdays={4, 5, 6},
        at=time(18, 0),
        room_capacity=40,
        manually_occupied_seats=6,
    )
    catalog.add_performance(
        session,
        show_slug=godot.slug,
        venue_slug=studio.slug,
        starts_at=times.local_to_utc(today + timedelta(days=40), time(21, 0), field="demo"),
        room_capacity=60,
    )
    report.lines.append(
        f"Performances: tonight's #{tonight.id} at {times.short_local(starts)},"
        f" {len(run)} more of {locandiera.slug}, {len(tour)} of {servitore.slug}, 1 of {godot.slug}"
    )

    anna, report.staff_token = staff.add_staff(
        session, username="anna", role="box_office", display_name="Anna Colombo"
    )
    staff.add_staff(session, username="admin", role="admin", display_name="Box office admin")
    report.lines.append("Staff: anna (box_office), admin (admin)")

    tickets: list[tuple[str, str]] = []
    pending = 0
    for number, (name, party) in enumerate(VISITORS):
        email = name.lower().replace(" ", ".") + "@example.org"
        submitted = booking.submit_booking(
            session, performance_id=tonight.id, name=name, email=email, party_size=party, now=now
        )
        if number >= 6:
            pending += 1
            continue
        confirmed = booking.confirm_booking(session, token=submitted.confirm_token, now=now)
        tickets.append((confirmed.reservation.reference, confirmed.ticket_token))
    for _reference, token in tickets[:3]:
        checkin.scan(session, text=token, performance_id=tonight.id, staff=anna, now=now)
    for performance in run[:2] + tour[:1]:
        assert performance.id is not None
        submitted = booking.submit_booking(
            session,
            performance_id=performance.id,
            name="Francesca Romano",
            email="francesca.romano@example.org",
            party_size=2,
            now=now,
        )
        booking.confirm_booking(session, token=submitted.confirm_token, now=now)
    report.ticket_token = tickets[-1][1]
    report.lines.append(
        f"Reservations tonight: {len(tickets)} confirmed (3 checked in by anna), {pending}"
        " pending; 3 more confirmed for later dates"
    )
    return report
