"""The door's latest scans and walk-in seats, newest first, from every door of this performance."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable

from azctl.services import times, walkins
from azctl.services.checkin_lists import ScanRow

# How the scan log names a source and a result, as staff say them.
SOURCES = {"qr_scan": "scan", "manual": "by hand", "offline": "offline", walkins.SOURCE: "walk-in"}
RESULTS = {walkins.SOLD: "seat sold", walkins.GIVEN_BACK: "seat given back"}
# Fixed widths, wide enough for every result and reference: the columns never jump as rows come.
COLUMNS = (("Time", 8), ("Result", 21), ("Reference", 9), ("By", 8), ("How", 7), ("Door", 8))


def result_words(scan: ScanRow) -> str:
    """A scan's result as staff say it: a party let out reads "exit", not "ok"."""
    if scan.result == "ok" and scan.direction == "out":
        return "exit"
    return RESULTS.get(scan.result, scan.result.replace("_", " "))


class RecentScans(DataTable[str]):
    """A read-only list: it never takes focus, so the scan field keeps it."""

    can_focus = False

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True
        for label, width in COLUMNS:
            self.add_column(label, width=width)

    def show(self, scans: Iterable[ScanRow]) -> None:
        self.clear()
        for scan in scans:
            self.add_row(
                f"{times.to_local(scan.scanned_at):%H:%M:%S}",
                result_words(scan),
                scan.reference or "",
                scan.staff or "",
                SOURCES.get(scan.source, scan.source),
                scan.door or "",
            )
