"""What changed between two snapshots, as a list of events.

The TUI's event log and the lifetime in its detail screens are built from these.
An id that comes back with another creator (segments) or key (queues, sets) is a
new object, since ids are reused; it reads as removed and created.  System V ids are
unique only inside one IPC namespace: each namespace's tables are compared with the
same namespace's, and an event of another namespace than ipctop's own carries its
inode and name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from ipctop.kinds import KINDS, ObjectKind
from ipctop.model import EXITED_STATES, Fifo, Holder, MsgQueue, Pipe, PipeEnd, SemSet, ShmSegment, Snapshot


class EventKind(StrEnum):
    CREATED = "created"
    REMOVED = "removed"
    MARKED_FOR_REMOVAL = "marked for removal"
    ATTACHED = "attached"
    DETACHED = "detached"
    QUEUE_GREW = "queue grew"
    QUEUE_DRAINED = "queue drained"
    SEM_CHANGED = "values changed"
    END_OPENED = "end opened"
    END_CLOSED = "end closed"
    END_MOVED = "end moved"  # the same process holds the same end at another fd (dup2, then close)
    PROCESS_EXITED = "process exited"
    UNLINKED = "unlinked"  # a POSIX object's name removed while processes still hold it
    OPENED = "opened"  # an fd on a POSIX object or memfd
    CLOSED = "closed"
    MAPPED = "mapped"
    UNMAPPED = "unmapped"


@dataclass(frozen=True, slots=True)
class Event:
    time: float
    kind: EventKind
    object_kind: str  # shm, msg, sem, pipe, fifo, process, or a kind of ipctop/kinds/ (pshm, ...)
    object_id: int  # shmid, msqid, semid, inode or pid
    pid: int | None = None
    detail: str = ""
    ipc_ns: int = 0  # the IPC namespace of a System V object, when it is not ipctop's own
    container: str = ""  # and its name
    object_word: str = ""  # the object's kind as shown, where it is not object_kind ("anon" memory)

    @property
    def object_label(self) -> str:
        where = f" in {self.container}" if self.container else ""
        return f"{self.object_word or self.object_kind} {self.object_id}{where}"


Tables = tuple[Mapping[int, ShmSegment], Mapping[int, MsgQueue], Mapping[int, SemSet]]
_NONE: Tables = ({}, {}, {})


def _namespace_tables(previous: Snapshot, current: Snapshot) -> Iterator[tuple[Tables, Tables, int, str]]:
    """(before, after, inode, name) of each other IPC namespace in either snapshot; one that could
    not be read in either is left out (its objects are unknown there, not gone)."""
    before = {ns.inode: ns for ns in previous.other_namespaces}
    after = {ns.inode: ns for ns in current.other_namespaces}
    for inode in [*before, *(inode for inode in after if inode not in before)]:
        old, new = before.get(inode), after.get(inode)
        if (old is not None and old.error) or (new is not None and new.error):
            continue
        name = (new or old).name  # type: ignore[union-attr]
        yield ((old.shm, old.msg, old.sem) if old else _NONE, (new.shm, new.msg, new.sem) if new else _NONE,
               inode, name)


def diff(previous: Snapshot, current: Snapshot) -> list[Event]:
    """Events that turn `previous` into `current`, in a stable order."""
    t = current.time
    events: list[Event] = []
    events += _diff_shm(previous.shm, current.shm, t)
    events += _diff_msg(previous.msg, current.msg, t)
    events += _diff_sem(previous.sem, current.sem, t)
    for before, after, inode, name in _namespace_tables(previous, current):
        found = [*_diff_shm(before[0], after[0], t), *_diff_msg(before[1], after[1], t),
                 *_diff_sem(before[2], after[2], t)]
        events += [replace(event, ipc_ns=inode, container=name) for event in found]
    events += _diff_pipes("pipe", previous.pipes, current.pipes, current.time)
    events += _diff_pipes("fifo", previous.fifos, current.fifos, current.time)
    for kind in KINDS:
        events += _diff_kind(kind, previous, current)
    events += _diff_processes(previous, current)
    return events


def _diff_kind(kind: ObjectKind, previous: Snapshot, current: Snapshot) -> list[Event]:
    """Events of a kind of ipctop/kinds/, by inode: created, unlinked, removed, opened, closed, mapped,
    unmapped, and the rise and fall of its level (a queue's messages) or change of its value."""
    t, name = current.time, kind.name
    before_map, after_map = kind.objects(previous), kind.objects(current)
    events = []
    for inode, before in before_map.items():
        after = after_map.get(inode)
        if after is None or not kind.same_object(before, after):
            events.append(Event(t, EventKind.REMOVED, name, inode, None, kind.label(before),
                                object_word=_word(kind, before)))
    for inode, after in after_map.items():
        before = before_map.get(inode)
        if before is after:
            continue
        word = _word(kind, after)
        if before is None or not kind.same_object(before, after):
            first = after.holders[0].pid if after.holders else None
            events.append(Event(t, EventKind.CREATED, name, inode, first, kind.label(after), object_word=word))
            before_holders: dict[tuple[int, int | None, int], Holder] = {}
        else:
            if getattr(after, "unlinked", False) and not getattr(before, "unlinked", False):
                held = len({h.pid for h in after.holders})
                detail = f"{kind.label(after)}: still held by {held} process{'es' if held != 1 else ''}"
                events.append(Event(t, EventKind.UNLINKED, name, inode, None, detail, object_word=word))
            events += _level_events(kind, before, after, t)
            before_holders = {(h.pid, h.fd, h.start): h for h in before.holders}
        after_holders = {(h.pid, h.fd, h.start): h for h in after.holders}
        label = kind.label(after)
        for key, holder in after_holders.items():
            if key not in before_holders:
                how = EventKind.OPENED if holder.fd is not None else EventKind.MAPPED
                events.append(Event(t, how, name, inode, holder.pid, f"{label}: {holder.comm} {holder.how}",
                                    object_word=word))
        for key, holder in before_holders.items():
            if key not in after_holders:
                how = EventKind.CLOSED if holder.fd is not None else EventKind.UNMAPPED
                events.append(Event(t, how, name, inode, holder.pid, f"{label}: {holder.comm} {holder.how}",
                                    object_word=word))
    return events


def _word(kind: ObjectKind, obj: object) -> str:
    return kind.word(obj) if kind.word is not None else ""


def _level_events(kind: ObjectKind, before: object, after: object, t: float) -> list[Event]:
    events = []
    label = kind.label(after)
    if kind.level is not None:
        was, now = kind.level(before), kind.level(after)
        if was is not None and now is not None and was != now:
            what = EventKind.QUEUE_GREW if now > was else EventKind.QUEUE_DRAINED
            events.append(Event(t, what, kind.name, after.inode, None, f"{label}: {was} → {now} messages"))  # type: ignore[attr-defined]
    if kind.value is not None:
        was, now = kind.value(before), kind.value(after)
        if was is not None and now is not None and was != now:
            events.append(Event(t, EventKind.SEM_CHANGED, kind.name, after.inode, None, f"{label}: {was} → {now}"))  # type: ignore[attr-defined]
    return events


def _diff_shm(before_map: Mapping[int, ShmSegment], after_map: Mapping[int, ShmSegment], t: float) -> list[Event]:
    events = []
    # The snapshot reuses an unchanged segment's record, so at 10,000 segments only the few
    # that are not the same object need a look.
    changed = [(shmid, after) for shmid, after in after_map.items() if before_map.get(shmid) is not after]
    gone = before_map.keys() - after_map.keys()
    gone.update(shmid for shmid, after in changed if shmid in before_map and before_map[shmid].cpid != after.cpid)
    if gone:
        for shmid, before in before_map.items():
            if shmid in gone:
                events.append(Event(t, EventKind.REMOVED, "shm", shmid, None, f"key {before.display_key:#010x}"))
    for shmid, after in changed:
        before = before_map.get(shmid)
        if before is None or before.cpid != after.cpid:
            events.append(
                Event(t, EventKind.CREATED, "shm", shmid, after.cpid, f"key {after.key:#010x}, {after.size} bytes")
            )
            before_attachers: set[tuple[int, int]] = set()
        else:
            if after.marked_for_removal and not before.marked_for_removal:
                events.append(
                    Event(t, EventKind.MARKED_FOR_REMOVAL, "shm", shmid, None, f"{after.nattch} still attached")
                )
            before_attachers = {(a.pid, a.start) for a in before.attachers}
        same = before is not None and before.cpid == after.cpid
        if not after.attachers_complete or (same and not before.attachers_complete):  # type: ignore[union-attr]
            continue  # attach and detach events only from two complete readings: none invented
        after_attachers = {(a.pid, a.start) for a in after.attachers}
        for attacher in after.attachers:
            if (attacher.pid, attacher.start) not in before_attachers:
                detail = f"{attacher.comm} at {attacher.start:#x} ({attacher.mode}), nattch {after.nattch}"
                events.append(Event(t, EventKind.ATTACHED, "shm", shmid, attacher.pid, detail))
        if same:
            for attacher in before.attachers:  # type: ignore[union-attr]
                if (attacher.pid, attacher.start) not in after_attachers:
                    detail = f"{attacher.comm}, nattch {after.nattch}"
                    events.append(Event(t, EventKind.DETACHED, "shm", shmid, attacher.pid, detail))
    return events


def _diff_msg(before_map: Mapping[int, MsgQueue], after_map: Mapping[int, MsgQueue], t: float) -> list[Event]:
    events = []
    for msqid, before in before_map.items():
        if msqid not in after_map or after_map[msqid].key != before.key:
            events.append(Event(t, EventKind.REMOVED, "msg", msqid, None, f"key {before.key:#010x}"))
    for msqid, after in after_map.items():
        before = before_map.get(msqid)
        if before is None or before.key != after.key:
            events.append(Event(t, EventKind.CREATED, "msg", msqid, after.lspid or None, f"key {after.key:#010x}"))
            continue
        if after.qnum > before.qnum:
            detail = f"{before.qnum} → {after.qnum} messages, {after.cbytes} bytes"
            events.append(Event(t, EventKind.QUEUE_GREW, "msg", msqid, after.lspid or None, detail))
        elif after.qnum < before.qnum:
            detail = f"{before.qnum} → {after.qnum} messages, {after.cbytes} bytes"
            events.append(Event(t, EventKind.QUEUE_DRAINED, "msg", msqid, after.lrpid or None, detail))
    return events


def _diff_sem(before_map: Mapping[int, SemSet], after_map: Mapping[int, SemSet], t: float) -> list[Event]:
    events = []
    for semid, before in before_map.items():
        if semid not in after_map or after_map[semid].key != before.key:
            events.append(Event(t, EventKind.REMOVED, "sem", semid, None, f"key {before.key:#010x}"))
    for semid, after in after_map.items():
        before = before_map.get(semid)
        if before is None or before.key != after.key:
            detail = f"key {after.key:#010x}, {after.nsems} semaphores"
            events.append(Event(t, EventKind.CREATED, "sem", semid, None, detail))
        elif before.values != after.values and after.values:
            last = next((p for p, a, b in zip(after.pids, after.values, before.values, strict=False) if a != b), None)
            detail = f"{list(before.values)} → {list(after.values)}"
            events.append(Event(t, EventKind.SEM_CHANGED, "sem", semid, last or None, detail))
    return events


def _diff_pipes(kind: str, before_map, after_map, t: float) -> list[Event]:  # type: ignore[no-untyped-def]
    events = []
    for inode, before in before_map.items():
        if inode not in after_map:
            events.append(Event(t, EventKind.REMOVED, kind, inode, None, _pipe_label(before)))
    for inode, after in after_map.items():
        before = before_map.get(inode)
        if before is after:
            continue
        if before is None:
            events.append(Event(t, EventKind.CREATED, kind, inode, None, _pipe_label(after)))
            continue
        events += _end_events(kind, inode, before.ends, after.ends, t)
    return events


def _end_events(kind: str, inode: int, before: tuple[PipeEnd, ...], after: tuple[PipeEnd, ...],
                t: float) -> list[Event]:
    """The ends opened and closed between two scans of one pipe.  An end closed at one fd and opened at
    another by the same process, in the same mode, is one end moved: a shell saving and restoring its
    standard fds around each command (dup2, then close) does not let go of the pipe."""
    before_fds = {(e.pid, e.fd) for e in before}
    after_fds = {(e.pid, e.fd) for e in after}
    opened = sorted((e for e in after if (e.pid, e.fd) not in before_fds), key=lambda e: e.fd)
    closed = sorted((e for e in before if (e.pid, e.fd) not in after_fds), key=lambda e: e.fd)
    events = []
    for end in closed:
        moved_to = next((e for e in opened if e.pid == end.pid and e.mode == end.mode), None)
        if moved_to is not None:
            opened.remove(moved_to)
            detail = f"{end.comm} fd {end.fd} → fd {moved_to.fd} ({end.mode})"
            events.append(Event(t, EventKind.END_MOVED, kind, inode, end.pid, detail))
        else:
            events.append(Event(t, EventKind.END_CLOSED, kind, inode, end.pid, f"{end.comm} fd {end.fd} ({end.mode})"))
    events += [Event(t, EventKind.END_OPENED, kind, inode, end.pid, f"{end.comm} fd {end.fd} ({end.mode})")
               for end in opened]
    return events


def _pipe_label(pipe: Pipe | Fifo) -> str:
    """Its holders, each process once: `timeout[812] w×2, tail[813] r` (a process holds an end
    at several fds when its stdout and stderr both go to the pipe)."""
    ends: dict[tuple[int, str], int] = {}
    names: dict[int, str] = {}
    for e in pipe.ends:
        ends[e.pid, e.mode] = ends.get((e.pid, e.mode), 0) + 1
        names.setdefault(e.pid, e.comm)
    holders = ", ".join(f"{names[pid]}[{pid}] {mode}" + (f"×{fds}" if fds > 1 else "")
                        for (pid, mode), fds in ends.items())
    prefix = f"{pipe.path}: " if isinstance(pipe, Fifo) else ""
    return prefix + holders


def _diff_processes(previous: Snapshot, current: Snapshot) -> list[Event]:
    events = []
    now_listed = current.processes
    for pid, process in previous.processes.items():
        after = now_listed.get(pid)
        if after is process or process.state in EXITED_STATES:  # a zombie's exit was told when it died
            continue
        gone = pid not in current.live_pids if current.live_pids else after is None
        replaced = after is not None and after.start_time != process.start_time
        if gone or replaced:
            events.append(Event(current.time, EventKind.PROCESS_EXITED, "process", pid, pid, process.comm))
        elif after is not None and after.state in EXITED_STATES:
            events.append(Event(current.time, EventKind.PROCESS_EXITED, "process", pid, pid,
                                f"{process.comm}, a zombie until its parent reaps it"))
    return events
