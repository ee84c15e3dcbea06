"""Anonymous pipes and FIFOs: bytes waiting, capacity, and writers blocked on a full one.

Only pipes with bytes waiting get series: a machine has thousands of empty
pipes between idle processes, and an empty pipe has nothing to tell.  A writer
counts as blocked on a pipe as waits.py says (from wchan until the snapshot
names each pipe's waiters).
"""

from __future__ import annotations

from collections.abc import Iterable

from ipctop.exporter.kinds.base import ObjectKind, Sample
from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import Fifo, Pipe, Snapshot

_MAX_NAMES = 3


def comms(ends: Iterable) -> str:
    """The command names of `ends`, sorted, at most three (then "+N")."""
    names = sorted({end.comm for end in ends})
    shown = ",".join(names[:_MAX_NAMES])
    return shown + (f",+{len(names) - _MAX_NAMES}" if len(names) > _MAX_NAMES else "")


def _metrics(kind: str, what: str, identity: tuple[str, ...]) -> tuple[Metric, ...]:
    return (
        Metric(f"ipctop_{kind}_waiting_bytes", f"Bytes waiting to be read in {what} (only those that hold some).",
               identity, scoped=True),
        Metric(f"ipctop_{kind}_capacity_bytes", f"Capacity of {what} (F_GETPIPE_SZ): a writer blocks when it is "
               "full.", identity, scoped=True),
        Metric(f"ipctop_{kind}_blocked_writers", f"Processes asleep in write() on {what} with no room for an "
               "atomic write.", identity, scoped=True),
        Metric(f"ipctop_{kind}_writer_blocked_seconds", f"How long the longest-blocked writer of {what} has been "
               "asleep in write() without running (a lower bound, exact to one scrape interval).",
               identity, scoped=True),
    )


class _PipeLike(ObjectKind):
    def listed(self, obj: Pipe | Fifo) -> bool:
        return bool(obj.fill)

    def rank(self, obj: Pipe | Fifo, waits: Waits) -> tuple:
        fill = obj.fill or 0
        ratio = fill / obj.capacity if obj.capacity else 0.0
        return len(waits.on(self.name, obj.inode, "pipe_write")), ratio, fill, -obj.inode

    def samples(self, obj: Pipe | Fifo, waits: Waits) -> Iterable[Sample]:
        waiting, capacity, blocked, seconds = self.metrics
        yield Sample(waiting, obj.fill or 0)
        if obj.capacity is not None:
            yield Sample(capacity, obj.capacity)
        blocked_for = waits.on(self.name, obj.inode, "pipe_write")
        yield Sample(blocked, len(blocked_for))
        yield Sample(seconds, max(blocked_for, default=0.0))

    def complete(self, obj: Pipe | Fifo) -> bool:
        return obj.fill is not None  # unmeasured: unreadable, or a FIFO not open at both ends yet

    def held_bytes(self, obj: Pipe | Fifo) -> int:
        return obj.fill or 0


class Pipes(_PipeLike):
    name = "pipe"
    identity = ("inode", "writers", "readers")
    metrics = _metrics("pipe", "an anonymous pipe", identity)

    def objects(self, snapshot: Snapshot) -> Iterable[Pipe]:
        return snapshot.pipes.values()

    def labels(self, obj: Pipe) -> tuple[str, ...]:
        return str(obj.inode), comms(obj.writers), comms(obj.readers)


class Fifos(_PipeLike):
    name = "fifo"
    identity = ("path", "writers", "readers")
    metrics = _metrics("fifo", "a FIFO (named pipe)", identity)

    def objects(self, snapshot: Snapshot) -> Iterable[Fifo]:
        return snapshot.fifos.values()

    def labels(self, obj: Fifo) -> tuple[str, ...]:
        return obj.path, comms(obj.writers), comms(obj.readers)


PIPES = Pipes()
FIFOS = Fifos()
