"""`azctl report`: the season per performance and per show, with bars; `--json`, `--csv`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from azctl.commands.output import CsvOption, JsonOption, csv_text, print_json, stderr, stdout, when

if TYPE_CHECKING:
    from rich.text import Text

    from azctl.services.season_report import Figures

BAR_WIDTH = 12
# The bar of one line: checked in, then confirmed still to come (or absent), then free seats.
IN, EXPECTED, FREE = "█", "▓", "░"


def bar(figures: Figures) -> Text:
    """`seats` wide in BAR_WIDTH cells: checked-in seats, the rest of the confirmed, then free."""
    from rich.text import Text

    text = Text()
    if figures.seats <= 0:
        return text
    came = min(figures.checked_in, figures.seats)
    booked = max(came, min(figures.confirmed, figures.seats))
    came_cells = round(BAR_WIDTH * came / figures.seats)
    booked_cells = round(BAR_WIDTH * booked / figures.seats)
    text.append(IN * came_cells, style="green")
    text.append(EXPECTED * (booked_cells - came_cells), style="yellow")
    text.append(FREE * (BAR_WIDTH - booked_cells), style="dim")
    return text


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _cells(figures: Figures) -> list[Any]:
    return [
        str(figures.seats),
        str(figures.confirmed),
        str(figures.checked_in),
        _number(figures.no_shows),
        str(figures.walk_ins),
        f"{figures.waitlist_joined}/{figures.waitlist_offered}/{figures.waitlist_booked}",
        bar(figures),
    ]


def report(
    show: Annotated[str | None, typer.Option("--show", help="Only this show (its slug).")] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First day: YYYY-MM-DD, 'today' or 'tomorrow'.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last day (included): YYYY-MM-DD.")
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The season: per performance and per show, seats, confirmed, checked in, no-shows,
    walk-ins and the waiting list (joined/offered/booked).

    No-shows are counted once a performance's check-in window has closed; before, blank.

    Example: azctl report --show la-locandiera --from 2027-03-01 --to 2027-03-31 --csv
    """
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    from azctl import db
    from azctl.services import season_report, times

    first_day = None if first is None else times.parse_date(first, field="--from")
    last_day = None if last is None else times.parse_date(last, field="--to")
    with db.session_scope() as session:
        found = season_report.season_report(
            session, show_slug=show, first_day=first_day, last_day=last_day
        )
    if as_json:
        print_json(found.as_dict())
        return
    if as_csv:
        typer.echo(csv_text(found.csv_rows(), found.CSV_FIELDS), nl=False)
        return
    if not found.performances:
        stderr.print("No performances.")
        return
    _table(found)


def _table(found: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Season report", title_justify="left")
    # The numbers and the bar keep their width on a narrow terminal; the label wraps instead.
    table.add_column("Performance", min_width=10)
    for header in ("Seats", "Confirmed", "In", "No-show", "Walk-in", "Waitlist"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    table.add_column("Fill", no_wrap=True, min_width=BAR_WIDTH)
    by_show: dict[Any, list[Any]] = {}
    for line in found.performances:
        by_show.setdefault(line.show.id, []).append(line)
    for total in found.shows:
        for line in by_show[total.show.id]:
            label = f"{line.performance.id} {when(line.as_dict()['starts_at'])}"
            if line.performance.cancelled_at is not None:
                label += " (cancelled)"
            table.add_row(Text(label), *_cells(line.figures))
        table.add_row(
            Text(f"{total.show.title} ({total.performances})", style="bold"),
            *_cells(total.figures),
            end_section=True,
        )
    stdout.print(table)
    stdout.print(
        Text(
            f"Fill: {IN} in {EXPECTED} confirmed {FREE} free. Seats count people; waitlist:"
            " entries joined/offered/booked; no-shows once the door has closed.",
            style="dim",
        )
    )
