"""What a table shows, kept by key: the rows, their order, what to highlight, what fades out, column widths.

No drawing here (widgets/object_table.py draws the rows on screen from this).
Sorting and filtering are list operations on keys, so 10,000 rows sort in a few
milliseconds.  Each scan `sync()` takes the pane's rows: a row that is the very
object it was last scan is skipped without looking at its cells; new rows are
highlighted once ("new"), changed cells once ("changed"), and rows that vanished
stay one more scan, dimmed ("gone"), with their ages as when last seen.  A row
made for something that has just vanished (`Row.gone_since`: an exited process
kept in its place in the tree) is drawn the same way.

Rows may be tagged (Space: the actions then act on every tagged row) and pinned
(shown first whatever the sort: a demo's rows in lecture mode).
"""

from __future__ import annotations

from collections.abc import Sequence

from ipctop.tui.rows import Column, Row

WHOLE_ROW = "*"  # in `lit`: every cell of the row is highlighted (a new row)


def label_width(column: Column) -> int:
    return len(column.label) + 1  # and the sort mark


class TableModel:
    def __init__(self, columns: Sequence[Column]) -> None:
        self.spec = tuple(columns)
        self.rows: dict[str, Row] = {}  # in the order rows came: ties in a sort keep it
        self.order: list[str] = []  # the keys as shown
        self.fading: dict[str, float] = {}  # vanished rows shown dimmed, with when they were last seen
        self.lit: dict[str, set[str]] = {}  # column keys highlighted in a row (WHOLE_ROW: all); none: absent
        self.tagged: set[str] = set()  # rows tagged with Space; a row that goes loses its tag
        self.pinned: frozenset[str] = frozenset()  # rows shown first, whatever the sort
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.now = 0.0  # the time ages are drawn to: the latest scan's
        self.widths = [max(c.width, label_width(c)) if c.width else label_width(c) for c in self.spec]
        self._auto = [i for i, column in enumerate(self.spec) if column.width is None]
        # whether a row has ever had something in each column (fixed-width columns count as filled):
        # a narrow screen leaves out a column that has always been empty before any other
        self.filled = [column.width is not None for column in self.spec]
        self._positions: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.order)

    def position(self, key: str) -> int:
        """The index of the row with `key` as shown (KeyError if it is not)."""
        if self._positions is None:
            self._positions = {k: i for i, k in enumerate(self.order)}
        return self._positions[key]

    def sync(
        self,
        rows: Sequence[Row],
        *,
        fade: bool,
        highlight: bool,
        now: float | None = None,
        pinned: frozenset[str] | None = None,
    ) -> bool:
        """Take the pane's rows; `fade` keeps vanished rows one more scan; `pinned` (if given) are
        shown first.  True if the order changed."""
        last_seen = self.now
        if now is not None:
            self.now = now
        incoming = {row.key: row for row in rows}
        known, fading, lit_rows = self.rows, self.fading, self.lit
        repin = pinned is not None and pinned != self.pinned
        if pinned is not None:
            self.pinned = pinned
        gone = []
        for key in known:
            if key not in incoming:
                if fade and key not in fading:
                    fading[key] = last_seen
                    lit_rows.pop(key, None)
                else:
                    gone.append(key)
        for key in gone:
            del known[key]
            fading.pop(key, None)
            lit_rows.pop(key, None)
            self.tagged.discard(key)
        resort = False
        sort_index = self._column_index(self.sort_column)
        added: list[Row] = []
        changed: list[Row] = []
        for key, row in incoming.items():
            old = known.get(key)
            if old is row and key not in fading and not lit_rows.get(key):
                continue  # the same object as last scan, drawn plainly: nothing to do
            known[key] = row
            if row.gone_since is not None:  # made for what has just vanished: drawn as fading
                fading[key] = row.gone_since
                lit_rows.pop(key, None)
                if old is None:
                    added.append(row)
                elif sort_index is not None and row.cells[sort_index].sort_key != old.cells[sort_index].sort_key:
                    resort = True
                continue
            if old is None:
                added.append(row)
                if highlight:
                    lit_rows[key] = {WHOLE_ROW}
                continue
            fading.pop(key, None)
            lit = set()
            if old is not row:
                changed.append(row)
                for column, cell, before in zip(self.spec, row.cells, old.cells, strict=True):
                    if highlight and not column.volatile and cell is not before and not cell.same_as(before):
                        lit.add(column.key)
                if sort_index is not None and row.cells[sort_index].sort_key != old.cells[sort_index].sort_key:
                    resort = True
            if lit:
                lit_rows[key] = lit
            else:
                lit_rows.pop(key, None)
        self._grow(added)
        self._grow(changed)
        if added or resort or repin:
            self.sort()
        elif gone:
            self.order = [key for key in self.order if key in known]
            self._positions = None
        else:
            return False
        return True

    def set_sort(self, column_key: str | None, reverse: bool) -> None:
        self.sort_column, self.sort_reverse = column_key, reverse
        self.sort()

    def sort(self) -> None:
        rows = self.rows
        index = self._column_index(self.sort_column)
        if index is None:
            self.order = list(rows)
        else:
            self.order = sorted(rows, key=lambda key: rows[key].cells[index].sort_key, reverse=self.sort_reverse)
        if self.pinned:
            pinned = self.pinned
            self.order = [key for key in self.order if key in pinned] + [key for key in self.order if key not in pinned]
        self._positions = None

    def _column_index(self, column_key: str | None) -> int | None:
        for i, column in enumerate(self.spec):
            if column.key == column_key:
                return i
        return None

    def _grow(self, rows: list[Row]) -> None:
        """Widen the auto-width columns to fit `rows` (they only ever grow, as the table is read)."""
        widths = self.widths
        for i in self._auto:
            widest = max((row.widths[i] for row in rows), default=0)
            if widest > widths[i]:
                widths[i] = widest
            if widest:
                self.filled[i] = True
