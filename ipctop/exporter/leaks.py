"""Leaked objects by kind: what `ipctop clean` would remove, as counts, bytes and ages.

The leak finder (cleanup/leaks.py) is pure and judges from the snapshot and its
evidence; only objects it calls removable count as leaked here (those it only
reports, kept by a live process or not judgeable, do not).  Who is blocked on a
queue or set comes from the snapshot's own waits; the process table (who could
have created a queue or set) is read only when there is a queue or set.  An
object counts once it has been idle for `ipctop clean`'s grace period, or the
exporter's --leak-grace.
"""

from __future__ import annotations

from ipctop.cleanup.evidence import gather
from ipctop.cleanup.filters import LeakFilters
from ipctop.cleanup.leaks import LeakCandidate, find_leaks
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


def leaked(snapshot: Snapshot, filters: LeakFilters | None = None) -> list[LeakCandidate]:
    """The removable leak candidates of `snapshot`, oldest first: judged as `ipctop clean` judges them,
    with the snapshot's own waits (every thread's system call) for who is blocked on what."""
    has_queues_or_sets = any(True for _ in snapshot.all_msg()) or any(True for _ in snapshot.all_sem())
    evidence = gather(snapshot, read_waiters=False) if has_queues_or_sets else None
    candidates = find_leaks(snapshot, filters, evidence=evidence)
    return sorted((c for c in candidates if c.removable), key=lambda c: (c.last_touched, c.kind, c.id))
