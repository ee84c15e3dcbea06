"""Pane 7: System V objects that look leaked (ipctop.cleanup's rules), each with the reason.

A pane of its own rather than a filter on panes 1–3: a candidate is judged from
the whole snapshot and its reason is a sentence, which needs a wide column the
object panes have no room for; and `X` (remove all) then has one obvious scope,
the rows on screen, as `ipctop clean` has.  Removable candidates come first;
the ones only reported (marked for removal but kept alive, a live creator, an
object ipctop cannot judge) are shown muted and are never removed.

find_leaks runs in a worker thread, and only while this pane is shown (a
hidden pane is only marked stale by the main screen); until its answer comes
the pane keeps showing the previous one.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ipctop.cleanup import Evidence, LeakCandidate, LeakFilters, RemovalResult, find_leaks, gather
from ipctop.model import Snapshot
from ipctop.render.escape import printable
from ipctop.tui.details import lookup
from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.cells import age_cell, key_cell
from ipctop.tui.rows import Cell, Column, Row, num
from ipctop.tui.state import MonitorState
from ipctop.tui.widgets.object_table import ObjectTable

KIND_ORDER = {"shm": 0, "msg": 1, "sem": 2, "pshm": 3, "psem": 4, "pmsg": 5}


def judge(snapshot: Snapshot, filters: LeakFilters | None,
          evidence: Callable[[Snapshot], Evidence] = gather) -> tuple[Snapshot, list[LeakCandidate]]:
    """The leak candidates of `snapshot` (off the UI thread: it reads /proc for who waits and who could
    have made each queue and set)."""
    return snapshot, find_leaks(snapshot, filters, evidence=evidence(snapshot))


def outcome_text(results: list[RemovalResult]) -> str:
    removed = sum(result.removed for result in results)
    lines = [f"Removed {removed} of {len(results)}:"] + [f"  {printable(result.message)}" for result in results]
    return "\n".join(lines)


class LeaksPane(Pane):
    pane_id = "leaks"
    title = "Leaks"
    empty_text = ("No leaked objects: every segment, queue and semaphore set is in use, has a live user or a "
                  "creator that may be alive, or was used within the grace period (10 minutes).")
    default_sort = "removable"
    namespaced = True
    columns = (
        Column("kind", "Kind", 5),
        Column("id", "ID"),
        Column("key", "Key", 10),
        Column("owner", "Owner", priority=3, shrink_to=8),
        Column("holds", "Holds", priority=2, shrink_to=10),
        Column("idle", "Idle", 6, volatile=True, priority=4),
        Column("removable", "Removable", priority=1),
        Column("reason", "Reason", shrink_to=20),
    )

    def __init__(self) -> None:
        super().__init__()
        self.candidates: list[LeakCandidate] = []
        self._judged: Snapshot | None = None  # the snapshot `candidates` come from
        self._judging: Snapshot | None = None
        self._asked = (True, True)  # fade and highlight, as asked by the show() that started the judging

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(id="leak-reason", classes="leak-note")
        yield Static(id="leak-outcome", classes="leak-note")

    DEFAULT_CSS = """
    LeaksPane .leak-note { height: auto; max-height: 8; padding: 0 1; display: none; }
    LeaksPane #leak-reason { color: $text-muted; border-top: solid $panel; }
    LeaksPane #leak-outcome { color: $text-success; }
    LeaksPane #leak-outcome.-trouble { color: $text-warning; }
    """

    @property
    def listed_removable(self) -> list[LeakCandidate]:
        """The removable candidates on screen (the pane's filter applies), in the order shown."""
        table = self.table
        listed = []
        for key in table.ordered_keys:
            row = table.row_for(key)
            if row is not None and not table.is_fading(key) and row.obj.removable:
                listed.append(row.obj)
        return listed

    @property
    def filters(self) -> LeakFilters | None:
        return getattr(self.app, "leak_filters", None)

    def show(self, state: MonitorState, *, fade: bool = True, highlight: bool = True) -> None:
        snapshot = state.snapshot
        if snapshot is not None and snapshot is not self._judged and snapshot is not self._judging:
            self._judging = snapshot
            self._asked = (fade, highlight)
            evidence = getattr(self.app, "leak_evidence", gather)
            self.run_worker(lambda: judge(snapshot, self.filters, evidence), thread=True, exclusive=True,
                            group="leaks")
        super().show(state, fade=fade, highlight=highlight)
        if self._judged is None:
            self.query_one(".empty", Static).update("Looking for leaked objects…")
            self._empty_shown = None  # so that the answer replaces this text, even an empty one
        self._show_reason()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "leaks" or event.state != WorkerState.SUCCESS:
            return
        snapshot, candidates = event.worker.result
        if self._judging is snapshot:
            self._judging = None
        first = self._judged is None
        self._judged, self.candidates = snapshot, candidates
        if self._state is not None:
            # As the show() that asked for it would have; the first answer is no news, so not highlighted.
            fade, highlight = self._asked
            super().show(self._state, fade=fade and not first, highlight=highlight and not first)
            self._show_reason()
            self.screen.refresh_bindings()  # x needs a selected row: there may be one now, or none

    def detail_target(self) -> tuple[str, int, object | None] | None:
        """A candidate opens the detail of its object (as in the latest snapshot, if it is still there)."""
        selected = self.selected
        if not isinstance(selected, LeakCandidate):
            return None
        snapshot = self._state.snapshot if self._state is not None else None
        found = lookup(snapshot, selected.kind, selected.id, selected.ipc_ns) if snapshot else None
        return selected.kind, selected.id, found

    def rows_inputs(self, state: MonitorState) -> tuple[tuple[object, ...], tuple[object, ...]]:
        objects, values = super().rows_inputs(state)
        return (*objects, self.candidates), values

    def build_rows(self, state: MonitorState) -> list[Row]:
        return [self._row(candidate, state.now) for candidate in self.candidates]

    def _row(self, candidate: LeakCandidate, now: float) -> Row:
        removable = candidate.removable
        cells = (
            Cell(candidate.kind, sort=KIND_ORDER[candidate.kind]),
            num(candidate.id),
            Cell(candidate.name, role="muted") if candidate.name else key_cell(candidate.key),  # POSIX: its name
            Cell(candidate.owner),
            Cell(candidate.detail),
            age_cell(candidate.last_touched, now),
            Cell(
                "yes" if removable else "no, reported",
                sort=(not removable, KIND_ORDER[candidate.kind], candidate.id),
                role="warn" if removable else None,
            ),
            Cell(candidate.reason),
        )
        where = f"@{candidate.ipc_ns}" if candidate.ipc_ns else ""  # an id is unique only in its namespace
        return Row(f"{candidate.kind}:{candidate.id}{where}", candidate, cells, role=None if removable else "muted")

    # --- the notes under the table ----------------------------------------------------------

    def on_object_table_row_highlighted(self, _event: ObjectTable.RowHighlighted) -> None:
        self._show_reason()  # not stopped: the main screen refreshes its keys on it too

    def _show_reason(self) -> None:
        note = self.query_one("#leak-reason", Static)
        selected = self.selected
        if not isinstance(selected, LeakCandidate):
            note.display = False
            return
        verdict = "removable (x removes it, X all)" if selected.removable else "reported only, never removed"
        note.update(Text(printable(f"{selected.label}, {verdict}: {selected.reason}")))  # not markup
        note.display = True

    def show_outcome(self, results: list[RemovalResult]) -> None:
        """What a removal did, object by object, under the table (until the next removal)."""
        note = self.query_one("#leak-outcome", Static)
        note.update(Text(outcome_text(results)))
        note.set_class(not all(result.removed for result in results), "-trouble")
        note.display = True
