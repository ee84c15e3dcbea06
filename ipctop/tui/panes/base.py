"""What every pane shares: a keyed table, its filter and its sort.

A pane subclass declares its columns and turns the monitor state into rows
(`build_rows`); filtering, sorting, header clicks and keeping the table in step
are here.
"""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ipctop.diff import Event
from ipctop.model import Snapshot
from ipctop.render.procinfo import brief_label, label
from ipctop.tui.demo_marks import DemoMarks, mark_rows
from ipctop.tui.details import kind_of
from ipctop.tui.rows import Column, Row
from ipctop.tui.state import MonitorState
from ipctop.tui.widgets.object_table import ObjectTable


def who(snapshot: Snapshot, pid: int) -> str:
    """A process as `name[pid]` (ipctop/render/procinfo.py), `[pid]` when it holds nothing we saw,
    `-` for none."""
    if not pid:
        return "-"
    return label(pid, snapshot.processes)


def brief(snapshot: Snapshot, pid: int) -> str:
    """`who`, named by comm (`postgres[7026]`): for a list in a narrow column."""
    return brief_label(pid, snapshot.processes) if pid else "-"


def shorten(items: list[str], limit: int = 40) -> str:
    """Join items with ', ' within about `limit` characters, ending with '+N' for the rest."""
    shown: list[str] = []
    for i, item in enumerate(items):
        if shown and len(", ".join([*shown, item])) > limit:
            return ", ".join(shown) + f" +{len(items) - i}"
        shown.append(item)
    return ", ".join(shown)


def matching(rows: list[Row], needle: str, now: float | None = None) -> list[Row]:
    """The rows whose text contains `needle`, with the rows they hang under (so a tree stays a tree)."""
    if now is not None and not any(row.parent for row in rows):
        return [row for row in rows if needle in row.search_text(now)]
    by_key = {row.key: row for row in rows}
    keep: set[str] = set()
    for row in rows:
        if needle in (row.text.lower() if now is None else row.search_text(now)):
            key: str | None = row.key
            while key is not None and key not in keep:
                keep.add(key)
                parent = by_key.get(key)
                key = parent.parent if parent else None
    return [row for row in rows if row.key in keep]


class Pane(Vertical):
    pane_id: ClassVar[str]
    title: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    default_sort: ClassVar[str]
    default_reverse: ClassVar[bool] = False
    empty_text: ClassVar[str] = "Nothing to show."
    sort_shapes_rows: ClassVar[bool] = False  # build_rows reads the sort column (the process tree)

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.pane_id}", classes="pane")
        self.filter_text = ""
        self.stale = False  # a scan came while the pane was hidden
        self._state: MonitorState | None = None
        self._built: tuple[tuple[object, ...], tuple[object, ...], list[Row]] | None = None
        self._filtered: tuple[list[Row], str, list[Row]] | None = None
        self._empty_shown: tuple[bool, str] | None = None

    def compose(self) -> ComposeResult:
        yield ObjectTable(self.columns, id=f"table-{self.pane_id}")
        yield Static(self.empty_text, classes="empty")

    def on_mount(self) -> None:
        self.table.set_sort(self.default_sort, self.default_reverse)

    @property
    def table(self) -> ObjectTable:
        return self.query_one(ObjectTable)

    @property
    def selected(self) -> Any:
        return self.table.selected

    def build_rows(self, state: MonitorState) -> list[Row]:
        raise NotImplementedError

    def show(self, state: MonitorState, *, fade: bool = True, highlight: bool = True) -> None:
        """Bring the table up to date with `state` (a new scan, or a new filter or sort)."""
        self._state = state
        self.stale = False
        if state.snapshot is None:
            return
        # Building a big table allocates many small objects that refcounting frees; a cyclic
        # collection in the middle would walk the whole heap for nothing (a second on 10,000 rows).
        collecting = gc.isenabled()
        gc.disable()
        try:
            rows = self._rows(state)
            needle = self.filter_text.lower()
            if needle:
                rows = self._matching(rows, needle, state.now)
            self.table.sync(rows, fade=fade, highlight=highlight and state.scans > 1, now=state.now)
        finally:
            if collecting:
                gc.enable()
        shown = (not rows, f"Nothing matches “{self.filter_text}”." if needle else self.empty_text)
        if shown != self._empty_shown:  # an update lays the widget out again: not at every scan
            self._empty_shown = shown
            empty = self.query_one(".empty", Static)
            empty.display = shown[0]
            empty.update(shown[1])

    def rows_inputs(self, state: MonitorState) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """What build_rows reads: objects (compared by identity) and values.  A new filter or sort
        shows the rows built for the same inputs again instead of building them again."""
        marks = self.demo_marks()
        sort = self.table.sort_column if self.sort_shapes_rows else None
        return (state.snapshot,), (state.scans, marks, sort)

    def _rows(self, state: MonitorState) -> list[Row]:
        objects, values = self.rows_inputs(state)
        built = self._built
        if built is not None and built[1] == values and all(a is b for a, b in zip(built[0], objects, strict=True)):
            return built[2]
        rows = mark_rows(self.build_rows(state), values[1])  # type: ignore[arg-type]
        self._built = (objects, values, rows)
        return rows

    def _matching(self, rows: list[Row], needle: str, now: float) -> list[Row]:
        """`matching`, remembered for the same rows and needle (a sort keeps the filter's rows)."""
        done = self._filtered
        if done is not None and done[0] is rows and done[1] == needle:
            return done[2]
        found = matching(rows, needle, now)
        self._filtered = (rows, needle, found)
        return found

    def detail_target(self) -> tuple[str, int, object | None] | None:
        """What Enter opens for the selected row: (kind, id, the object as last seen), or None."""
        selected = self.selected
        ref = kind_of(selected) if selected is not None else None
        if ref is None:
            return None
        return (*ref, None if isinstance(selected, Event) else selected)

    def demo_marks(self) -> DemoMarks | None:
        """What the monitor's demo made, to mark in this pane (None: no demo)."""
        session = getattr(self.app, "demo_session", None)
        return session.marks() if session is not None else None

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._reshow()

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        table = self.table
        if reverse is None:
            reverse = not table.sort_reverse if column_key == table.sort_column else False
        table.set_sort(column_key, reverse)
        self._reshow()

    def cycle_sort(self, step: int) -> None:
        keys = [c.key for c in self.columns]
        current = keys.index(self.table.sort_column) if self.table.sort_column in keys else 0
        self.sort_by(keys[(current + step) % len(keys)], self.table.sort_reverse)

    def invert_sort(self) -> None:
        self.sort_by(self.table.sort_column or self.default_sort, not self.table.sort_reverse)

    def on_object_table_header_selected(self, event: ObjectTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(event.column_key)

    def _reshow(self) -> None:
        if self._state is not None:
            self.show(self._state, fade=False, highlight=False)
