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

app = typer.Typer(help="Reservations: list, show, cancel, resend, expire.", no_args_is_help=True)

COLUMNS = [
    Column("reference", "Reference", no_wrap=True),
    Column("status", "Status", no_wrap=True),
    Column("checked_in", "In", yes_no),
    Column("party_size", "Seats", justify="right"),
    Column("name", "Name"),
    Column("email", "Email"),
    Column("starts_at", "Performance", when, no_wrap=True),
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
