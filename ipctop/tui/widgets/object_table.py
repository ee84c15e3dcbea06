"""A DataTable kept in step with a pane's rows by key, never cleared and refilled.

Each scan, `sync()` adds the rows that appeared (highlighted once), updates only
the cells that changed (highlighted once), dims the rows that vanished for one
scan before removing them, re-sorts, and puts the cursor back on the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

from ipctop.tui.rows import Cell, Column, Role, Row

ROLE_CLASSES = ("alert", "warn", "good", "muted", "strong", "demo")
TRANSIENT_CLASSES = ("new", "changed", "gone")
WHOLE_ROW = "*"


class ObjectTable(DataTable[Cell]):
    BINDINGS: ClassVar = [Binding("enter", "select_cursor", "Detail", show=True)]
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"object-table--{name}" for name in ROLE_CLASSES + TRANSIENT_CLASSES}
    DEFAULT_CSS = """
    ObjectTable > .object-table--alert { color: $text-error; text-style: bold; }
    ObjectTable > .object-table--warn { color: $text-warning; }
    ObjectTable > .object-table--good { color: $text-success; }
    ObjectTable > .object-table--muted { color: $text-muted; }
    ObjectTable > .object-table--strong { text-style: bold; }
    ObjectTable > .object-table--demo { color: $text-accent; }
    ObjectTable > .object-table--new { color: $text-success; text-style: bold; }
    ObjectTable > .object-table--changed { color: $text-warning; text-style: bold; }
    ObjectTable > .object-table--gone { color: $text-disabled; text-style: strike; }
    """

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        # The rows' own colours stay visible under the cursor: a blocked row must read as blocked.
        super().__init__(cursor_type="row", cell_padding=1, cursor_foreground_priority="renderable", id=id)
        self.spec = tuple(columns)
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._rows: dict[str, Row] = {}
        self._fading: set[str] = set()
        self._lit: dict[str, set[str]] = {}

    def on_mount(self) -> None:
        for column in self.spec:
            width = max(column.width, len(column.label) + 1) if column.width else None
            self.add_column(self._label(column), width=width, key=column.key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.call_after_refresh(self.restyle_all))

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    @property
    def selected(self) -> Any:
        """The model object of the row under the cursor, or None."""
        key = self.cursor_key
        row = self._rows.get(key) if key is not None else None
        return row.obj if row is not None else None

    def row_for(self, key: str) -> Row | None:
        return self._rows.get(key)

    def is_fading(self, key: str) -> bool:
        return key in self._fading

    def sync(self, rows: Sequence[Row], *, fade: bool, highlight: bool) -> None:
        """Make the table show `rows`; `fade` keeps vanished rows dimmed one more scan."""
        cursor_key = self.cursor_key
        incoming = {row.key: row for row in rows}
        resort = False
        for key in [k for k in self._rows if k not in incoming]:
            if fade and key not in self._fading:
                self._fading.add(key)
                self._restyle_row(key, "gone")
            else:
                self.remove_row(key)
                del self._rows[key]
                self._fading.discard(key)
                self._lit.pop(key, None)
        for key, row in incoming.items():
            old = self._rows.get(key)
            self._rows[key] = row
            if old is None:
                self.add_row(*(self._styled(c, row.role, "new" if highlight else None) for c in row.cells), key=key)
                self._lit[key] = {WHOLE_ROW} if highlight else set()
                resort = True
                continue
            redraw_all = key in self._fading or WHOLE_ROW in self._lit.get(key, ()) or row.role != old.role
            self._fading.discard(key)
            was_lit = self._lit.get(key, set())
            lit = set()
            for column, cell, before in zip(self.spec, row.cells, old.cells, strict=True):
                differs = not cell.same_as(before)
                mark = highlight and differs and not column.volatile
                if differs or redraw_all or column.key in was_lit:
                    styled = self._styled(cell, row.role, "changed" if mark else None)
                    self.update_cell(key, column.key, styled, update_width=self._widens(column, styled))
                if mark:
                    lit.add(column.key)
                if column.key == self.sort_column and cell.sort_key != before.sort_key:
                    resort = True
            self._lit[key] = lit
        if resort:
            self.apply_sort()
        self._restore_cursor(cursor_key)

    def set_sort(self, column_key: str, reverse: bool) -> None:
        cursor_key = self.cursor_key
        self.sort_column, self.sort_reverse = column_key, reverse
        for column in self.spec:
            self.columns[ColumnKey(column.key)].label = self._label(column)
        self.apply_sort()
        self._restore_cursor(cursor_key)

    def apply_sort(self) -> None:
        if self.sort_column is not None and self.row_count:
            self.sort(self.sort_column, key=lambda cell: cell.sort_key, reverse=self.sort_reverse)
        else:
            self.refresh()

    def restyle_all(self) -> None:
        """Re-resolve every cell's role styles (after a theme change)."""
        for key, row in self._rows.items():
            transient = "gone" if key in self._fading else None
            for column, cell in zip(self.spec, row.cells, strict=True):
                self.update_cell(key, column.key, self._styled(cell, row.role, transient))

    def _widens(self, column: Column, cell: Cell) -> bool:
        """Whether `cell` is wider than its auto-width column (measuring a column costs a pass over it)."""
        if column.width is not None:
            return False
        return cell.cell_len > self.columns[ColumnKey(column.key)].content_width

    def _restyle_row(self, key: str, transient: str) -> None:
        row = self._rows[key]
        for column, cell in zip(self.spec, row.cells, strict=True):
            self.update_cell(key, column.key, self._styled(cell, row.role, transient))

    def _restore_cursor(self, key: str | None) -> None:
        if key is None or key not in self._rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)

    def _label(self, column: Column) -> Text:
        mark = " "
        if column.key == self.sort_column:
            mark = "▼" if self.sort_reverse else "▲"
        return Text(f"{column.label}{mark}", no_wrap=True, style="bold")

    def _role_style(self, role: str) -> Style:
        return self.get_component_rich_style(f"object-table--{role}", partial=True)

    def _styled(self, cell: Cell, row_role: Role, transient: str | None) -> Cell:
        styled = Cell(cell, sort=cell.sort_key, role=cell.role, justify=cell.justify or "left")  # type: ignore[arg-type]
        role = cell.role or row_role
        if role:
            styled.stylize_before(self._role_style(role))
        if transient:
            styled.stylize(self._role_style(transient))
        return styled
