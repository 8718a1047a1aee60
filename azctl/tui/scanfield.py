"""The field a USB scanner types into: a keyboard wedge's burst of characters, then Enter."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input


class ScanField(Input):
    """Enter hands over what was typed and empties the field before the next key is read.

    A scanner sends its burst faster than the app reads it, so the next scan's keys are already
    queued behind the Enter. A plain Input submits through a key binding, which runs only after the
    Enter has bubbled up to the app, by when those keys have been typed onto the first scan; here
    Enter is taken in the field's own turn, in the order the keys came.
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
