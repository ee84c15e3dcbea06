"""The filter line under the table: `/` opens it, typing filters the pane, Escape clears it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label


class FilterBar(Horizontal):
    """Shown while the current pane has a filter or one is being typed."""

    DEFAULT_CSS = """
    FilterBar { display: none; height: 1; }
    FilterBar.-open { display: block; }
    FilterBar Label { width: auto; padding: 0 1; color: $text-accent; text-style: bold; }
    FilterBar Input { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Label("filter /")
        yield Input(placeholder="text in any column — Enter keeps it, Escape clears it", id="filter", compact=True)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text
