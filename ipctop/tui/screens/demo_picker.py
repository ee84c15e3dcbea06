"""`D`: choose a demo (the list of `ipctop demo list`), its speed and step mode, and start it.

Enter starts the highlighted demo, `S` starts it step by step (`g` in the
monitor takes each step), Escape cancels.  Dismisses with a DemoChoice or None.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ipctop.demos.catalog import DEMOS, find
from ipctop.tui.demo_session import DemoChoice

NAME_WIDTH = max(len(info.name) for info in DEMOS) + 2


def parse_speed(text: str) -> float:
    """`2` -> 2.0; ValueError with one sentence for anything but a positive number."""
    try:
        speed = float(text.strip())
    except ValueError:
        raise ValueError(f"“{text.strip()}” is not a speed: write a positive number, like 0.5 or 2") from None
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"the speed must be a positive number, not {text.strip()}")
    return speed


class DemoPicker(ModalScreen[DemoChoice | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("S", "start(True)", "Start step by step"),
    ]
    DEFAULT_CSS = """
    DemoPicker { align: center middle; background: $background 60%; }
    DemoPicker > #demo-picker {
        width: 100%; max-width: 116; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    DemoPicker #demo-title { text-style: bold; padding: 0 0 1 0; }
    DemoPicker OptionList { height: auto; max-height: 55vh; text-wrap: nowrap; text-overflow: ellipsis; }
    DemoPicker #demo-lesson { height: auto; max-height: 4; color: $text-muted; padding: 1 0 0 0; }
    DemoPicker #demo-options { height: auto; padding: 1 0 0 0; }
    DemoPicker #demo-options Label { padding: 0 1 0 2; }
    DemoPicker #speed { width: 10; }
    DemoPicker #demo-error { color: $text-error; height: auto; }
    DemoPicker #demo-keys { color: $text-muted; }
    """

    def __init__(self, speed: float = 1.0) -> None:
        super().__init__()
        self.speed = speed

    def compose(self) -> ComposeResult:
        with Vertical(id="demo-picker"):
            yield Static("Run a demo: real processes make the real calls, narrated below the panes", id="demo-title")
            yield OptionList(
                *(Option(self._prompt(info.name, info.description), id=info.name) for info in DEMOS), id="demos"
            )
            yield Static(id="demo-lesson")
            with Horizontal(id="demo-options"):
                yield Checkbox("Step by step (g takes each step)", id="step", compact=True)
                yield Label("Speed")
                yield Input(f"{self.speed:g}", id="speed", compact=True)
                yield Label("(2 = twice as fast)")
            yield Static(id="demo-error")
            yield Static("Enter: start · S: start step by step · Tab: options · Escape: cancel", id="demo-keys")

    @staticmethod
    def _prompt(name: str, description: str) -> Text:
        text = Text(name.ljust(NAME_WIDTH), style="bold", no_wrap=True, overflow="ellipsis")
        text.append(description)
        return text

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionHighlighted)
    def _show_lesson(self, event: OptionList.OptionHighlighted) -> None:
        info = find(event.option.id or "")
        self.query_one("#demo-lesson", Static).update(info.lesson if info else "")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_start(self.query_one(Checkbox).value)

    @on(Input.Submitted, "#speed")
    def _speed_entered(self) -> None:
        self.action_start(self.query_one(Checkbox).value)

    def action_start(self, step_mode: bool) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        name = options.get_option_at_index(options.highlighted).id or ""
        speed_input = self.query_one("#speed", Input)
        try:
            speed = parse_speed(speed_input.value)
        except ValueError as error:
            message = str(error)
            self.query_one("#demo-error", Static).update(message[:1].upper() + message[1:] + ".")
            speed_input.focus()
            return
        self.dismiss(DemoChoice(name, speed, step_mode))
