"""Pane 1: System V shared memory segments, with who has them attached."""

from __future__ import annotations

from ipctop.model import ShmSegment
from ipctop.render.formatting import found_of, proc_label
from ipctop.tui.panes.base import Pane, shorten
from ipctop.tui.panes.cells import age_cell, bytes_cell, key_cell, perms_cell, process_cell
from ipctop.tui.rows import Cell, Column, Row, num
from ipctop.tui.state import MonitorState


class ShmPane(Pane):
    pane_id = "shm"
    title = "Shared memory"
    empty_text = "No shared memory segments."
    default_sort = "shmid"
    columns = (
        Column("shmid", "ShmID"),  # ids reach 10 digits: auto width, which only ever grows
        Column("key", "Key", 10),
        Column("owner", "Owner"),
        Column("size", "Size", 6),
        Column("nattch", "Att", 4),
        Column("attachers", "Attached by"),
        Column("status", "Status"),
        Column("age", "Age", 6, volatile=True),
        Column("creator", "Creator"),
        Column("perms", "Perms", 9),
    )

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[int, tuple[ShmSegment, tuple[str | None, bool], Row]] = {}

    def build_rows(self, state: MonitorState) -> list[Row]:
        snapshot = state.snapshot
        assert snapshot is not None
        # A segment the snapshot did not change is the same object as last scan: its row is reused
        # when its creator's cell reads the same too (ages are drawn by the table, see AgeCell).
        previous, cache = self._cache, {}
        rows = []
        processes = snapshot.processes
        contexts: dict[int, tuple[str | None, bool]] = {}  # by creator pid: a few creators make most segments
        for shmid, segment in snapshot.shm.items():
            cpid = segment.cpid
            context = contexts.get(cpid)
            if context is None:
                creator = processes.get(cpid)
                context = contexts[cpid] = (creator.comm if creator is not None else None, snapshot.is_alive(cpid))
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
        attachers = [proc_label(a.comm, a.pid) for a in segment.attachers]
        if not segment.attachers_complete:
            attachers.append(found_of(segment))
        status = ", ".join(segment.status)
        cells = (
            num(segment.shmid),
            key_cell(segment.key, segment.original_key),
            Cell(segment.owner),
            bytes_cell(segment.size),
            num(segment.nattch, role="muted" if not segment.nattch else None),
            Cell(shorten(attachers), sort=len(attachers)),
            Cell(status, role="warn" if segment.marked_for_removal else None),
            age_cell(segment.ctime, state.now),
            process_cell(snapshot, segment.cpid),
            perms_cell(segment.perms),
        )
        return Row(str(segment.shmid), segment, cells, search=" ".join(attachers))
