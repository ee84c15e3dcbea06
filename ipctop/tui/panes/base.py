"""What every pane shares: a keyed table, its filter and its sort.

A pane subclass declares its columns and turns the monitor state into rows
(`build_rows`); filtering, searching, sorting, header clicks, a row followed and
keeping the table in step are here.  A pane of System V objects (`namespaced`) lists
those of every IPC namespace, and has a Namespace column after the id while the
snapshot holds another namespace than ipctop's own: a second table, shown instead
of the first.

While a demo runs, the pane follows its objects: when the demo makes one that the
pane lists, the cursor goes to it and stays on it (as `F` would), until the user
moves the cursor or follows a row of their own.  In lecture mode the demo's rows
are pinned first (a process with the whole tree it stands in).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ipctop.diff import Event
from ipctop.model import Process, Snapshot
from ipctop.render.procinfo import brief_label, label, name_of
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
    return label(pid, snapshot.known_processes)


def brief(snapshot: Snapshot, pid: int) -> str:
    """`who`, named by comm (`postgres[7026]`): for a list in a narrow column."""
    return brief_label(pid, snapshot.known_processes) if pid else "-"


def changed_pids(before: Mapping[int, Process], after: Mapping[int, Process]) -> set[int]:
    """The processes that are not the same object in both scans (new, gone, or changed: a title)."""
    if after is before:
        return set()
    changed = {pid for pid, process in after.items() if before.get(pid) is not process}
    changed.update(pid for pid in before if pid not in after)
    return changed


def shorten(items: list[str], limit: int = 40) -> str:
    """Join items with ', ' within about `limit` characters, ending with '+N' for the rest."""
    shown: list[str] = []
    for i, item in enumerate(items):
        if shown and len(", ".join([*shown, item])) > limit:
            return ", ".join(shown) + f" +{len(items) - i}"
        shown.append(item)
    return ", ".join(shown)


def follow_label(row: Row | None, key: str, *, brief: bool = False) -> str:
    """How a followed row is named in a sentence: its object (`segment 7`, `python worker.py[42]`; `brief`:
    a process by its comm, `python[42]`), else its key."""
    obj = row.obj if row is not None else None
    ref = kind_of(obj) if obj is not None else None
    if ref is None:
        return f"row {key}"
    kind, ident = ref
    if isinstance(obj, Process):
        return f"{obj.comm if brief else name_of(obj)}[{ident}]"
    return f"{KIND_WORDS.get(kind, kind)} {ident}"


KIND_WORDS = {"shm": "segment", "msg": "queue", "sem": "semaphore set", "pipe": "pipe", "fifo": "FIFO"}


def demo_row_keys(rows: list[Row], marks: DemoMarks) -> frozenset[str]:
    """The keys of the rows of the demo's objects, and in a tree every row of the trees they stand in
    (so that pinned first, the tree stays whole)."""
    keys = {row.key for row in rows if row.obj is not None and marks.label(row.obj) is not None}
    if not keys or not any(row.parent for row in rows):
        return frozenset(keys)
    parents = {row.key: row.parent for row in rows}

    def root(key: str) -> str:
        while parents.get(key):
            key = parents[key]  # type: ignore[assignment]
        return key

    roots = {root(key) for key in keys}
    return frozenset(row.key for row in rows if root(row.key) in roots)


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
    short_title: ClassVar[str] = ""  # the tab's label where the full titles do not all fit ("" for the title)
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
        self.search_text = ""  # F3: the text n and N look for (each pane keeps its own)
        self.followed_by_user = False  # the row followed was chosen with F (not a demo's)
        self._demo_keys: frozenset[str] = frozenset()  # rows of the demo's objects, in the latest rows
        self._demo_run = 0  # the demo run whose objects the pane follows
        self._demo_seen: set[str] = set()
        self._moves_at_demo = 0  # the table's user_moves when that run began

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
        after.follow_key, after.user_moves = before.follow_key, before.user_moves  # the row followed goes along
        after.model.tagged = set(before.model.tagged)  # and the tags: the rows keep their keys
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
            every = self._rows(state)
            if self.by_namespace:
                every = self._namespace_rows(every)
            rows = every
            needle = self.filter_text.lower()
            if needle:
                rows = self._matching(rows, needle, state.now)
            marks = self.demo_marks()
            pinned = self._demo_keys if marks is not None and marks.lecture else frozenset()
            self.table.sync(rows, fade=fade, highlight=highlight and state.scans > 1, now=state.now, pinned=pinned)
            self._check_followed(every)
            if marks is not None:
                self._follow_demo(marks.run)
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
        marks: DemoMarks | None = values[1]  # type: ignore[assignment]
        rows = mark_rows(self.build_rows(state), marks)
        self._demo_keys = demo_row_keys(rows, marks) if marks is not None else frozenset()
        self._built = (objects, values, rows)
        return rows

    # --- following a row ----------------------------------------------------------------------

    def follow_selected(self) -> str | None:
        """F: follow the row under the cursor, or stop following; the row's key, or None when stopped."""
        table = self.table
        if table.follow_key is not None and self.followed_by_user:
            table.follow(None)
            self.followed_by_user = False
            return None
        key = table.cursor_key
        if key is None:
            return None
        table.follow(key)
        self.followed_by_user = True
        return key

    @property
    def followed(self) -> str | None:
        """The key of the row the user follows (F), if any."""
        key = self.table.follow_key
        return key if key is not None and self.followed_by_user else None

    def _check_followed(self, rows: list[Row]) -> None:
        """A row followed whose object is gone (not merely filtered out) is no longer followed."""
        key = self.table.follow_key
        if key is None:
            self.followed_by_user = False
            return
        if any(row.key == key and row.gone_since is None for row in rows):
            return
        self.table.follow(None)
        if self.followed_by_user:
            self.followed_by_user = False
            self.notify(f"{follow_label(self.table.row_for(key), key)} is gone: no longer followed.", timeout=4)

    def _follow_demo(self, run: int) -> None:
        """While a demo runs, the cursor goes to each object it makes (unless the user took the cursor)."""
        table = self.table
        if run != self._demo_run:
            self._demo_run, self._demo_seen, self._moves_at_demo = run, set(), table.user_moves
        new = self._demo_keys - self._demo_seen
        if not new:
            return
        self._demo_seen |= new
        if table.user_moves != self._moves_at_demo or self.followed_by_user:
            return
        shown = [key for key in table.ordered_keys if key in new]
        if shown:
            table.follow(shown[0])

    # --- searching ------------------------------------------------------------------------------

    def search(self, text: str, step: int = 1, *, here: bool = False) -> bool:
        """Move the cursor to the next row (`step` 1) or the previous (-1) containing `text`; `here`:
        the cursor's own row counts (typing the text).  False if no row contains it."""
        self.search_text = text
        if not text:
            return True
        index = self.table.find(text.lower(), step, here=here)
        if index is None:
            return False
        self.table.go_to(index)
        return True

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

    def set_hidden(self, columns: frozenset[str]) -> None:
        """Leave these columns out of the tables (the settings screen); the first always stays."""
        for table in self.query(ObjectTable):
            table.set_hidden(columns)

    def set_filter(self, text: str) -> None:
        if text == self.filter_text:
            return  # the filter line opened with the pane's filter, or set to it again: the rows are shown
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
