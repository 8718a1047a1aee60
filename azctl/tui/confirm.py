"""A yes-or-no question that must be answered before something is written."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True for yes; any way out that is not yes is no.

    Only `y` and the Yes button say yes. Enter says nothing: it ends every scan, and a scan that
    lands on a question must not answer it. So no button takes focus, where Enter would press it.
    """

    AUTO_FOCUS = None
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                for label, variant, answer in (
                    ("Yes (y)", "success", "yes"),
                    ("No (n)", "error", "no"),
                ):
                    button = Button(label, variant=variant, id=answer)  # type: ignore[arg-type]
                    button.can_focus = False
                    yield button
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
