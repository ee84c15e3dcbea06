"""What every pane shares: a keyed table, its filter and its sort.

A pane subclass declares its columns and turns the monitor state into rows
(`build_rows`); filtering, sorting, header clicks and keeping the table in step
are here.  A pane of System V objects (`namespaced`) lists those of every IPC
namespace, and has a Namespace column after the id while the snapshot holds
another namespace than ipctop's own: a second table, shown instead of the first.
"""

from __future__ import annotations

import dataclasses
import gc
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ipctop.diff import Event
from ipctop.model import Snapshot
from ipctop.render.procinfo import brief_label, label
from ipctop.render.tables import shows_namespaces
from ipctop.tui.demo_marks import DemoMarks, mark_rows
from ipctop.tui.details import kind_of
from ipctop.tui.rows import Cell, Column, Row
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


NAMESPACE_COLUMN = Column("ns", "Namespace", shrink_to=10)


def row_key(snapshot: Snapshot, ident: int, ipc_ns: int) -> str:
    """A System V object's row key: its id, and the inode of its namespace when that is not ipctop's
    own (ids are unique only inside one namespace)."""
    elsewhere = snapshot.elsewhere(ipc_ns)
    return f"{ident}@{elsewhere}" if elsewhere else str(ident)


def namespace_columns(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """The columns with the Namespace column after the first (the id)."""
    return (columns[0], NAMESPACE_COLUMN, *columns[1:])


class Pane(Vertical):
    pane_id: ClassVar[str]
    title: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    default_sort: ClassVar[str]
    default_reverse: ClassVar[bool] = False
    empty_text: ClassVar[str] = "Nothing to show."
    sort_shapes_rows: ClassVar[bool] = False  # build_rows reads the sort column (the process tree)
    namespaced: ClassVar[bool] = False  # System V objects: a Namespace column where there are several namespaces

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.pane_id}", classes="pane")
        self.filter_text = ""
        self.stale = False  # a scan came while the pane was hidden
        self._state: MonitorState | None = None
        self._built: tuple[tuple[object, ...], tuple[object, ...], list[Row]] | None = None
        self._filtered: tuple[list[Row], str, list[Row]] | None = None
        self._empty_shown: tuple[bool, str] | None = None
        self.by_namespace = False  # the table with the Namespace column is the one shown
        self._with_namespace: dict[int, tuple[Row, Row]] = {}  # id(row) -> (row, it with its namespace cell)

    def compose(self) -> ComposeResult:
        yield ObjectTable(self.columns, id=f"table-{self.pane_id}")
        if self.namespaced:
            yield ObjectTable(namespace_columns(self.columns), id=f"table-{self.pane_id}-ns")
        yield Static(self.empty_text, classes="empty")

    def on_mount(self) -> None:
        for table in self.query(ObjectTable):
            table.set_sort(self.default_sort, self.default_reverse)
        if self.namespaced:
            self.query_one(f"#table-{self.pane_id}-ns", ObjectTable).display = False

    @property
    def table(self) -> ObjectTable:
        name = f"#table-{self.pane_id}-ns" if self.by_namespace else f"#table-{self.pane_id}"
        return self.query_one(name, ObjectTable)

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        return namespace_columns(self.columns) if self.by_namespace else self.columns

    def _choose_table(self, snapshot: Snapshot) -> None:
        """Show the table with the Namespace column while there are several namespaces, the other else."""
        wanted = self.namespaced and shows_namespaces(snapshot)
        if wanted == self.by_namespace:
            return
        before = self.table
        self.by_namespace = wanted
        after = self.table
        after.set_sort(before.sort_column or self.default_sort, before.sort_reverse)
        before.sync([], fade=False, highlight=False)
        before.display, after.display = False, True
        if before.has_focus:
            after.focus()

    def _namespace_rows(self, rows: list[Row]) -> list[Row]:
        """The rows with their object's namespace after the id; the same row objects as last scan
        for the same rows (the table skips those by identity)."""
        earlier, made = self._with_namespace, {}
        result = []
        for row in rows:
            hit = earlier.get(id(row))
            if hit is None or hit[0] is not row:
                name = getattr(row.obj, "container", "") or "host"
                cells = (row.cells[0], Cell(name), *row.cells[1:])
                hit = (row, dataclasses.replace(row, cells=cells))  # what a row is made of, its cells apart
            made[id(row)] = hit
            result.append(hit[1])
        self._with_namespace = made
        return result

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
        self._choose_table(state.snapshot)
        collecting = gc.isenabled()
        gc.disable()
        try:
            rows = self._rows(state)
            if self.by_namespace:
                rows = self._namespace_rows(rows)
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
        keys = [c.key for c in self.shown_columns]
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
