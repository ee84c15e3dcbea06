"""F6: choose the column the current pane is sorted by."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ipctop.tui.rows import Column


class SortScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape,f6", "dismiss(None)", "Cancel")]

    def __init__(self, columns: tuple[Column, ...], current: str | None) -> None:
        super().__init__(classes="dialog")
        self.sort_columns = columns
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="sort"):
            yield Static("Sort by", classes="dialog-title")
            yield OptionList(*(Option(c.label, id=c.key) for c in self.sort_columns))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        keys = [c.key for c in self.sort_columns]
        if self.current in keys:
            options.highlighted = keys.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
