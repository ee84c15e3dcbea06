"""A DataTable kept in step with a pane's rows by key, never cleared and refilled.

Each scan, `sync()` adds the rows that appeared (highlighted once), updates only
the cells that changed (highlighted once), dims the rows that vanished for one
scan before removing them, re-sorts, and puts the cursor back on the same key.

Built for tens of thousands of rows: a row that is the very object it was last
scan is skipped without looking at its cells; ages (`AgeCell`) are drawn as of
the table's `now` when a row is rendered, so only the rows on screen pay for the
clock moving; and many rows added or removed at once (a filter typed or cleared,
the first scan) go in one pass instead of one DataTable call each.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey
from textual.widgets.data_table import Row as TableRow

from ipctop.tui.rows import AgeCell, Cell, Column, Role, Row

ROLE_CLASSES = ("alert", "warn", "good", "muted", "strong", "demo")
TRANSIENT_CLASSES = ("new", "changed", "gone")
WHOLE_ROW = "*"
BULK = 64  # from this many rows added or removed at once, one pass over the table instead of a call each
FULL_COLLECTION_EVERY = 300  # syncs between two collections that also walk the frozen objects
_syncs = itertools.count(1)


def settle_heap() -> None:
    """Move what is alive now out of the cyclic collector's sight (gc.freeze), after a table is synced.

    A 10,000-row table is some 500,000 objects; each full collection walked them all (0.3-0.5 s
    here, every few scans) to find no garbage: rows and cells form no cycles and are freed by
    reference counting, frozen or not.  What could leak while frozen is cyclic garbage among other
    frozen objects (widgets removed since), so once in a while everything is unfrozen and collected.
    """
    if next(_syncs) % FULL_COLLECTION_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()



class LiveAge:
    """What the DataTable holds for an `AgeCell`: drawn as of the table's `now` each time it is rendered."""

    __slots__ = ("cell", "row_role", "table", "transient")

    def __init__(self, table: ObjectTable, cell: AgeCell, row_role: Role, transient: str | None) -> None:
        self.table, self.cell, self.row_role, self.transient = table, cell, row_role, transient

    @property
    def sort_key(self) -> Any:
        return self.cell.sort_key

    def __rich__(self) -> Cell:
        return self.table._style_cell(self.cell.at(self.table.now), self.row_role, self.transient)


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
        self.now = 0.0  # the time ages are drawn to: the latest scan's
        self._rows: dict[str, Row] = {}
        self._fading: dict[str, float] = {}  # vanished rows shown dimmed, with when they were last seen
        self._lit: dict[str, set[str]] = {}
        self._role_styles: dict[str, Style] = {}

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

    def sync(self, rows: Sequence[Row], *, fade: bool, highlight: bool, now: float | None = None) -> None:
        """Make the table show `rows`; `fade` keeps vanished rows dimmed one more scan; ages are drawn to `now`."""
        cursor_key = self.cursor_key
        last_seen = self.now
        if now is not None and now != self.now:
            self.now = now
            self._redraw()
        incoming = {row.key: row for row in rows}
        resort = False
        known, fading, lit_rows = self._rows, self._fading, self._lit
        gone = []
        for key in [k for k in known if k not in incoming]:
            if fade and key not in fading:
                fading[key] = last_seen
                self._restyle_row(key, "gone", last_seen)
            else:
                gone.append(key)
        self._remove_rows(gone)
        added: list[Row] = []
        for key, row in incoming.items():
            old = known.get(key)
            if old is row and key not in fading and not lit_rows.get(key):
                continue  # the same object as last scan, drawn plainly: nothing to do
            known[key] = row
            if old is None:
                added.append(row)
                continue
            redraw_all = key in fading or WHOLE_ROW in lit_rows.get(key, ()) or row.role != old.role
            fading.pop(key, None)
            was_lit = lit_rows.get(key, ())
            lit = set()
            for column, cell, before in zip(self.spec, row.cells, old.cells, strict=True):
                differs = cell is not before and not cell.same_as(before)
                mark = highlight and differs and not column.volatile
                if differs or redraw_all or column.key in was_lit:
                    styled = self._styled(cell, row.role, "changed" if mark else None)
                    self.update_cell(key, column.key, styled, update_width=self._widens(column, cell))
                if mark:
                    lit.add(column.key)
                if column.key == self.sort_column and cell.sort_key != before.sort_key:
                    resort = True
            lit_rows[key] = lit
        if added:
            self._add_rows(added, highlight)
            resort = True
        if resort:
            self.apply_sort()
        self._restore_cursor(cursor_key)
        settle_heap()

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
        self._role_styles.clear()
        for key, row in self._rows.items():
            if key in self._fading:
                self._restyle_row(key, "gone", self._fading[key])
                continue
            for column, cell in zip(self.spec, row.cells, strict=True):
                self.update_cell(key, column.key, self._styled(cell, row.role, None))

    def _add_rows(self, rows: list[Row], highlight: bool) -> None:
        transient = "new" if highlight else None
        lit_rows = self._lit
        if len(rows) < BULK:
            for row in rows:
                self.add_row(*self._table_cells(row, transient), key=row.key)
                lit_rows[row.key] = {WHOLE_ROW} if highlight else set()
            return
        # What add_row does for each row, once for all: add_row also measures every cell of a new
        # row when the app is next idle, a rich measurement each; only auto-width columns need it,
        # and a one-line cell's width is its cell_len.
        data, table_rows, locations = self._data, self.rows, self._row_locations
        index = len(table_rows)
        column_keys = [ColumnKey(column.key) for column in self.spec]
        auto = [(i, self.columns[ColumnKey(c.key)]) for i, c in enumerate(self.spec) if c.width is None]
        widths = {i: column.content_width for i, column in auto}
        max_width = self.app.console.options.max_width
        for row in rows:
            key = RowKey(row.key)
            cells = self._table_cells(row, transient)
            data[key] = dict(zip(column_keys, cells, strict=True))
            table_rows[key] = TableRow(key, 1)
            locations[key] = index
            index += 1
            for i, _column in auto:
                width = self._width(cells[i], max_width)
                if width > widths[i]:
                    widths[i] = width
            lit_rows[row.key] = {WHOLE_ROW} if highlight else set()
        for i, column in auto:
            column.content_width = widths[i]
        self._changed_shape()

    def _remove_rows(self, keys: list[str]) -> None:
        for key in keys:
            del self._rows[key]
            self._fading.pop(key, None)
            self._lit.pop(key, None)
        if len(keys) < BULK:
            for key in keys:
                self.remove_row(key)
            return
        # remove_row renumbers every row below the removed one: a filter that hides 10,000 rows
        # would renumber 10,000 rows 10,000 times.
        gone = {RowKey(key) for key in keys}
        for key in gone:
            del self.rows[key]
            del self._data[key]
        order = sorted(self._row_locations._forward.items(), key=lambda item: item[1])
        self._row_locations = TwoWayDict({key: i for i, (key, _) in enumerate(k for k in order if k[0] not in gone)})
        self._updated_cells = {cell for cell in self._updated_cells if cell.row_key not in gone}
        self._new_rows -= gone
        self._changed_shape()

    def _changed_shape(self) -> None:
        """What DataTable does after adding or removing rows: new size, cursor kept in range, redraw."""
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self.check_idle()
        self.refresh(layout=True)

    def _redraw(self) -> None:
        """Draw the ages on screen again (the clock moved), without renumbering, re-measuring or
        re-rendering any other cell."""
        volatile = {column.key for column in self.spec if column.volatile}
        cells = self._cell_render_cache
        for cache_key in [k for k in cells.keys() if k[1] in volatile]:  # noqa: SIM118 (LRUCache: no __iter__)
            cells.discard(cache_key)
        self._row_render_cache.clear()
        self._line_cache.clear()
        self.refresh()

    def _width(self, value: Any, max_width: int) -> int:
        """What DataTable's measure() gives for a cell, without its cost for the common one-line text."""
        if isinstance(value, LiveAge):
            value = value.cell.at(self.now)
        if isinstance(value, Text) and "\n" not in value.plain:
            return min(value.cell_len, max_width)
        return measure(self.app.console, value, 1)

    def _table_cells(self, row: Row, transient: str | None) -> list[Any]:
        return [self._styled(cell, row.role, transient) for cell in row.cells]

    def _widens(self, column: Column, cell: Cell) -> bool:
        """Whether `cell` is wider than its auto-width column (measuring a column costs a pass over it)."""
        if column.width is not None:
            return False
        if isinstance(cell, AgeCell):
            cell = cell.at(self.now)
        return cell.cell_len > self.columns[ColumnKey(column.key)].content_width

    def _restyle_row(self, key: str, transient: str, last_seen: float) -> None:
        """Restyle a row whose object vanished: its ages stay as they were when it was last seen."""
        row = self._rows[key]
        for column, cell in zip(self.spec, row.cells, strict=True):
            if isinstance(cell, AgeCell):
                cell = cell.at(last_seen)
            self.update_cell(key, column.key, self._style_cell(cell, row.role, transient))

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
        style = self._role_styles.get(role)
        if style is None:
            style = self._role_styles[role] = self.get_component_rich_style(f"object-table--{role}", partial=True)
        return style

    def _styled(self, cell: Cell, row_role: Role, transient: str | None) -> Any:
        """The cell as the table shows it: a copy with its role's style, or the cell itself when it has none."""
        if isinstance(cell, AgeCell):
            return LiveAge(self, cell, row_role, transient)
        return self._style_cell(cell, row_role, transient)

    def _style_cell(self, cell: Cell, row_role: Role, transient: str | None) -> Cell:
        role = cell.role or row_role
        if not role and not transient:
            return cell  # cells are never changed once made, so the table may hold the pane's own
        styled = Cell(cell, sort=cell.sort_key, role=cell.role, justify=cell.justify or "left")  # type: ignore[arg-type]
        if role:
            styled.stylize_before(self._role_style(role))
        if transient:
            styled.stylize(self._role_style(transient))
        return styled
