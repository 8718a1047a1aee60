"""`azctl checkin`: the door's rules from the shell, the same service the TUI and HTTP use."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from azctl.commands.output import (
    AsOption,
    Column,
    CsvOption,
    DoorOption,
    JsonOption,
    PerfOption,
    emit_list,
    print_json,
    say,
    when,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from azctl.models import Staff
    from azctl.services.checkin import ScanOutcome

app = typer.Typer(help="Check-ins: scan, manual, list, undo, conflicts.", no_args_is_help=True)

ExitOption = Annotated[
    bool, typer.Option("--exit", help="The party is leaving (the interval); it may come back once.")
]

COLUMNS = [
    Column("checked_in_at", "At", when, no_wrap=True),
    Column("reference", "Reference"),
    Column("party_size", "Seats", justify="right"),
    Column("name", "Name"),
    Column("checked_in_by", "By"),
    Column("source", "How"),
]


def _acting(session: Session, username: str | None) -> Staff | None:
    from azctl.services import staff

    return None if username is None else staff.active_staff(session, username=username)


def _report(outcome: ScanOutcome, *, as_json: bool) -> None:
    """Print the door's answer; exit 0 only when the party may pass."""
    if as_json:
        print_json(outcome.as_dict())
    else:
        say(f"{outcome.result.value}: {outcome.message}")
    if not outcome.admitted:
        raise typer.Exit(1)


@app.command("scan")
def scan(
    text: Annotated[str, typer.Argument(help="What the scanner read: a token or a ticket URL.")],
    perf: PerfOption,
    as_: AsOption = None,
    door: DoorOption = None,
    leaving: ExitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check in a ticket (or, with --exit, let its party out); exits 0 for ok and 1 for every
    other result.

    Example: azctl checkin scan https://tickets.example.org/t/7KQ4... --perf 12 --as anna
    """
    from azctl import db
    from azctl.services import checkin

    with db.session_scope() as session:
        outcome = checkin.scan(
            session,
            text=text,
            performance_id=perf,
            staff=_acting(session, as_),
            door=door,
            direction="out" if leaving else "in",
        )
    _report(outcome, as_json=as_json)


@app.command("manual")
def manual(
    reference: Annotated[str, typer.Argument(help="The reservation's reference.")],
    perf: PerfOption,
    as_: AsOption = None,
    door: DoorOption = None,
    leaving: ExitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check in by reference, for a visitor without their QR code (--exit: let them out).

    Example: azctl checkin manual AZ-7KQ4M2 --perf 12 --as anna
    """
    from azctl import db
    from azctl.services import checkin

    with db.session_scope() as session:
        outcome = checkin.manual(
            session,
            reference=reference,
            performance_id=perf,
            staff=_acting(session, as_),
            door=door,
            direction="out" if leaving else "in",
        )
    _report(outcome, as_json=as_json)


@app.command("list")
def list_(perf: PerfOption, as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List who has checked in to a performance, in order of arrival.

    Example: azctl checkin list --perf 12 --csv
    """
    from azctl import db
    from azctl.services import checkin_lists

    with db.session_scope() as session:
        rows = [row.as_dict() for row in checkin_lists.list_check_ins(session, performance_id=perf)]
    emit_list(
        rows,
        COLUMNS,
        as_json=as_json,
        as_csv=as_csv,
        title="Check-ins",
        fields=checkin_lists.CheckInRow.FIELDS,
    )


@app.command("undo")
def undo(
    reference: Annotated[str, typer.Argument(help="The reservation's reference.")],
    perf: PerfOption,
    as_: AsOption = None,
) -> None:
    """Take back a mistaken check-in (logged like a scan).

    Example: azctl checkin undo AZ-7KQ4M2 --perf 12 --as anna
    """
    from azctl import db
    from azctl.services import checkin

    with db.session_scope() as session:
        reservation = checkin.undo(
            session, reference=reference, performance_id=perf, staff=_acting(session, as_)
        )
    say(f"Undid the check-in of {reservation.reference}.")


def clock(value: object) -> str:
    """A time of tonight, as the door read it: conflicts are of one performance."""
    return f"{datetime.fromisoformat(str(value)):%H:%M}" if value else ""


# Narrow enough for an 80-column terminal: the door's own times are tonight's, and the way
# (in or out) is in --json; a clash of a party going out reads not_inside.
CONFLICT_COLUMNS = [
    Column("passed_at", "At", clock, no_wrap=True),
    Column("door", "Door"),
    Column("reference", "Reference", no_wrap=True),
    Column("party_size", "Seats", justify="right"),
    Column("conflict", "Clash", no_wrap=True),
    Column("first_door", "First"),
    Column("first_at", "at", clock, no_wrap=True),
    Column("by", "By"),
]


@app.command("conflicts")
def conflicts(perf: PerfOption, as_json: JsonOption = False) -> None:
    """List the offline admissions that clashed once uploaded: a ticket let in at two doors,
    or one cancelled while the door was offline. Each was recorded, marked forced.

    Example: azctl checkin conflicts --perf 12 --json
    """
    from azctl import db
    from azctl.services import door_counts

    with db.session_scope() as session:
        rows = [row.as_dict() for row in door_counts.conflicts(session, performance_id=perf)]
    emit_list(
        rows,
        CONFLICT_COLUMNS,
        as_json=as_json,
        as_csv=False,
        title="Offline admissions that clashed",
        fields=door_counts.Conflict.FIELDS,
    )
