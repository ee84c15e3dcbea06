"""A yes/no question that names the object: y or Enter confirms, n or Escape cancels.

The text comes from ipctop.actions.confirmations, which says what will really
happen (e.g. that an attached segment is only marked for removal).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ipctop.render.escape import printable


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (y, Enter) or False (n, Escape)."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #dialog {
        width: 72; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen.-danger > #dialog { border: thick $error; }
    ConfirmScreen #title { text-style: bold; margin-bottom: 1; }
    ConfirmScreen #keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, text: str, *, title: str = "Confirm", danger: bool = True) -> None:
        super().__init__(classes="-danger" if danger else None)
        self.question = printable(text, keep="\n")  # the object's names come from the machine
        self.title_text = printable(title)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="title", markup=False)
            yield Static(self.question, id="question", markup=False)
            yield Static("y / Enter: yes     n / Escape: no", id="keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
