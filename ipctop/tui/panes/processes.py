"""Pane 5: every process that holds an IPC object, as a tree by parent, with what it holds
and, in its State, what it is blocked on ("S msgrcv on queue 4, type 99").

Sorted by the Process column it is a tree (siblings that inherited a pipe from
their parent stand together); sorted by any other column it is a flat list.
"""

from __future__ import annotations

from ipctop.kinds import BY_NAME
from ipctop.model import HeldObject, Process, Snapshot, UnnamedShm
from ipctop.proctree import process_tree
from ipctop.render.fit import ELLIPSIS
from ipctop.render.procinfo import IPC_WAIT_WORDS, name_of, wait_word
from ipctop.render.waits import waits_cell_text
from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.cells import age_cell
from ipctop.tui.rows import Cell, Column, ListCell, Row, cut, num
from ipctop.tui.state import MonitorState


class TreeCell(Cell):
    """A process's name under its tree lines; in a narrow column the lines on the left go first."""

    __slots__ = ("name", "prefix")

    def __init__(self, prefix: str, name: str, sort: object) -> None:
        super().__init__(prefix + name, sort=sort)
        self.prefix, self.name = prefix, name

    def fitted(self, width: int) -> str:
        if len(self.plain) <= width:
            return self.plain
        keep = width - len(self.name)  # of the prefix, from its right end (`└─ `)
        if keep >= 4:
            return ELLIPSIS + self.prefix[len(self.prefix) - keep + 1 :] + self.name
        if width > 3 and self.prefix:
            return self.prefix[-3:] + cut(self.name, width - 3)
        return cut(self.name, width)


def holdings(process: Process, snapshot: Snapshot | None = None) -> list[str]:
    """What a process holds, briefly: `shm 3`, `pipe 50001 w`, `fifo /tmp/x r`, `msg 1`, `sem 2`, and
    POSIX and unnamed objects by name: `pshm /jobs`, `psem /lock`, `pmsg /q`, `memfd:x`, `anon 1212`."""
    held = [f"shm {shmid}" for shmid in process.shm]
    for end in process.pipes:
        held.append(f"{end.kind} {end.inode} {end.mode}")
    held += [f"msg {msqid}" for msqid in process.msg]
    held += [f"sem {semid}" for semid in process.sem]
    held += list(dict.fromkeys(posix_holding(item, snapshot) for item in process.posix))
    return held


def posix_holding(item: HeldObject, snapshot: Snapshot | None) -> str:
    obj = getattr(snapshot, BY_NAME[item.kind].field).get(item.inode) if snapshot is not None else None
    if isinstance(obj, UnnamedShm):
        return f"memfd:{obj.name}" if obj.source == "memfd" else f"anon {obj.inode}"
    return f"{item.kind} {obj.name}" if obj is not None else f"{item.kind} {item.inode}"


class ProcessesPane(Pane):
    pane_id = "processes"
    title = "Processes"
    empty_text = "No process holds an IPC object that ipctop can see."
    default_sort = "process"
    sort_shapes_rows = True  # a tree by the Process column, a flat list by any other
    columns = (
        Column("process", "Process", shrink_to=14),
        Column("pid", "PID", 7),
        Column("user", "User", priority=3, shrink_to=8),
        Column("state", "State", priority=1, shrink_to=28),  # what it is blocked on, briefly; the detail has all
        Column("holds", "Holds", shrink_to=16),
        Column("age", "Age", 6, volatile=True, priority=4),  # since the process started
        Column("command", "Command", priority=5, shrink_to=12),
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[object, ...], Row] = {}

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        # A process the snapshot did not change is the same object as last scan: its row is reused
        # when it stands at the same place in the tree (ages are drawn by the table, see AgeCell).
        previous, self._cache = self._cache, {}
        tree = self.table.sort_column == "process"
        if not tree:
            return [self._cached_row(p, state, "", p.pid, None, previous) for p in snapshot.processes.values()]
        rows = []
        parents: list[str] = []  # the key of the latest row at each depth
        for order, line in enumerate(process_tree(snapshot.processes)):
            del parents[line.depth :]
            parent = parents[-1] if parents else None
            if line.is_group:
                row = self._group_row(line.pid, order)
            else:
                row = self._cached_row(snapshot.processes[line.pid], state, line.prefix, order, parent, previous)
            parents.append(row.key)
            rows.append(row)
        return rows

    def _cached_row(
        self, process: Process, state: MonitorState, prefix: str, order: int, parent: str | None,
        previous: dict[tuple[object, ...], Row],
    ) -> Row:
        key = (process.pid, prefix, order, parent)
        row = previous.get(key)
        if row is None or row.obj is not process:
            row = self._row(process, state, prefix, order, parent)
        self._cache[key] = row
        return row

    def _row(self, process: Process, state: MonitorState, prefix: str, order: int, parent: str | None = None) -> Row:
        held = holdings(process, state.snapshot)
        waiting = waits_cell_text(process.waits, state.snapshot.fifos if state.snapshot else None)
        # no IPC wait: where it sleeps, as a short word for information (`S poll`, `S pause`); an IPC
        # word from wchan alone would be a guess, and what it is blocked on comes from its waits
        sleeps = "" if waiting else wait_word(process.wchan)
        sleeps = "" if sleeps in IPC_WAIT_WORDS else sleeps
        cells = (
            TreeCell(prefix, name_of(process), sort=order),
            num(process.pid),
            Cell(process.user),
            Cell(f"{process.state} {waiting or sleeps}".strip(), role="warn" if waiting else None),
            ListCell(held),
            age_cell(process.start_time, state.now),
            Cell(process.cmdline, role="muted"),
        )
        search = f"{' '.join(held)} {process.comm} {waiting or sleeps} {process.wchan}"
        return Row(f"p{process.pid}", process, cells, search=search, parent=parent)

    def _group_row(self, ppid: int, order: int) -> Row:
        muted = Cell("", sort="", role="muted")
        cells = (
            Cell("(parent)", sort=order, role="muted"),
            num(ppid, role="muted"),
            muted,
            muted,
            muted,
            Cell("", sort=-1),
            muted,
        )
        return Row(f"g{ppid}", None, cells)
