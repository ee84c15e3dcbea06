"""Pane 1: System V shared memory segments, with who has them attached."""

from __future__ import annotations

from collections.abc import Mapping

from ipctop.model import Process, ShmSegment, Snapshot
from ipctop.render.formatting import found_of
from ipctop.render.procinfo import brief_label, label
from ipctop.tui.panes.base import Pane, row_key
from ipctop.tui.panes.cells import age_cell, bytes_cell, key_cell, perms_cell, process_cell
from ipctop.tui.rows import Cell, Column, ListCell, Row, num
from ipctop.tui.state import MonitorState


def attacher_labels(segment: ShmSegment, snapshot: Snapshot) -> tuple[list[str], list[str]]:
    """Who has the segment attached, once per process (`×2` for a process that attached it twice,
    as nattch counts), then, where they do not add up to nattch, how many were found: by
    name, and by comm (for a narrow column)."""
    times: dict[int, int] = {}
    comms: dict[int, str] = {}
    for attacher in segment.attachers:
        times[attacher.pid] = times.get(attacher.pid, 0) + 1
        comms[attacher.pid] = attacher.comm
    processes = snapshot.known_processes
    named, brief = [], []
    for pid, n in times.items():
        more = f"×{n}" if n > 1 else ""
        named.append(label(pid, processes, comms[pid]) + more)
        brief.append(brief_label(pid, processes, comms[pid]) + more)
    if not segment.attachers_complete:
        named.append(found_of(segment))
        brief.append(found_of(segment))
    return named, brief


class ShmPane(Pane):
    pane_id = "shm"
    title = "Shared memory"
    empty_text = "No shared memory segments."
    default_sort = "shmid"
    namespaced = True
    columns = (
        Column("shmid", "ShmID"),  # ids reach 10 digits: auto width, which only ever grows
        Column("key", "Key", shrink_to=16),  # 10 wide, but a recovered key: `0x00000000 (was 0x4950d001)`
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
        self._cache: dict[str, tuple[ShmSegment, tuple[object, bool], Row]] = {}  # row key -> what its row shows
        self._processes: Mapping[int, Process] = {}  # the processes the cached rows name

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        # A segment the snapshot did not change is the same object as last scan: its row is reused
        # when its creator's cell reads the same and no process it names changed (a title such as
        # a PostgreSQL backend's changes without the segment changing; ages are drawn by the
        # table, see AgeCell).  The changed processes say which segments they map (Process.shm).
        previous, cache = self._cache, {}
        rows = []
        processes = snapshot.known_processes
        renamed = self._renamed(processes)  # shmids (of any namespace: a few more rows made again at worst)
        self._processes = processes
        creators: dict[int, tuple[object, bool]] = {}  # by creator pid: a few creators make most segments
        for segment in snapshot.all_shm():
            key = row_key(snapshot, segment.shmid, segment.ipc_ns)
            cpid = segment.cpid
            creator = creators.get(cpid)
            if creator is None:
                creator = creators[cpid] = (processes.get(cpid), snapshot.is_alive(cpid))
            hit = previous.get(key)
            reuse = hit is not None and hit[0] is segment and hit[1] == creator and segment.shmid not in renamed
            row = hit[2] if reuse else self._row(segment, state, key)  # type: ignore[index]
            cache[key] = (segment, creator, row)
            rows.append(row)
        self._cache = cache
        return rows

    def _renamed(self, processes: Mapping[int, Process]) -> set[int]:
        """The segments mapped by a process that is not the same object as when the rows were made."""
        before = self._processes
        if processes is before:
            return set()
        shmids: set[int] = set()
        for pid, process in processes.items():
            old = before.get(pid)
            if old is not process:
                shmids.update(process.shm)
                if old is not None:
                    shmids.update(old.shm)
        return shmids

    def _row(self, segment: ShmSegment, state: MonitorState, key: str) -> Row:
        snapshot = state.snapshot
        assert snapshot is not None
        attachers, briefly = attacher_labels(segment, snapshot)
        status = ", ".join(segment.status)
        cells = (
            num(segment.shmid),
            key_cell(segment.key, segment.original_key),
            Cell(segment.owner),
            bytes_cell(segment.size),
            num(segment.nattch, role="muted" if not segment.nattch else None),
            ListCell(attachers, short=briefly),
            Cell(status, role="warn" if segment.marked_for_removal else None),
            age_cell(segment.ctime, state.now),
            process_cell(snapshot, segment.cpid),
            perms_cell(segment.perms),
        )
        return Row(key, segment, cells, search=" ".join(attachers))
