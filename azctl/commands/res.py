"""`azctl res`: reservations, for phone support and the box office."""

from __future__ import annotations

from typing import Annotated

import typer

from azctl.commands.output import (
    Column,
    CsvOption,
    JsonOption,
    emit_list,
    emit_record,
    say,
    when,
    yes_no,
)
from azctl.ids import MAX_ID

app = typer.Typer(
    help="Reservations: list, show, cancel, resend, expire, move, flag.", no_args_is_help=True
)

COLUMNS = [
    Column("reference", "Reference", no_wrap=True),
    Column("status", "Status", no_wrap=True),
    Column("checked_in", "In", yes_no),
    Column("party_size", "Seats", justify="right"),
    Column("name", "Name"),
    Column("email", "Email"),
    Column("starts_at", "Performance", when, no_wrap=True),
    Column("door_note", "Door note"),
]
ReferenceArgument = Annotated[
    str, typer.Argument(help="The reservation's reference, e.g. AZ-7KQ4M2.")
]


@app.command("list")
def list_(
    perf: Annotated[int | None, typer.Option("--perf", help="Only this performance.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, confirmed, cancelled or expired."),
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Name, email or reference containing this text.")
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List reservations, with contact details (this output holds personal data).

    Example: azctl res list --perf 12 --status confirmed --csv > guests.csv
    """
    from azctl import db
    from azctl.services import reservations

    with db.session_scope() as session:
        rows = [
            row.as_dict()
            for row in reservations.list_reservations(
                session, performance_id=perf, status=status, search=search
            )
        ]
    emit_list(
        rows,
        COLUMNS,
        as_json=as_json,
        as_csv=as_csv,
        title="Reservations",
        fields=reservations.ReservationRow.FIELDS,
    )


@app.command("show")
def show(reference: ReferenceArgument, as_json: JsonOption = False) -> None:
    """Show one reservation.

    Example: azctl res show AZ-7KQ4M2
    """
    from azctl import db
    from azctl.services import reservations

    with db.session_scope() as session:
        row = reservations.reservation_row(session, reference=reference)
    emit_record(row.as_dict(), key="reference", as_json=as_json)


@app.command("cancel")
def cancel(reference: ReferenceArgument) -> None:
    """Cancel a reservation and free its seats; the visitor is told by mail.

    Example: azctl res cancel AZ-7KQ4M2
    """
    from azctl import db
    from azctl.services import booking
    from azctl.services.words import plural

    with db.session_scope() as session:
        reservation = booking.cancel_reservation(session, reference=reference)
    if reservation.confirmed_at is not None:
        freed = plural(reservation.party_size, "seat is", "seats are")
        say(f"Cancelled {reservation.reference}: {freed} free again.")
    else:
        say(f"Cancelled {reservation.reference} (it was not yet confirmed, so held no seats).")


@app.command("resend")
def resend(reference: ReferenceArgument) -> None:
    """Mail the visitor fresh links (confirmation or ticket); the old links stop working.

    Example: azctl res resend AZ-7KQ4M2
    """
    from azctl import db
    from azctl.services import booking

    with db.session_scope() as session:
        reservation = booking.resend(session, reference=reference)
    kind = "confirmation link" if reservation.status == "pending" else "ticket"
    say(f"Queued a new {kind} for {reservation.reference} to {reservation.email}.")


@app.command("expire")
def expire() -> None:
    """Mark pending reservations whose confirmation link has lapsed as expired.

    Example: azctl res expire
    """
    from azctl import db
    from azctl.services import booking
    from azctl.services.words import plural

    with db.session_scope() as session:
        count = booking.expire_pending(session)
    say(f"Expired {plural(count, 'pending reservation')}.")


@app.command("move")
def move(
    reference: ReferenceArgument,
    to: Annotated[
        int,
        typer.Option("--to", help="The performance to move to (same show).", min=1, max=MAX_ID),
    ],
    as_json: JsonOption = False,
) -> None:
    """Move a confirmed booking to another date of its show; a new ticket is mailed.

    The reference stays; the old ticket and cancel link stop working. Refused if the party does
    not fit, the booking has checked in, or the performance is of another show.

    Example: azctl res move AZ-7KQ4M2 --to 14
    """
    from azctl import db
    from azctl.services import booking, reservations

    with db.session_scope() as session:
        moved = booking.move_reservation(session, reference=reference, to_performance_id=to)
        row = reservations.reservation_row(session, reference=moved.reservation.reference)
    if as_json:
        emit_record(row.as_dict(), key="reference", as_json=True)
        return
    say(
        f"Moved {moved.reservation.reference} from performance {moved.from_performance_id}"
        f" to {to} ({when(row.as_dict()['starts_at'])});"
        f" a new ticket is queued to {moved.reservation.email}."
    )


@app.command("flag")
def flag(
    reference: ReferenceArgument,
    text: Annotated[
        str | None,
        typer.Argument(help="The note, one line (at most 200 characters).", show_default=False),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the door note.")] = False,
) -> None:
    """Set a note the door sees for this booking (e.g. "wheelchair space"), or --clear it.

    Example: azctl res flag AZ-7KQ4M2 "wheelchair space"
    """
    if clear == (text is not None):
        raise typer.BadParameter("give the note's TEXT or --clear, not both and not neither")
    from azctl import db
    from azctl.services import booking

    with db.session_scope() as session:
        reservation = booking.flag_reservation(session, reference=reference, note=text)
    if reservation.door_note is None:
        say(f"Cleared the door note of {reservation.reference}.")
    else:
        say(f"Door note for {reservation.reference}: {reservation.door_note}")
