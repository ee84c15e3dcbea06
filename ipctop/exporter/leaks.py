"""Leaked objects by kind: what `ipctop clean` would remove, as counts, bytes and ages.

The leak finder (cleanup/leaks.py) is pure and judges from the snapshot; only
objects it calls removable count as leaked here (those it only reports, kept by
a live process or not judgeable, do not).  It drops a queue that a process is
blocked on only when told who is blocked, which costs a read of every process's
/proc/PID/syscall; so that is read only when a queue would otherwise count.
"""

from __future__ import annotations

from collections.abc import Callable

from ipctop.cleanup.evidence import gather
from ipctop.cleanup.leaks import LeakCandidate, find_leaks
from ipctop.cleanup.waiters import QueueWaiters
from ipctop.exporter.metric import Metric
from ipctop.model import Snapshot

LEAKED_OBJECTS = Metric("ipctop_leaked_objects", "Objects the leak finder judges leaked (no live process can be about "
                        "to use them: what `ipctop clean` would remove), by kind.", ("kind",), scoped=True)
LEAKED_BYTES = Metric("ipctop_leaked_bytes", "Bytes held by leaked objects (segment sizes, queued message bytes), "
                      "by kind.", ("kind",), scoped=True)
LEAKED_IDLE = Metric("ipctop_leaked_object_idle_seconds", "Seconds since a leaked object was last touched "
                     "(attached, detached, sent to, received from, operated on or changed); a POSIX object's "
                     "id is its inode and its key its name.",
                     ("kind", "id", "key", "owner"), scoped=True)
METRICS = (LEAKED_OBJECTS, LEAKED_BYTES, LEAKED_IDLE)


def leaked(snapshot: Snapshot, queue_waiters: Callable[[], QueueWaiters]) -> list[LeakCandidate]:
    """The removable leak candidates of `snapshot`, oldest first: judged as `ipctop clean` judges them,
    with the snapshot's own waits (every thread's system call) for who is blocked on what."""
    has_queues_or_sets = any(True for _ in snapshot.all_msg()) or any(True for _ in snapshot.all_sem())
    evidence = gather(snapshot, read_waiters=False) if has_queues_or_sets else None
    candidates = find_leaks(snapshot, evidence=evidence)
    return sorted((c for c in candidates if c.removable), key=lambda c: (c.last_touched, c.kind, c.id))
