"""Per-object state that only the IPC system calls give: a queue's capacity and
the value, waiters and last pid of every semaphore in a set."""

from __future__ import annotations

import time
from typing import NamedTuple

from ipctop.kernel.errors import IpcError

# ipctop.kernel.sysv (ctypes, libc) is imported on the first call, not here: most
# machines hold no queue or semaphore set, and `ipctop list` should not pay for it.


class SemState(NamedTuple):
    values: tuple[int, ...]
    ncnt: tuple[int, ...]
    zcnt: tuple[int, ...]
    pids: tuple[int, ...]


NO_SEM_STATE = SemState((), (), (), ())


def queue_capacity(msqid: int) -> int | None:
    """msg_qbytes, or None when the reader may not IPC_STAT the queue."""
    from ipctop.kernel import sysv

    try:
        return sysv.msg_stat(msqid).qbytes
    except IpcError:
        return None


CLOCK_SLACK = 0.1  # seconds the wall clock may lag the monotonic one between scans before it counts as set back


class QueueCapacities:
    """Each queue's capacity, kept from one scan to the next while its ctime says it cannot have changed.

    msg_qbytes changes only through msgctl(IPC_SET), which sets the queue's ctime to the second it
    is made in (so does the queue's creation).  A capacity read in a second later than the queue's
    ctime is kept while the ctime stands still: an IPC_SET after the reading would move the ctime to a
    later second.  One read in the very second of the ctime is read again at the next scan (a second
    IPC_SET may follow in that second).  A wall clock set back could give a later IPC_SET the ctime of
    an earlier one, so a clock set back since the previous scan forgets everything kept.  One per
    Scanner (snapshot.Memory), for ipctop's own IPC namespace."""

    __slots__ = ("_kept", "_clock")

    def __init__(self) -> None:
        self._kept: dict[int, tuple[int, int | None]] = {}  # msqid -> (ctime, msg_qbytes) when read
        self._clock: float | None = None  # the wall clock less the monotonic one, at the previous scan

    def start_scan(self, msqids: set[int]) -> None:
        """Forget the queues not in this scan's table, and everything if the wall clock went back."""
        clock = time.time() - time.monotonic()
        if self._clock is not None and clock < self._clock - CLOCK_SLACK:
            self._kept.clear()
        self._clock = clock
        for msqid in self._kept.keys() - msqids:
            del self._kept[msqid]

    def of(self, msqid: int, ctime: int) -> int | None:
        """The capacity of queue `msqid` whose table line shows `ctime` (queue_capacity's answer)."""
        kept = self._kept.get(msqid)
        if kept is not None and kept[0] == ctime:
            return kept[1]
        read_at = time.time()
        qbytes = queue_capacity(msqid)
        if ctime < int(read_at):
            self._kept[msqid] = (ctime, qbytes)
        else:
            self._kept.pop(msqid, None)
        return qbytes


def semaphore_state(semid: int, nsems: int) -> SemState:
    from ipctop.kernel import sysv

    try:
        values = sysv.sem_getall(semid, nsems)
        ncnt, zcnt, pids = sysv.sem_counts(semid, nsems)
    except IpcError:
        return NO_SEM_STATE
    return SemState(values, ncnt, zcnt, pids)
