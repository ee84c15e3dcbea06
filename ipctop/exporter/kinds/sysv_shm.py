"""System V shared memory segments: size, attachments, attached processes, resident bytes."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ipctop.exporter.kinds.base import LimitUse, ObjectKind, Sample
from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import ShmSegment, Snapshot
from ipctop.render.formatting import hex_key

_ID = ("shmid", "key", "owner")
SIZE = Metric("ipctop_shm_size_bytes", "Size of a System V shared memory segment.", _ID, scoped=True)
ATTACHMENTS = Metric("ipctop_shm_attachments", "Attachments of a segment (the kernel's nattch; a process that "
                     "attaches twice, or forks, counts twice).", _ID, scoped=True)
ATTACHED = Metric("ipctop_shm_attached_processes", "Distinct processes that have a segment attached; absent when "
                  "the scan could not find all of them (see ipctop_incomplete_objects).", _ID, scoped=True)
RESIDENT = Metric("ipctop_shm_resident_bytes", "Bytes of a segment resident in memory.", _ID, scoped=True)
MARKED = Metric("ipctop_shm_marked_for_removal", "1 when a segment was removed (IPC_RMID) and lives on only until "
                "its last process detaches.", _ID, scoped=True)


def _page_rounded(size: int, page: int) -> int:
    return -(-size // page) * page


class SysvShm(ObjectKind):
    name = "shm"
    identity = _ID
    metrics = (SIZE, ATTACHMENTS, ATTACHED, RESIDENT, MARKED)
    leaks = True

    def objects(self, snapshot: Snapshot) -> Iterable[ShmSegment]:
        return snapshot.all_shm()  # of every IPC namespace: build.py labels each with its own

    def labels(self, obj: ShmSegment) -> tuple[str, ...]:
        return str(obj.shmid), hex_key(obj.display_key), obj.owner

    def rank(self, obj: ShmSegment, waits: Waits) -> tuple:
        return obj.size, obj.nattch, -obj.shmid

    def samples(self, obj: ShmSegment, waits: Waits) -> Iterable[Sample]:
        yield Sample(SIZE, obj.size)
        yield Sample(ATTACHMENTS, obj.nattch)
        if obj.attachers_complete:
            yield Sample(ATTACHED, len({a.pid for a in obj.attachers}))
        yield Sample(RESIDENT, obj.rss)
        yield Sample(MARKED, 1 if obj.marked_for_removal else 0)

    def complete(self, obj: ShmSegment) -> bool:
        return obj.attachers_complete

    def held_bytes(self, obj: ShmSegment) -> int:
        return obj.size

    def find(self, snapshot: Snapshot, ident: int, ipc_ns: int = 0) -> ShmSegment | None:
        namespace = snapshot.namespace(ipc_ns) if ipc_ns else None
        return (namespace.shm if namespace is not None else snapshot.shm).get(ident)

    def limit_uses(self, snapshot: Snapshot) -> Iterable[LimitUse]:
        limits = snapshot.limits
        if limits is None:
            return
        page = os.sysconf("SC_PAGE_SIZE")
        segments = snapshot.shm.values()
        yield LimitUse("shm_segments", "objects", limits.shmmni, len(segments))
        # shmall counts pages, and the kernel charges every segment whole pages
        used = sum(_page_rounded(s.size, page) for s in segments)
        yield LimitUse("shm_memory", "bytes", float(limits.shmall) * page, used)


KIND = SysvShm()
