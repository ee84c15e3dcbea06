"""POSIX shared memory, named semaphores, message queues, and shared memory without a name.

Each is one `ObjectKind` of the exporter made from the kind's own module in
ipctop/kinds/ (its per-object metrics, with `value` functions, are declared there
beside its columns and detail): a name in the `kind` label (`pshm`, `psem`,
`pmsg`, `memfd`), the labels that name one object, the order of --max-series,
the bytes it holds and the limits it counts against.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ipctop import kinds as object_kinds
from ipctop.exporter.kinds.base import LimitUse, ObjectKind, Sample
from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import PosixQueue, PosixSem, PosixShm, Snapshot, UnnamedShm

_NAMED = ("name", "inode", "owner")
_UNNAMED = ("inode", "source", "name", "owner")


class PosixKind(ObjectKind):
    """One kind of ipctop/kinds/ as the exporter sees it."""

    def __init__(self, kind: object_kinds.ObjectKind, identity: tuple[str, ...], leaks: bool) -> None:
        self.kind = kind
        self.name = kind.name  # type: ignore[misc]
        self.identity = identity  # type: ignore[misc]
        self.leaks = leaks  # type: ignore[misc]
        self._metrics = tuple(
            (Metric(f"ipctop_{kind.name}_{m.name}", f"{kind.title}: {m.help.lower()}.", identity, scoped=True), m)
            for m in kind.metrics
        )
        self.metrics = tuple(metric for metric, _ in self._metrics)  # type: ignore[misc]

    def objects(self, snapshot: Snapshot) -> Iterable[Any]:
        return self.kind.objects(snapshot).values()

    def labels(self, obj: Any) -> tuple[str, ...]:
        if isinstance(obj, UnnamedShm):
            return str(obj.inode), obj.source, obj.name, obj.owner
        return obj.name, str(obj.inode), obj.owner

    def rank(self, obj: Any, waits: Waits) -> tuple:
        if isinstance(obj, PosixSem):
            return len(obj.waiters) or obj.blocked or 0, len(obj.holders), -obj.inode
        if isinstance(obj, PosixQueue):
            return obj.fill or 0.0, len(obj.waiters), obj.messages or 0, -obj.inode
        return obj.size, len(obj.holders), -obj.inode

    def samples(self, obj: Any, waits: Waits) -> Iterable[Sample]:
        for metric, declared in self._metrics:
            value = declared.value(obj)
            if value is not None:
                yield Sample(metric, value)

    def held_bytes(self, obj: Any) -> int | None:
        if isinstance(obj, PosixShm | UnnamedShm):
            return obj.size
        if isinstance(obj, PosixQueue):
            return obj.queued_bytes  # known only where the queue's file is read (--queue-files)
        return None

    def find(self, snapshot: Snapshot, ident: int) -> Any | None:
        return self.kind.objects(snapshot).get(ident)

    def limit_uses(self, snapshot: Snapshot) -> Iterable[LimitUse]:
        limits = snapshot.limits
        if limits is None:
            return
        if self.name == "pshm" and limits.dev_shm_size is not None and limits.dev_shm_used is not None:
            yield LimitUse("dev_shm", "bytes", limits.dev_shm_size, limits.dev_shm_used)
        # queues are all counted only where the mqueue filesystem is mounted (else: those held open)
        if self.name == "pmsg" and limits.mq_queues_max is not None and all(q.listed for q in snapshot.pmsg.values()) \
                and not any("mqueue" in note for note in snapshot.posix_notes):
            yield LimitUse("posix_queues", "objects", limits.mq_queues_max, len(snapshot.pmsg))


PSHM = PosixKind(object_kinds.PSHM, _NAMED, leaks=True)
PSEM = PosixKind(object_kinds.PSEM, _NAMED, leaks=True)
PMSG = PosixKind(object_kinds.PMSG, _NAMED, leaks=True)
MEMFD = PosixKind(object_kinds.MEMFD, _UNNAMED, leaks=False)
