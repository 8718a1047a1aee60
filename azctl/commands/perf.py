"""`azctl perf`: performances, their seats and whether they take bookings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from azctl import errors
from azctl.commands.output import (
    Column,
    JsonOption,
    emit_list,
    emit_record,
    say,
    stderr,
    when,
)
from azctl.ids import MAX_ID

app = typer.Typer(
    help="Performances: add, schedule, list, show, capacity, open, close, cancel, move.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("id", "Id", justify="right", no_wrap=True),
    Column("starts_at", "Starts", when, no_wrap=True),
    Column("show_title", "Show"),
    Column("venue_name", "Venue"),
    Column("confirmed_seats", "Confirmed", justify="right"),
    Column("available_seats", "Free", justify="right"),
    Column("checked_in_seats", "In", justify="right"),
    Column("booking", "Booking"),
]
IdArgument = Annotated[int, typer.Argument(help="The performance id.", min=1, max=MAX_ID)]
CapacityOption = Annotated[int, typer.Option("--capacity", help="Seats in the room.")]
AdditionalOption = Annotated[int, typer.Option("--additional", help="Extra seats made available.")]
ManualOption = Annotated[int, typer.Option("--manual", help="Seats held outside public booking.")]
# Bounded here, so a refusal names the option typed and no number overflows the column.
OpensOption = Annotated[
    int | None,
    typer.Option(
        "--checkin-opens",
        help="Door opens this many minutes before the start.",
        min=0,
        max=MAX_ID,
    ),
]
ClosesOption = Annotated[
    int | None,
    typer.Option(
        "--checkin-closes",
        help="Door closes this many minutes after the start.",
        min=0,
        max=MAX_ID,
    ),
]
PastOption = Annotated[
    bool, typer.Option("--past", help="Allow a start that has already passed (keeping records).")
]


def _print_summary(performance_id: int, *, as_json: bool) -> None:
    from azctl import db
    from azctl.services import reports

    with db.session_scope() as session:
        summary = reports.performance_summary(session, performance_id=performance_id)
    emit_record(summary.as_dict(), key="id", as_json=as_json, title=summary.label)


@app.command("add")
def add(
    show_slug: Annotated[str, typer.Argument(help="The show's slug.")],
    venue_slug: Annotated[str, typer.Argument(help="The venue's slug.")],
    at: Annotated[
        str,
        typer.Option("--at", help="Start, 'YYYY-MM-DD HH:MM' local time (or 'tomorrow 20:30')."),
    ],
    room_capacity: CapacityOption,
    additional: AdditionalOption = 0,
    manual: ManualOption = 0,
    checkin_opens: OpensOption = None,
    checkin_closes: ClosesOption = None,
    past: PastOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add one performance; prints its id first. A start in the past needs --past.

    Example: azctl perf add la-locandiera teatro-studio --at "2027-03-12 20:30" --capacity 99
    """
    from azctl import db
    from azctl.services import catalog, times

    starts_at = times.parse_local_datetime(at, field="--at")
    if not past:
        _refuse_past(starts_at, option="--at", verb="add")
    with db.session_scope() as session:
        performance = catalog.add_performance(
            session,
            show_slug=show_slug,
            venue_slug=venue_slug,
            starts_at=starts_at,
            room_capacity=room_capacity,
            additional_seats=additional,
            manually_occupied_seats=manual,
            checkin_opens_before_minutes=checkin_opens,
            checkin_closes_after_minutes=checkin_closes,
        )
    assert performance.id is not None
    _print_summary(performance.id, as_json=as_json)


@app.command("schedule")
def schedule(
    show_slug: Annotated[str, typer.Argument(help="The show's slug.")],
    venue_slug: Annotated[str, typer.Argument(help="The venue's slug.")],
    first: Annotated[str, typer.Option("--from", help="First day: YYYY-MM-DD or 'today'.")],
    last: Annotated[str, typer.Option("--to", help="Last day: YYYY-MM-DD or 'tomorrow'.")],
    days: Annotated[str, typer.Option("--days", help="Weekdays, e.g. thu,fri,sat.")],
    at: Annotated[str, typer.Option("--time", help="Start time, HH:MM local.")],
    room_capacity: CapacityOption,
    additional: AdditionalOption = 0,
    manual: ManualOption = 0,
    checkin_opens: OpensOption = None,
    checkin_closes: ClosesOption = None,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing", help="Leave days that already have this performance; add the rest."
        ),
    ] = False,
    past: PastOption = False,
    as_json: JsonOption = False,
) -> None:
    """Create a run of performances: every chosen weekday between two dates, all or none
    (with --skip-existing, the days not scheduled yet). A run whose first performance has
    already started needs --past.

    Example: azctl perf schedule la-locandiera teatro-studio --from 2027-03-04 --to 2027-03-27
    --days thu,fri,sat --time 20:30 --capacity 99 --skip-existing
    """
    from azctl import db
    from azctl.services import catalog, reports, times

    first_day = times.parse_date(first, field="--from")
    last_day = times.parse_date(last, field="--to")
    weekdays = catalog.parse_weekdays(days)
    clock = times.parse_clock(at, field="--time")
    run = catalog.run_days(first_day=first_day, last_day=last_day, weekdays=weekdays)
    if not past:
        first_start = times.local_to_utc(run[0], clock, field="--time")
        _refuse_past(first_start, option="--from", verb="schedule")
    with db.session_scope() as session:
        created = catalog.schedule_performances(
            session,
            show_slug=show_slug,
            venue_slug=venue_slug,
            first_day=first_day,
            last_day=last_day,
            weekdays=weekdays,
            at=clock,
            room_capacity=room_capacity,
            additional_seats=additional,
            manually_occupied_seats=manual,
            checkin_opens_before_minutes=checkin_opens,
            checkin_closes_after_minutes=checkin_closes,
            skip_existing=skip_existing,
        )
        rows = [
            summary.as_dict()
            for summary in reports.list_performances(
                session, ids=[performance.id or 0 for performance in created]
            )
        ]
    emit_list(rows, COLUMNS, as_json=as_json, title="Scheduled performances")
    if skip_existing:
        kept = len(run) - len(created)
        stderr.print(f"Added {len(created)}; {kept} already scheduled.", markup=False)


def _refuse_past(starts_at: datetime, *, option: str, verb: str) -> None:
    from azctl.services import times

    times.refuse_past(
        starts_at, now=times.now_utc(), field=option, hint=f"; give --past to {verb} it anyway"
    )


@app.command("list")
def list_(
    show: Annotated[str | None, typer.Option("--show", help="Only this show (slug).")] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="Only this venue (slug).")] = None,
    day: Annotated[
        str | None,
        typer.Option("--day", help="Only this day: YYYY-MM-DD, 'today' or 'tomorrow'."),
    ] = None,
    upcoming: Annotated[
        bool, typer.Option("--upcoming", help="Only performances yet to start.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List performances in start order, with their seats.

    Example: azctl perf list --day today
    """
    from azctl import db
    from azctl.services import reports, times

    on_day = None if day is None else times.parse_date(day, field="--day")
    with db.session_scope() as session:
        rows = [
            summary.as_dict()
            for summary in reports.list_performances(
                session,
                show_slug=show,
                venue_slug=venue,
                on_day=on_day,
                upcoming_from=times.now_utc() if upcoming else None,
            )
        ]
    emit_list(rows, COLUMNS, as_json=as_json, title="Performances")


@app.command("show")
def show(performance_id: IdArgument, as_json: JsonOption = False) -> None:
    """Show one performance: seats confirmed, free and checked in, and the door's window.

    Example: azctl perf show 12 --json
    """
    _print_summary(performance_id, as_json=as_json)


def _occupy(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise errors.InvalidInput("occupy", f"--occupy: expected +N or -N, got {text!r}") from None


@app.command("capacity")
def capacity_(
    performance_id: IdArgument,
    room_capacity: Annotated[
        int | None, typer.Option("--capacity", help="Seats in the room.")
    ] = None,
    additional: Annotated[int | None, typer.Option("--additional", help="Extra seats.")] = None,
    manual: Annotated[
        int | None, typer.Option("--manual", help="Set the seats held outside booking.")
    ] = None,
    occupy: Annotated[
        str | None, typer.Option("--occupy", help="+N or -N seats sold or freed at the door.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change seats under the performance lock; never below what is confirmed.

    Example: azctl perf capacity 12 --occupy +2
    """
    from azctl import db
    from azctl.services import capacity

    with db.session_scope() as session:
        capacity.change_capacity(
            session,
            performance_id=performance_id,
            room_capacity=room_capacity,
            additional_seats=additional,
            manually_occupied_seats=manual,
            occupy=_occupy(occupy),
        )
    _print_summary(performance_id, as_json=as_json)


def _set_booking(performance_id: int, *, enabled: bool, as_json: bool) -> None:
    from azctl import db
    from azctl.services import catalog

    with db.session_scope() as session:
        catalog.set_booking_enabled(session, performance_id=performance_id, enabled=enabled)
    _print_summary(performance_id, as_json=as_json)


@app.command("open")
def open_(performance_id: IdArgument, as_json: JsonOption = False) -> None:
    """Open public booking for a performance.

    Example: azctl perf open 12
    """
    _set_booking(performance_id, enabled=True, as_json=as_json)


@app.command("close")
def close(performance_id: IdArgument, as_json: JsonOption = False) -> None:
    """Close public booking; pending reservations can no longer be confirmed.

    Example: azctl perf close 12
    """
    _set_booking(performance_id, enabled=False, as_json=as_json)


def _confirmed(question: str) -> bool:
    """Ask on stderr and read the answer from stdin, so stdout carries only the result."""
    stderr.print(f"{question} [y/N] ", end="", markup=False)
    answer = typer.get_text_stream("stdin").readline()
    return answer.strip().lower() in {"y", "yes"}


@app.command("cancel")
def cancel(
    performance_id: IdArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Cancel a performance and all its bookings; every visitor is told by mail.

    Example: azctl perf cancel 12 --yes
    """
    from azctl import db
    from azctl.services import booking, reports
    from azctl.services.words import plural

    with db.session_scope() as session:
        label = reports.performance_summary(session, performance_id=performance_id).label
    if not yes and not _confirmed(f"Cancel {label} and all its bookings?"):
        stderr.print("Nothing changed.")
        raise typer.Exit(1)
    with db.session_scope() as session:
        count = booking.cancel_performance(session, performance_id=performance_id)
    say(f"Cancelled performance {performance_id} ({label}) and {plural(count, 'booking')}.")


@app.command("move")
def move(
    performance_id: IdArgument,
    at: Annotated[
        str,
        typer.Option("--at", help="New start, 'YYYY-MM-DD HH:MM' local time."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Move a performance to a new date and time; every visitor is told by mail, confirmed
    ones with their ticket and the updated calendar entry. Reminders follow the new time.

    Example: azctl perf move 12 --at "2027-03-14 18:00"
    """
    from azctl import db
    from azctl.services import performance_moves, times
    from azctl.services.words import plural

    starts_at = times.parse_local_datetime(at, field="--at")
    with db.session_scope() as session:
        moved = performance_moves.move_performance(
            session, performance_id=performance_id, starts_at=starts_at
        )
    if not as_json:
        stderr.print(
            f"Moved performance {performance_id} from"
            f" {times.short_local(moved.previous_start)} to {times.short_local(starts_at)};"
            f" told {plural(moved.confirmed_told, 'confirmed booking')} and"
            f" {plural(moved.pending_told, 'pending one')}.",
            markup=False,
        )
    _print_summary(performance_id, as_json=as_json)
