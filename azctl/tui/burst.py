"""Telling a scanner's burst from a person's typing, by the time between keys.

A USB scanner is a keyboard: it types a ticket's characters far faster than anyone can, then
Enter. The door holds back each printable key for a moment; keys that keep coming closer together
than a person could type them, and end in Enter, are a scan, whatever has focus. Anything else is
handed on unchanged, in the order it came, once it is clear that it is not a scan: a pause, a
key that is not a character, or an Enter after too few characters. A person's key reaches the
search or the dialog a fraction of a second later; a scanner's never reaches it at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events

# Scanners type a key every few milliseconds; a fast typist's keys are 60 ms or more apart, and
# no one keeps up less than this over a whole ticket.
MAX_GAP_SECONDS = 0.04
# Fewer characters than any code a scanner reads (a ticket is 32, a reference 9): a short quick
# roll of keys and Enter is left to the widget with focus.
MIN_BURST_CHARACTERS = 8
# How long a held key waits for the next one before it is handed on: more than the gap, so that
# a burst is never cut in two by a late timer, and short enough that typing does not feel slow.
HOLD_SECONDS = 0.1


@dataclass
class Sorted:
    """What one key, or the end of a wait, settles: keys to hand on now, and a scan, if any."""

    keys: list[events.Key] = field(default_factory=list)
    scan: str | None = None


class BurstDetector:
    """Fed every key as it comes, with the time it was read (`events.Key.time`).

    It keeps the printable keys that might be the start of a burst; `press` and `release` say
    which keys are now known to be a person's, to be handed on, and which text was a scan.
    """

    def __init__(
        self,
        *,
        max_gap: float = MAX_GAP_SECONDS,
        min_characters: int = MIN_BURST_CHARACTERS,
    ) -> None:
        self.max_gap = max_gap
        self.min_characters = min_characters
        self.held: list[events.Key] = []

    def press(self, key: events.Key) -> Sorted:
        if key.key == "enter":
            if self._is_burst_ending(key):
                text = "".join(held.character or "" for held in self.held)
                self.held = []
                return Sorted(scan=text)
            return Sorted(keys=[*self.release(), key])
        if not key.is_printable:
            return Sorted(keys=[*self.release(), key])
        before = self.release() if self.held and self._gap(key) > self.max_gap else []
        self.held.append(key)
        return Sorted(keys=before)

    def release(self) -> list[events.Key]:
        """Every key held, to be handed on: no burst is coming after them."""
        released, self.held = self.held, []
        return released

    def _gap(self, key: events.Key) -> float:
        return key.time - self.held[-1].time

    def _is_burst_ending(self, enter: events.Key) -> bool:
        """The keys held came each within the gap of the last (`press` saw to that), so an
        Enter as quick after enough of them ends a burst."""
        return len(self.held) >= self.min_characters and self._gap(enter) <= self.max_gap
