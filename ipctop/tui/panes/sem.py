"""Pane 3: System V semaphore sets; a set with blocked waiters stands out in the alert colour."""

from __future__ import annotations

from ipctop.model import SemSet
from ipctop.tui.panes.base import Pane, row_key
from ipctop.tui.panes.cells import age_cell, key_cell, perms_cell, process_names, waiters_cell
from ipctop.tui.rows import Cell, Column, ListCell, Row, num
from ipctop.tui.state import MonitorState


def waiting_text(sem_set: SemSet) -> str:
    """`BLOCKED 2: #1 ×2 await increase` — how many wait on which semaphore, and for what."""
    if not sem_set.ncnt and not sem_set.zcnt:
        return "?"
    parts = []
    for index, (ncnt, zcnt) in enumerate(zip(sem_set.ncnt, sem_set.zcnt, strict=False)):
        if ncnt:
            parts.append(f"#{index} ×{ncnt} await increase")
        if zcnt:
            parts.append(f"#{index} ×{zcnt} await zero")
    if not parts:
        return "none"
    return f"BLOCKED {sem_set.blocked}: " + ", ".join(parts)


class SemPane(Pane):
    pane_id = "sem"
    title = "Semaphores"
    empty_text = "No semaphore sets."
    default_sort = "semid"
    namespaced = True
    columns = (
        Column("semid", "SemID"),  # ids reach 10 digits: auto width, which only ever grows
        Column("key", "Key", 10),
        Column("owner", "Owner", priority=3, shrink_to=8),
        Column("nsems", "N", 4, priority=2),
        Column("values", "Values", shrink_to=8),
        Column("waiting", "Waiting", shrink_to=14),
        Column("waiters", "Blocked", priority=1, shrink_to=16),
        Column("last", "Last op by", priority=1, shrink_to=12),
        Column("age", "Last op", 7, volatile=True, priority=4),
        Column("perms", "Perms", 9, priority=5),
    )

    def build_rows(self, state: MonitorState) -> list[Row]:
        assert state.snapshot is not None
        return [self._row(sem_set, state) for sem_set in state.snapshot.all_sem()]

    def _row(self, sem_set: SemSet, state: MonitorState) -> Row:
        snapshot = state.snapshot
        assert snapshot is not None
        values = " ".join(map(str, sem_set.values)) if sem_set.values else "?"
        pids = [pid for pid in dict.fromkeys(sem_set.pids) if pid]
        names = [process_names(snapshot, pid) for pid in pids]  # a stopped one may hold the others up
        last = [name for name, _short, _word in names]
        blocked = sem_set.blocked > 0
        cells = (
            num(sem_set.semid),
            key_cell(sem_set.key),
            Cell(sem_set.owner),
            num(sem_set.nsems),
            Cell(values, sort=sem_set.values),
            Cell(waiting_text(sem_set), sort=sem_set.blocked, role=None if blocked else "muted"),
            waiters_cell(snapshot, sem_set.waiters, show=""),  # on which semaphore: in Waiting
            ListCell(last, sort=" ".join(last).lower(), short=[short for _name, short, _word in names],
                     role="warn" if any(word for _name, _short, word in names) else None),
            age_cell(sem_set.otime, state.now),
            perms_cell(sem_set.perms),
        )
        return Row(row_key(snapshot, sem_set.semid, sem_set.ipc_ns), sem_set, cells, role="alert" if blocked else None)
