"""The lifetime of each IPC object as the monitor saw it, built from diff events.

For every object (shm, msg, sem, pipe, fifo, process) the timeline keeps what
happened to it in order: first seen or created, attached and detached, marked
for removal, removed, and so on.  A process also collects what it did to other
objects (it attached a segment, closed a pipe end).  Memory is bounded: an object
keeps how it began and its latest entries, and the objects quiet longest are
forgotten first; the timeline remembers that it forgot them (`forgotten`,
`dropped`), so that a detail says so rather than "nothing recorded".  Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ipctop.diff import Event, EventKind
from ipctop.kinds import KINDS
from ipctop.model import Snapshot

# (object_kind, object_id, ipc_ns): ("shm", shmid, 0), ("process", pid, 0), ...; ipc_ns is the inode of a
# System V object's IPC namespace when that is not ipctop's own (its ids are unique only inside it), else 0
ObjectRef = tuple[str, int, int]

FIRST_SEEN = "first seen"


@dataclass(frozen=True, slots=True)
class LifeEntry:
    """One thing that happened to an object."""

    time: float
    what: str  # an EventKind value, or FIRST_SEEN
    pid: int | None = None
    detail: str = ""


class Timeline:
    """Lifetimes of objects, oldest entry first; bounded in entries and in objects kept."""

    def __init__(self, max_entries: int = 100, max_objects: int = 2000) -> None:
        self.max_entries = max_entries
        self.max_objects = max_objects
        self._lives: dict[ObjectRef, list[LifeEntry]] = {}
        self._forgotten: dict[ObjectRef, None] = {}  # objects whose history went, oldest first
        self._dropped: dict[ObjectRef, int] = {}  # entries dropped from the middle of a history

    def seed(self, snapshot: Snapshot) -> None:
        """Note every object of the first snapshot as already there when watching began."""
        tables = {
            "shm": snapshot.shm,
            "msg": snapshot.msg,
            "sem": snapshot.sem,
            "pipe": snapshot.pipes,
            "fifo": snapshot.fifos,
            "process": snapshot.processes,
            **{kind.name: kind.objects(snapshot) for kind in KINDS},
        }
        for kind, table in tables.items():
            for ident in table:
                self._lives.setdefault((kind, ident, 0), [LifeEntry(snapshot.time, FIRST_SEEN)])
        for ns in snapshot.other_namespaces:
            for kind, table in (("shm", ns.shm), ("msg", ns.msg), ("sem", ns.sem)):
                for ident in table:
                    self._lives.setdefault((kind, ident, ns.inode), [LifeEntry(snapshot.time, FIRST_SEEN)])
        self._trim_objects()

    def record(self, events: Iterable[Event]) -> None:
        for event in events:
            ref = (event.object_kind, event.object_id, event.ipc_ns)
            entry = LifeEntry(event.time, event.kind.value, event.pid, event.detail)
            if event.kind is EventKind.CREATED:
                # Ids are reused: a creation starts a new life under the same id.
                self._lives.pop(ref, None)
                self._forgotten.pop(ref, None)
                self._dropped.pop(ref, None)
            self._append(ref, entry)
            if event.pid and event.object_kind != "process":
                what = f"{event.kind.value} {event.object_label}"
                self._append(("process", event.pid, 0), LifeEntry(event.time, what, event.pid, event.detail))
        self._trim_objects()

    def lifetime(self, kind: str, ident: int, ipc_ns: int = 0) -> tuple[LifeEntry, ...]:
        """What happened to one object (`ipc_ns`: its namespace's inode when not ipctop's own)."""
        return tuple(self._lives.get((kind, ident, ipc_ns), ()))

    def forgotten(self, kind: str, ident: int, ipc_ns: int = 0) -> bool:
        """Whether the object's history (all of it, or what came before its entries now) was forgotten
        to keep the timeline within `max_objects`."""
        return (kind, ident, ipc_ns) in self._forgotten

    def dropped(self, kind: str, ident: int, ipc_ns: int = 0) -> int:
        """How many entries were dropped from the middle of the object's history (`max_entries`)."""
        return self._dropped.get((kind, ident, ipc_ns), 0)

    def _append(self, ref: ObjectRef, entry: LifeEntry) -> None:
        entries = self._lives.pop(ref, [])
        entries.append(entry)
        if len(entries) > self.max_entries:
            # Keep how it began; drop the oldest of the rest.
            excess = len(entries) - self.max_entries
            del entries[1 : excess + 1]
            self._dropped[ref] = self._dropped.get(ref, 0) + excess
        self._lives[ref] = entries  # re-inserted last: recently active objects are kept longest

    def _trim_objects(self) -> None:
        excess = len(self._lives) - self.max_objects
        for ref in list(self._lives)[: max(0, excess)]:
            del self._lives[ref]
            self._dropped.pop(ref, None)
            self._forgotten.pop(ref, None)
            self._forgotten[ref] = None  # the latest at the end
        for ref in list(self._forgotten)[: max(0, len(self._forgotten) - FORGOTTEN_KEPT)]:
            del self._forgotten[ref]


FORGOTTEN_KEPT = 20000  # objects remembered as forgotten (a few small ints each)
