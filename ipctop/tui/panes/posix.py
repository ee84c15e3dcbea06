"""Pane 8: POSIX shared memory, named semaphores and message queues, and shared memory without a name.

One table for the four kinds of ipctop/kinds/ (a Kind column tells them apart),
with the columns that mean the same for all of them: name, size, state (a
semaphore's value, a queue's messages, the memory an object takes), status
(unlinked), every process that holds an fd on it or maps it, and when it changed.
Why a pane of its own rather than rows in the System V panes: their columns
(key, creator, last sender) say nothing of these objects, and their keys act on
System V ids.  The header sums the memory of all of them beside System V's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ipctop.kinds import KINDS
from ipctop.model import PosixQueue, PosixSem, PosixShm, Process, UnnamedShm
from ipctop.render.formatting import human_bytes
from ipctop.render.procinfo import brief_label, label
from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.cells import age_cell, bytes_cell, perms_cell
from ipctop.tui.rows import Cell, Column, ListCell, Row, num
from ipctop.tui.state import MonitorState

KIND_WORDS = {"pshm": "shm", "psem": "sem", "pmsg": "queue"}
# the named objects first, each kind's largest first: a browser's hundreds of memfds come after a
# program's own semaphores and queues, not before them
KIND_ORDER = {"shm": 0, "sem": 1, "queue": 2, "anon": 3, "memfd": 4}


def kind_word(kind: str, obj: Any) -> str:
    if isinstance(obj, UnnamedShm):
        return "memfd" if obj.source == "memfd" else "anon"
    return KIND_WORDS[kind]


def state_cell(obj: Any) -> Cell:
    """What the object holds now: a semaphore's value and waiters, a queue's messages, memory taken."""
    if isinstance(obj, PosixSem):
        if obj.value is None:
            return Cell("value ?", sort=-1, role="muted")
        count = len(obj.waiters) or obj.blocked or 0  # seen, else glibc's count
        waiting = f", {count} waiting" if count else ""
        return Cell(f"value {obj.value}{waiting}", sort=obj.value, role="alert" if count else None)
    if isinstance(obj, PosixQueue):
        if obj.messages is None:
            return Cell("? msgs", sort=-1, role="muted")
        fill = obj.fill or 0.0
        role = "alert" if fill >= 0.9 else "warn" if fill >= 0.7 else None
        waiting = f", {len(obj.waiters)} blocked" if obj.waiters else ""
        return Cell(f"{obj.messages} of {obj.max_messages} msgs{waiting}", sort=fill, role=role)
    if obj.allocated is None:
        return Cell("-", sort=-1, role="muted")
    return Cell(f"{human_bytes(obj.allocated)} in memory", sort=obj.allocated)


def status_text(obj: Any) -> str:
    if getattr(obj, "unlinked", False):
        return "unlinked"
    if isinstance(obj, PosixQueue) and not obj.listed:
        return "held"
    return ""


def holder_labels(obj: Any, processes: Mapping[int, Process], name: Callable[..., str] = label,
                  how: bool = True) -> list[str]:
    """Each holding process once, named as the other panes name it, with how it holds it:
    `postgres: checkpointer[2104] map`, `python[7] fd 3` (without `how`: `postgres[2104]`, for a narrow column)."""
    seen: dict[int, list[str]] = {}
    comms: dict[int, str] = {}
    for h in obj.holders:
        comms[h.pid] = h.comm
        seen.setdefault(h.pid, []).append("map" if h.fd is None else f"fd {h.fd}")
    if not how:
        return [name(pid, processes, comms[pid]) for pid in seen]
    return [f"{name(pid, processes, comms[pid])} {','.join(ways)}" for pid, ways in seen.items()]


class PosixPane(Pane):
    pane_id = "posix"
    title = "POSIX"
    empty_text = "No POSIX shared memory, semaphores or queues, and no memfd or shared anonymous memory."
    default_sort = "kind"
    columns = (
        Column("kind", "Kind", 5),
        Column("name", "Name", shrink_to=14),
        Column("size", "Size", 6, priority=2),
        Column("state", "State", shrink_to=10),
        Column("status", "Status", priority=3),
        Column("holders", "Procs", 5, priority=4),
        Column("held", "Held by", shrink_to=14),
        Column("changed", "Changed", 7, volatile=True, priority=5),
        Column("owner", "Owner", priority=3, shrink_to=8),
        Column("perms", "Perms", 9, priority=7),  # yields its room to a cut name, state or holders
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, tuple[tuple[object, ...], Row]] = {}

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        # a record the snapshot did not change is the same object as last scan: its row is reused
        previous, cache = self._cache, {}
        rows = []
        for kind in KINDS:
            for inode, obj in kind.objects(snapshot).items():
                key = f"{kind.name}:{inode}"
                # the processes it names are part of the row: a title (a PostgreSQL backend's) changes alone
                context = (obj, *(snapshot.known_processes.get(h.pid) for h in obj.holders))
                hit = previous.get(key)
                reuse = hit is not None and hit[0] == context and hit[0][0] is obj
                row = hit[1] if reuse else self._row(kind.name, kind.label(obj), obj, state)  # type: ignore[index]
                cache[key] = (context, row)
                rows.append(row)
        self._cache = cache
        return rows

    def _row(self, kind: str, title: str, obj: Any, state: MonitorState) -> Row:
        snapshot = state.snapshot
        assert snapshot is not None
        held = holder_labels(obj, snapshot.known_processes)
        short = holder_labels(obj, snapshot.known_processes, brief_label, how=False)
        size = obj.size if isinstance(obj, PosixShm | UnnamedShm) else None
        changed = getattr(obj, "mtime", 0.0)
        status = status_text(obj)
        cells = (
            Cell(kind_word(kind, obj), sort=(KIND_ORDER[kind_word(kind, obj)], -(size or 0), title.lower())),
            Cell(title),
            bytes_cell(size),
            state_cell(obj),
            Cell(status, role="warn" if status == "unlinked" else None),
            num(len(held), role="muted" if not held else None),
            ListCell(held, short=short) if held else Cell("-", sort=0, role="muted"),
            age_cell(changed, state.now),
            Cell(obj.owner),
            perms_cell(obj.perms) if getattr(obj, "perms", None) is not None else Cell("?", role="muted"),
        )
        return Row(f"{kind}:{obj.inode}", obj, cells, search=" ".join(held))
