"""The lines under the table where a text is typed: the filter and the search.

The filter (`/`, F4) keeps only the rows containing its text: Enter keeps it, Escape
clears it.  The search (F3) moves the cursor to the next row containing its text
as it is typed, leaving every row in place: Enter goes back to the table, where n
and N go on to the next and previous match; F3 in the line goes to the next at once.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from ipctop.tui.widgets.key_bar import KeyBar


class FilterInput(Input):
    """A line's text.  Enter calls `kept` at once, rather than posting Submitted for later, so
    that the keys typed right after it (a pane's digit, `p`) go to the table, not into the line."""

    def __init__(self, kept: Callable[[str], object], **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.kept = kept

    async def action_submit(self) -> None:
        self.kept(self.value)

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self._show_keys(False)

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self._show_keys(True)

    def _show_keys(self, shown: bool) -> None:
        """While the line is typed in it takes the key bar's place, as htop's does: the tables keep their
        size, so opening or closing the line lays out the line alone, not every pane again.  (The key
        bar's `display`, not a class of the screen: a screen's class restyles every widget.)"""
        for bar in self.screen.query(KeyBar):
            bar.display = shown


class TextLine(Horizontal):
    """A label and an input, shown while it has the class `-open`."""

    DEFAULT_CSS = """
    TextLine { display: none; height: 1; }
    TextLine.-open { display: block; }
    TextLine Label { width: auto; padding: 0 1; color: $text-accent; text-style: bold; }
    TextLine Input { width: 1fr; }
    """
    LABEL = ""
    PLACEHOLDER = ""
    INPUT_ID = ""

    def __init__(self, kept: Callable[[str], object]) -> None:
        super().__init__()
        self.kept = kept

    def compose(self) -> ComposeResult:
        yield Label(self.LABEL)
        yield FilterInput(self.kept, placeholder=self.PLACEHOLDER, id=self.INPUT_ID, compact=True)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text


class FilterBar(TextLine):
    """Shown while the current pane has a filter or one is being typed."""

    LABEL = "filter /"
    PLACEHOLDER = "text in any column — Enter keeps it, Escape clears it"
    INPUT_ID = "filter"


class SearchBar(TextLine):
    """Shown while a search is being typed."""

    LABEL = "search F3"
    PLACEHOLDER = "text in any column — the cursor goes to the next row with it; Enter, then n / N"
    INPUT_ID = "search"
