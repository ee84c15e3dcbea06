"""Pane 1: System V shared memory segments, with who has them attached."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ipctop.model import ShmSegment, Snapshot
from ipctop.render.procinfo import brief_label, label
from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.cells import age_cell, bytes_cell, key_cell, perms_cell, process_cell
from ipctop.tui.rows import Cell, Column, ListCell, Row, num
from ipctop.tui.state import MonitorState


def attacher_labels(segment: ShmSegment, snapshot: Snapshot, name: Callable[..., str] = label) -> list[str]:
    """Who has the segment attached, once per process (`×2` for a process that attached it twice,
    as nattch counts), then how many attachments are in processes ipctop could not inspect."""
    times = Counter(a.pid for a in segment.attachers)
    comms = {a.pid: a.comm for a in segment.attachers}
    labels = [name(pid, snapshot.processes, comms[pid]) + (f"×{n}" if n > 1 else "") for pid, n in times.items()]
    if segment.nattch > len(segment.attachers):
        labels.append(f"{segment.nattch - len(segment.attachers)} unseen")
    return labels


class ShmPane(Pane):
    pane_id = "shm"
    title = "Shared memory"
    empty_text = "No shared memory segments."
    default_sort = "shmid"
    columns = (
        Column("shmid", "ShmID"),  # ids reach 10 digits: auto width, which only ever grows
        Column("key", "Key", 10),
        Column("owner", "Owner", priority=3, shrink_to=8),
        Column("size", "Size", 6, priority=2),
        Column("nattch", "Att", 4),
        Column("attachers", "Attached by", shrink_to=14),
        Column("status", "Status", priority=2),
        # ctime: set by shmget and by each IPC_SET (a chmod changes it too); the kernel keeps no other.
        Column("age", "Changed", 7, volatile=True, priority=4),
        Column("creator", "Creator", priority=5, shrink_to=12),
        Column("perms", "Perms", 9, priority=6),
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[int, tuple[ShmSegment, tuple[object, ...], Row]] = {}

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        # A segment the snapshot did not change is the same object as last scan: its row is reused
        # when the processes it names are the same objects too (a title such as a PostgreSQL
        # backend's changes without the segment changing; ages are drawn by the table, see AgeCell).
        previous, cache = self._cache, {}
        rows = []
        processes = snapshot.processes
        creators: dict[int, tuple[object, bool]] = {}  # by creator pid: a few creators make most segments
        for shmid, segment in snapshot.shm.items():
            cpid = segment.cpid
            creator = creators.get(cpid)
            if creator is None:
                creator = creators[cpid] = (processes.get(cpid), snapshot.is_alive(cpid))
            context = (*creator, *(processes.get(a.pid) for a in segment.attachers))
            hit = previous.get(shmid)
            reuse = hit is not None and hit[0] is segment and hit[1] == context
            row = hit[2] if reuse else self._row(segment, state)  # type: ignore[index]
            cache[shmid] = (segment, context, row)
            rows.append(row)
        self._cache = cache
        return rows

    def _row(self, segment: ShmSegment, state: MonitorState) -> Row:
        snapshot = state.snapshot
        assert snapshot is not None
        attachers = attacher_labels(segment, snapshot)
        status = ", ".join(segment.status)
        cells = (
            num(segment.shmid),
            key_cell(segment.key, segment.original_key),
            Cell(segment.owner),
            bytes_cell(segment.size),
            num(segment.nattch, role="muted" if not segment.nattch else None),
            ListCell(attachers, short=attacher_labels(segment, snapshot, brief_label)),
            Cell(status, role="warn" if segment.marked_for_removal else None),
            age_cell(segment.ctime, state.now),
            process_cell(snapshot, segment.cpid),
            perms_cell(segment.perms),
        )
        return Row(str(segment.shmid), segment, cells, search=" ".join(attachers))
