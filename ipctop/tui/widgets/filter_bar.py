"""The filter line under the table: `/` opens it, typing filters the pane, Enter keeps it, Escape clears it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label


class FilterInput(Input):
    """The filter's text.  Enter calls `kept` at once, rather than posting Submitted for later, so
    that the keys typed right after it (a pane's digit, `p`) go to the table, not into the filter."""

    def __init__(self, kept: Callable[[str], object], **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.kept = kept

    async def action_submit(self) -> None:
        self.kept(self.value)


class FilterBar(Horizontal):
    """Shown while the current pane has a filter or one is being typed."""

    DEFAULT_CSS = """
    FilterBar { display: none; height: 1; }
    FilterBar.-open { display: block; }
    FilterBar Label { width: auto; padding: 0 1; color: $text-accent; text-style: bold; }
    FilterBar Input { width: 1fr; }
    """

    def __init__(self, kept: Callable[[str], object]) -> None:
        super().__init__()
        self.kept = kept

    def compose(self) -> ComposeResult:
        yield Label("filter /")
        yield FilterInput(self.kept, placeholder="text in any column — Enter keeps it, Escape clears it",
                          id="filter", compact=True)  # fmt: skip

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text
