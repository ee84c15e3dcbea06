"""Every kind of object the exporter knows, one module each.

A new kind (POSIX shared memory, message queues, named semaphores, memfd) is a
module here with a subclass of `ObjectKind`, added to KINDS: the totals, the
--max-series cut, the leak counts, the limits and the scope labels come from
build.py for every kind alike.
"""

from __future__ import annotations

from ipctop.exporter.kinds import pipes, posix, sysv_msg, sysv_sem, sysv_shm
from ipctop.exporter.kinds.base import LimitUse, ObjectKind, Sample

KINDS: tuple[ObjectKind, ...] = (sysv_shm.KIND, sysv_msg.KIND, sysv_sem.KIND, pipes.PIPES, pipes.FIFOS,
                                 posix.PSHM, posix.PSEM, posix.PMSG, posix.MEMFD)

__all__ = ["KINDS", "LimitUse", "ObjectKind", "Sample"]
