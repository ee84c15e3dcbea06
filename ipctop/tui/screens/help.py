"""`?` / F1: every key of the monitor, built from the action registry."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ipctop.tui.help_text import key_label
from ipctop.tui.panes import PANES
from ipctop.tui.registry import ActionSpec, all_actions

PANE_TITLES = {pane.pane_id: f"{i} {pane.title}" for i, pane in enumerate(PANES, 1)}
OTHER_KEYS = (
    ("ctrl+p", "Command palette: every action by name", ""),
    ("tab shift+tab", "Move the focus (tabs, table)", ""),
    ("↑ ↓ PgUp PgDn", "Move the cursor", ""),
    ("click", "Choose a tab or a row; a click on a column header sorts by it", ""),
    ("escape", "Close this screen, a detail or a dialog", ""),
)


def where(spec: ActionSpec) -> str:
    if not spec.panes:
        return ""
    return ", ".join(PANE_TITLES.get(p, p) for p in sorted(spec.panes, key=list(PANE_TITLES).index))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, readonly: bool) -> None:
        super().__init__(classes="dialog")
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("ipctop — keys", classes="dialog-title")
            table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, id="help-keys")
            yield table
            note = "Started with --readonly: actions that change the system are hidden." if self.readonly else ""
            yield Static(note, id="help-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Only in")
        for spec in all_actions():
            if spec.mutates and self.readonly:
                continue
            table.add_row(key_label(spec), spec.help or spec.description, where(spec))
        for row in OTHER_KEYS:
            table.add_row(*row)
