"""System V semaphore sets: how many processes wait on each, by kind of wait."""

from __future__ import annotations

from collections.abc import Iterable

from ipctop.exporter.kinds.base import LimitUse, ObjectKind, Sample
from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import SemSet, Snapshot
from ipctop.render.formatting import hex_key

_ID = ("semid", "key", "owner")
SEMAPHORES = Metric("ipctop_sem_semaphores", "Semaphores in a System V semaphore set.", _ID, scoped=True)
WAITERS = Metric("ipctop_sem_waiters", "Processes blocked in semop on a set, by what they wait for: a value to "
                 "increase (semncnt) or to reach zero (semzcnt), summed over its semaphores. Absent when semctl "
                 "is refused.", (*_ID, "wait"), scoped=True)


class SysvSem(ObjectKind):
    name = "sem"
    identity = _ID
    metrics = (SEMAPHORES, WAITERS)
    leaks = True

    def objects(self, snapshot: Snapshot) -> Iterable[SemSet]:
        return snapshot.all_sem()  # of every IPC namespace: build.py labels each with its own

    def labels(self, obj: SemSet) -> tuple[str, ...]:
        return str(obj.semid), hex_key(obj.key), obj.owner

    def rank(self, obj: SemSet, waits: Waits) -> tuple:
        return obj.blocked, obj.nsems, -obj.semid

    def samples(self, obj: SemSet, waits: Waits) -> Iterable[Sample]:
        yield Sample(SEMAPHORES, obj.nsems)
        if obj.pids:  # semctl answered: the counts are the kernel's
            yield Sample(WAITERS, sum(obj.ncnt), ("increase",))
            yield Sample(WAITERS, sum(obj.zcnt), ("zero",))

    def find(self, snapshot: Snapshot, ident: int, ipc_ns: int = 0) -> SemSet | None:
        namespace = snapshot.namespace(ipc_ns) if ipc_ns else None
        return (namespace.sem if namespace is not None else snapshot.sem).get(ident)

    def limit_uses(self, snapshot: Snapshot) -> Iterable[LimitUse]:
        limits = snapshot.limits
        if limits is not None:
            yield LimitUse("sem_sets", "objects", limits.semmni, len(snapshot.sem))
            yield LimitUse("semaphores", "objects", limits.semmns, sum(s.nsems for s in snapshot.sem.values()))


KIND = SysvSem()
