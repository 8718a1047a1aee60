"""The big coloured answer to the latest scan, to be read from a step away in a dark foyer."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from azctl.services import times
from azctl.services.checkin import ScanOutcome, ScanResult

# The first line of the banner: the answer in a word or two, for a glance.
HEADLINES = {
    ScanResult.ALREADY_CHECKED_IN: "ALREADY CHECKED IN",
    ScanResult.UNKNOWN_TOKEN: "UNKNOWN TICKET",
    ScanResult.NOT_CONFIRMED: "NOT CONFIRMED",
    ScanResult.WRONG_PERFORMANCE: "WRONG PERFORMANCE",
    ScanResult.TOO_EARLY: "TOO EARLY",
    ScanResult.TOO_LATE: "TOO LATE",
    ScanResult.PERFORMANCE_CANCELLED: "PERFORMANCE CANCELLED",
    ScanResult.NOT_INSIDE: "NOT INSIDE",
}

# Green lets the party in; red is a ticket that has been used, so a copy may be in other hands;
# yellow, every other answer, is a ticket not for this door now, or no ticket at all.
TONES = {
    ScanResult.OK: "admit",
    ScanResult.ALREADY_CHECKED_IN: "refuse",
}
TONE_CLASSES = ("-admit", "-refuse", "-warn", "-checking", "-exit")
# How long an answer stays before the banner says READY again: long enough to read it from a step
# away, short enough that the next visitor is never taken for the last one's answer.
BANNER_SECONDS = 6.0


def headline(outcome: ScanOutcome) -> str:
    """The answer in a word or two; an answer from the door's own copy says so."""
    if outcome.result is ScanResult.OK:
        word = "EXIT" if outcome.direction == "out" else "ADMIT"
        title = f"{word} {outcome.party_size}{' · BACK IN' if outcome.again else ''}"
    else:
        title = HEADLINES[outcome.result]
    return f"{title} · OFFLINE" if outcome.offline else title


def detail(outcome: ScanOutcome) -> str:
    """The service's one line for staff, without the words the headline already says, the
    reference when the line does not carry it, and staff's door note on an admission."""
    title = headline(outcome).removesuffix(" · OFFLINE").removesuffix(" · BACK IN")
    line = outcome.message.removesuffix(" (back in)")
    if line.startswith(title):
        line = line.removeprefix(title).lstrip(": ")
    line = line.replace(" (back in):", ":")
    if outcome.reference and outcome.reference not in line:
        line = f"{outcome.reference} · {line}" if line else outcome.reference
    if outcome.admitted and outcome.door_note and outcome.direction == "in":
        line = f"{line}\nNOTE: {outcome.door_note}"
    return line


class ResultBanner(Static):
    """Shows one answer at a time: a headline, its detail, and when it was given.

    The time line tells staff that a second scan with the same answer was answered anew; after
    `seconds` the banner goes back to READY by itself.
    """

    def __init__(self, *, seconds: float = BANNER_SECONDS, id: str | None = None) -> None:
        super().__init__(id=id)
        self.seconds = seconds
        self.back_to_ready: Timer | None = None
        # F6 on the door: READY says scans let parties out.
        self.leaving = False

    def on_mount(self) -> None:
        self.show_waiting()

    def _show(self, tone: str, title: str, line: str, at: datetime | None = None) -> None:
        if self.back_to_ready is not None:
            self.back_to_ready.stop()
            self.back_to_ready = None
        if at is not None:
            self.back_to_ready = self.set_timer(self.seconds, self.show_waiting)
        self.remove_class(*TONE_CLASSES)
        if tone:
            self.add_class(f"-{tone}")
        text = Text(justify="center")
        text.append(title, style="bold")
        text.append(f"\n{line}")
        if at is not None:
            text.append(f"\n{times.to_local(at):%H:%M:%S}")
        self.update(text)

    def show_waiting(self) -> None:
        if self.leaving:
            self._show("exit", "EXIT MODE", "scan the ticket of a party going out; F6 to end")
        else:
            self._show("", "READY", "scan a ticket, or F2 to find a visitor by name")

    def show_checking(self) -> None:
        self._show("checking", "CHECKING…", "")

    def show_outcome(self, outcome: ScanOutcome, at: datetime) -> None:
        self._show(TONES.get(outcome.result, "warn"), headline(outcome), detail(outcome), at)

    def show_failure(self, title: str, line: str, at: datetime) -> None:
        """An answer that is not a check-in result: the database is gone, or a refusal."""
        self._show("refuse", title, line, at)
