"""Which rows show what a demo made: its segments, queues, sets, processes and their pipes.

`DemoMarks` is taken from a DemoRun's account of what it made; `mark_rows()`
gives such rows the "demo" style and a `◆` (with the process's role in the
lesson, `◆ server`) after their first cell, and makes them match the filter
`demo`.  Rows that already have a style of their own (a blocked set) keep it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from rich.text import Text

from ipctop.diff import Event
from ipctop.model import Fifo, MsgQueue, Pipe, Process, SemSet, ShmSegment
from ipctop.tui.rows import Cell, Row

MARK = "◆"


@dataclass(frozen=True, slots=True)
class DemoMarks:
    """What a demo made: `pids` (pid -> role) and ids still alive, plus all it ever made (for events)."""

    demo: str
    pids: Mapping[int, str]
    shm: frozenset[int]
    msg: frozenset[int]
    sem: frozenset[int]
    paths: frozenset[str] = frozenset()
    ever: frozenset[tuple[str, int]] = frozenset()  # ("shm", id), ("process", pid)… including what is gone
    run: int = 0  # which run of the monitor's demos (the panes follow each run's objects afresh)
    lecture: bool = False  # lecture mode: the panes pin the demo's rows first

    def label(self, obj: object) -> str | None:
        """The mark for the object a row shows: "" for an object the demo made, its role for a
        process, None for anything else."""
        if isinstance(obj, ShmSegment):
            return "" if obj.shmid in self.shm else None
        if isinstance(obj, MsgQueue):
            return "" if obj.msqid in self.msg else None
        if isinstance(obj, SemSet):
            return "" if obj.semid in self.sem else None
        if isinstance(obj, Process):
            return self.pids.get(obj.pid)
        if isinstance(obj, Fifo) and obj.path in self.paths:
            return ""
        if isinstance(obj, Pipe | Fifo):
            return "" if any(end.pid in self.pids for end in obj.ends) else None
        if isinstance(obj, Event):
            ours = (obj.object_kind, obj.object_id) in self.ever or ("process", obj.pid or 0) in self.ever
            return "" if ours else None
        kind, ident = getattr(obj, "kind", None), getattr(obj, "id", None)  # a leak candidate
        if isinstance(kind, str) and isinstance(ident, int):
            return "" if (kind, ident) in self.ever else None
        return None


def mark_row(row: Row, mark: str) -> Row:
    first = row.cells[0]
    text = Text()
    text.append_text(first.as_text())
    named = mark and not first.plain.endswith(f" {mark}") and first.plain.split()[-1:] != [mark]
    text.append(f" {MARK} {mark}" if named else f" {MARK}")  # `b ◆`, not `b ◆ b`: the role is its name
    cell = Cell(text, sort=first.sort_key, role=first.role, justify=first.justify or "left")  # type: ignore[arg-type]
    return replace(row, cells=(cell, *row.cells[1:]), role=row.role or "demo", search=f"{row.search} demo")


def mark_rows(rows: list[Row], marks: DemoMarks | None) -> list[Row]:
    if marks is None:
        return rows
    marked = []
    for row in rows:
        mark = marks.label(row.obj) if row.obj is not None else None
        marked.append(row if mark is None else mark_row(row, mark))
    return marked
