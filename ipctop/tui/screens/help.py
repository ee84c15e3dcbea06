"""`?` / F1: every key of the monitor, built from the action registry.

One scrolling page that has the focus, so arrows, PgUp/PgDn, Home and End scroll
it at once; its descriptions wrap to the width of the box (at 80 columns too), and
the last column says in which panes a key works (`x` removes a segment in pane 1,
a queue in pane 2…).
"""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ipctop.tui.help_text import key_label, where
from ipctop.tui.registry import all_actions

OTHER_KEYS = (
    ("ctrl+p", "Command palette: every action by name", ""),
    ("tab shift+tab", "Move the focus (tabs, table)", ""),
    ("↑ ↓ k j PgUp PgDn", "Move the cursor (a row followed with F is no longer)", ""),
    ("click", "Choose a tab or a row; a click on a column header sorts by it", ""),
    ("escape", "Close this screen, a detail or a dialog", ""),
)


def keys_table(readonly: bool) -> Table:
    table = Table(box=None, expand=True, pad_edge=False, header_style="bold")
    table.add_column("Key", no_wrap=True, style="bold")
    table.add_column("Action", ratio=1)
    table.add_column("Only in", max_width=34, style="italic")
    for spec in all_actions():
        if spec.mutates and readonly:
            continue
        table.add_row(key_label(spec), spec.help or spec.description, where(spec))
    for row in OTHER_KEYS:
        table.add_row(*row)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, readonly: bool) -> None:
        super().__init__(classes="dialog")
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("ipctop — keys", classes="dialog-title")
            yield Static(keys_table(self.readonly), id="help-keys")
            note = "Started with --readonly: actions that change the system are hidden." if self.readonly else ""
            yield Static(note, id="help-note")

    def on_mount(self) -> None:
        self.query_one("#help", VerticalScroll).focus()  # the arrows and PgDn scroll it, no Tab first
