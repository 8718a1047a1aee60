"""The field staff type a ticket's code or a booking reference into, then Enter.

A scanner's burst never reaches it: the app takes a burst for a scan before any widget sees it
(`azctl/tui/burst.py`). What reaches the field is a person's typing, handed on by the app a moment
after it was typed, sometimes several keys and the Enter at once.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input


class ScanField(Input):
    """Enter hands over what was typed and empties the field before the next key is read.

    Keys handed on together are queued behind the Enter. A plain Input submits through a key
    binding, which runs only after the Enter has bubbled up to the app, by when the keys behind it
    have been typed onto the first text; here Enter is taken in the field's own turn, in the order
    the keys came.
    """

    class Scanned(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def on_key(self, event: events.Key) -> None:
        if event.key != "enter":
            return
        event.stop()
        event.prevent_default()
        text = self.value
        self.clear()
        if text.strip():
            self.post_message(self.Scanned(text))
