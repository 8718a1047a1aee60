"""A sample season, so a newcomer sees every part of azctl at once (`azctl demo`).

Everything goes through the same services the front ends use: bookings are submitted and
confirmed as a visitor would, check-ins are made as the door would.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import Show, Staff, Venue
from azctl.services import booking, catalog, checkin, posters, staff, times

# The records the demo makes under names of its own; all of them there means it is loaded.
DEMO_VENUES = ("teatro-studio", "cortile-della-cascina")
DEMO_SHOWS = ("la-locandiera", "il-servitore-di-due-padroni", "aspettando-godot")
DEMO_STAFF = ("anna", "admin")
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
# Descriptions are plain text: a paragraph a line, a blank line between paragraphs.
LOCANDIERA_DESCRIPTION = (
    "Mirandolina runs an inn in Florence, and every guest falls for her: the Marquis who has only"
    " his title, the Count who has only his money, and, at last, the Knight who swears he"
    " despises women.\n\n"
    "Carlo Goldoni's comedy of 1753, in a new staging with live music. About two hours, with one"
    " interval. In Italian."
)
SERVITORE_DESCRIPTION = (
    "Truffaldino, always hungry, takes service with two masters at once and must keep each from"
    " learning of the other.\n\n"
    "Goldoni's comedy of masks, outdoors in the courtyard; bring a cushion. In Italian."
)


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


def _poster_image(title: str) -> bytes:
    """A plain poster for the demo's first show, drawn here (a PNG, as a designer would hand
    one over), so its page shows how a poster looks without shipping an image."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 800, 1132
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for row in range(height):  # a deep red fading to near black
        shade = 1 - row / height
        draw.line([(0, row), (width, row)], fill=(int(40 + 110 * shade), 12, int(24 + 20 * shade)))
    draw.ellipse((150, 180, 650, 680), outline=(236, 200, 120), width=6)
    draw.ellipse((300, 330, 500, 530), fill=(236, 200, 120))
    try:
        font = ImageFont.load_default(size=72)
    except (TypeError, OSError):  # an old Pillow, or one without FreeType: the small font
        font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), title, font=font)
    place = ((width - (right - left)) // 2 - left, 820 - (bottom - top) // 2 - top)
    draw.text(place, title, fill=(250, 240, 220), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _demo_names_taken(session: Session) -> list[str]:
    """Which of the demo's own venues, shows and staff members exist already."""
    venues = session.exec(select(Venue.slug).where(col(Venue.slug).in_(DEMO_VENUES))).all()
    shows = session.exec(select(Show.slug).where(col(Show.slug).in_(DEMO_SHOWS))).all()
    members = session.exec(select(Staff.username).where(col(Staff.username).in_(DEMO_STAFF))).all()
    return [
        *(f"venue {slug}" for slug in DEMO_VENUES if slug in venues),
        *(f"show {slug}" for slug in DEMO_SHOWS if slug in shows),
        *(f"staff member {name}" for name in DEMO_STAFF if name in members),
    ]


def load_demo(session: Session, *, now: datetime | None = None) -> DemoReport:
    """Fill the database with two venues, three shows, a run of performances, staff, and
    pending, confirmed and checked-in reservations.

    The demo is loaded when every one of its own venues, shows and staff members is there; other
    data beside it does not count. When only some of them are (made by hand, under the demo's
    names), it is refused before anything is written, naming them.
    """
    now = now or times.now_utc()
    report = DemoReport()
    taken = _demo_names_taken(session)
    if len(taken) == len(DEMO_VENUES) + len(DEMO_SHOWS) + len(DEMO_STAFF):
        report.already_loaded = True
        return report
    if taken:
        raise errors.Conflict(
            f"the demo cannot be loaded beside data that uses its names ({', '.join(taken)});"
            " load it into an empty data dir (AZCTL_DATA_DIR)"
        )
    studio = catalog.add_venue(
        session, name="Teatro Studio", city="Milano", address="Via Rivoli 6", slug=DEMO_VENUES[0]
    )
    cortile = catalog.add_venue(
        session, name="Cortile della Cascina", city="Milano", address="Via Cuccagna 2"
    )
    report.lines.append(f"Venues: {studio.name} ({studio.slug}), {cortile.name} ({cortile.slug})")
    locandiera = catalog.add_show(
        session,
        title="La Locandiera",
        summary="Goldoni's comedy of an innkeeper",
        description=LOCANDIERA_DESCRIPTION,
        publish=True,
    )
    catalog.edit_show(
        session,
        slug=locandiera.slug,
        poster=posters.from_bytes(_poster_image(locandiera.title), name="the demo poster"),
    )
    servitore = catalog.add_show(
        session,
        title="Il servitore di due padroni",
        summary="Truffaldino serves two masters",
        description=SERVITORE_DESCRIPTION,
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
