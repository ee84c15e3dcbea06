"""The leak rules for POSIX shared memory, named semaphores and message queues, and why.

A POSIX object has no creator pid, and a name that nobody holds may be meant to
persist (a daemon that reads it at times).  So an object is looked at only when
nobody holds it (no fd, no mapping, in any process ipctop could read), and then,
by its owner and when it was made (tmpfs records a birth time; a queue is made
no later than the earliest of its times):

- `psm_*` shared memory and `mp-*` semaphores are Python multiprocessing's: they
  are removable when no Python process of their owner that existed when they
  were made is alive (the program and its resource tracker, which unlinks them at
  exit, are gone);
- `PostgreSQL.*` shared memory is a PostgreSQL server's dynamic shared memory:
  removable when no postgres process of its owner that existed when it was made
  is alive (no postmaster is alive for it; a new server cleans up the segments
  of its own);
- any other name is removable when no process of its owner that existed when it
  was made is alive: whatever made it and could come back for it is gone.
  Otherwise it is kept, and reported once it is a day old (or older than
  --older-than): a process that was there may still come back for it.

As for System V objects (leaks.py), a removable one is proposed only once it has
been untouched (its birth and change times) for the grace period.

Never removed: an object somebody holds (not even reported), an unlinked object
(it goes with its last holder; nothing to remove), a queue of which ipctop sees
only its holders' fds (/dev/mqueue not mounted), and any object when a process
that could hold it could not be inspected (it is reported, naming the process).

`find_posix_leaks` reads the snapshot and, when an object has no holder, the
list of live processes (pid, owner, start time, name) through `everyone`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

from ipctop.cleanup.candidate import CLOCK_SLACK, REPORT_IDLE_AFTER, LeakCandidate
from ipctop.cleanup.creators import live_label
from ipctop.cleanup.filters import LeakFilters
from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.model import EXITED_STATES, PosixQueue, PosixSem, PosixShm, Snapshot
from ipctop.render.formatting import age, clock, count, human_bytes

POSIX_KINDS = ("pshm", "psem", "pmsg")


class LiveProcess(NamedTuple):
    pid: int
    uid: int
    start_time: float
    comm: str


def read_everyone(proc: ProcFS | None = None) -> list[LiveProcess]:
    """Every live process's owner, start time and name (zombies left out)."""
    from ipctop.collectors import processes

    proc = proc or ProcFS()
    btime = processes.boot_time(proc)
    found = []
    for pid in proc.pids():
        try:
            fields = processes.parse_stat(proc.read_pid_record(pid, "stat").decode("utf-8", "replace"))
            uid = os.stat(proc.path(pid)).st_uid
        except (Gone, Denied, OSError, ValueError, IndexError):
            continue
        if fields.state in EXITED_STATES:
            continue
        found.append(LiveProcess(pid, uid, btime + fields.start_ticks / processes.CLOCK_TICKS, fields.comm))
    return found


class _Family(NamedTuple):
    """Which of an owner's processes count for an object: all, or those of one program."""

    what: str  # in sentences: "process", "Python process", "postgres process"
    belongs: Callable[[LiveProcess], bool]
    left_by: str  # the end of a removable verdict


def _family(kind: str, name: str) -> _Family:
    bare = name.lstrip("/")
    if (kind == "pshm" and bare.startswith("psm_")) or (kind == "psem" and bare.startswith("mp-")):
        return _Family("Python process", lambda p: p.comm.startswith("python"),
                       "left by Python's multiprocessing after its process died")
    if kind == "pshm" and bare.startswith("PostgreSQL."):
        return _Family("postgres process", lambda p: p.comm in ("postgres", "postmaster"),
                       "PostgreSQL dynamic shared memory with no postmaster alive for it (a crashed server's)")
    return _Family("process", lambda p: True, "whatever made it has gone")


def _holders_unseen(snapshot: Snapshot, obj: Any, everyone: dict[int, LiveProcess]) -> list[str]:
    """The processes ipctop could not inspect that could hold `obj` (root, its owner, or its mode lets them)."""
    unseen = []
    for item in snapshot.uninspectable:
        process = everyone.get(item.pid)
        if process is None or (process.uid != 0 and process.uid != obj.uid and not (obj.perms or 0) & 0o066):
            continue
        unseen.append(live_label(process.pid, process.comm, snapshot.known_processes))
    return unseen


def _detail(obj: Any) -> str:
    if isinstance(obj, PosixShm):
        return human_bytes(obj.size)
    if isinstance(obj, PosixSem):
        return f"value {obj.value if obj.value is not None else '?'}"
    return "? msgs" if obj.messages is None else count(obj.messages, "msg")


def _judge(kind: str, obj: PosixShm | PosixSem | PosixQueue, snapshot: Snapshot, now: float, filters: LeakFilters,
           everyone: Callable[[], dict[int, LiveProcess]], grace: float) -> LeakCandidate | None:
    if obj.holders or obj.unlinked or (isinstance(obj, PosixQueue) and not obj.listed):
        return None
    made = obj.made
    last = max(made, obj.mtime)
    base = dict(kind=kind, id=obj.inode, key=0, owner=obj.owner, uid=obj.uid if obj.uid is not None else -1,
                perms=obj.perms or 0, ctime=int(made), last_touched=int(last), users=(), times=(),
                detail=_detail(obj), name=obj.name, marks=(made, obj.mtime))
    if now - made < CLOCK_SLACK:
        return None  # just made: its maker may not have opened it yet
    processes = everyone()
    unseen = _holders_unseen(snapshot, obj, processes)
    if unseen:
        shown = ", ".join(unseen[:3]) + (f" and {len(unseen) - 3} more" if len(unseen) > 3 else "")
        return LeakCandidate(**base, removable=False,
                             reason=f"nobody ipctop could inspect holds it, but {shown} could not be inspected and "
                             "could hold it")
    family = _family(kind, obj.name)
    own_pid = os.getpid()
    earlier = sorted(
        (p for p in processes.values()
         if p.uid == obj.uid and p.pid != own_pid and family.belongs(p) and p.start_time <= made + CLOCK_SLACK),
        key=lambda p: p.start_time,
    )
    when = clock(int(made)) if made else "at an unknown time"
    if earlier:
        if now - last < (filters.older_than if filters.older_than is not None else REPORT_IDLE_AFTER):
            return None
        named = ", ".join(live_label(p.pid, p.comm, snapshot.known_processes) for p in earlier[:3])
        more = f" and {len(earlier) - 3} more" if len(earlier) > 3 else ""
        return LeakCandidate(**base, removable=False,
                             reason=f"nobody holds it, but {family.what} {named}{more} of {obj.owner} was alive "
                             f"when it was made ({when}) and may come back for it; untouched for {age(last, now)}")
    if now - last <= grace:
        return None  # within the grace period: a program may make an object now and open it in a minute
    reason = (f"nobody holds it; no {family.what} of {obj.owner} alive now was alive when it was made ({when}): "
              f"{family.left_by}; untouched for {age(last, now)}")
    return LeakCandidate(**base, removable=True, reason=reason)


def _selected(obj: Any, filters: LeakFilters) -> bool:
    names = getattr(filters, "names", None)
    if names is not None and obj.name not in names:
        return False
    if filters.keys is not None and names is None:
        return False  # a run confined to System V keys looks at no POSIX object
    return filters.uid is None or filters.uid == obj.uid


def find_posix_leaks(snapshot: Snapshot, filters: LeakFilters, now: float,
                     everyone: Callable[[], list[LiveProcess]] | None = None,
                     grace: float = 0.0) -> list[LeakCandidate]:
    """The leaked POSIX objects of `snapshot` (removable once idle longer than `grace` seconds) and those only
    worth reporting."""
    known: dict[int, LiveProcess] | None = None

    def processes() -> dict[int, LiveProcess]:
        nonlocal known
        if known is None:
            known = {p.pid: p for p in (everyone or read_everyone)()}
        return known

    found = []
    for kind, table in (("pshm", snapshot.pshm), ("psem", snapshot.psem), ("pmsg", snapshot.pmsg)):
        if kind not in filters.types:
            continue
        for obj in table.values():
            if _selected(obj, filters):
                candidate = _judge(kind, obj, snapshot, now, filters, processes, grace)
                if candidate is not None:
                    found.append(candidate)
    return found
