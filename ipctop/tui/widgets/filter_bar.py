"""The filter line under the table: `/` opens it, typing filters the pane, Escape clears it."""

from __future__ import annotations

from textual.widgets import Input


class FilterBar(Input):
    """An Input that is shown while the current pane has a filter or is being filtered."""

    DEFAULT_CSS = """
    FilterBar { dock: bottom; display: none; }
    FilterBar.-open { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(placeholder="filter: any text in any column (Enter keeps it, Escape clears it)", id="filter")
