"""Per-object state that only the IPC system calls give: a queue's capacity and
the value, waiters and last pid of every semaphore in a set."""

from __future__ import annotations

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


def semaphore_state(semid: int, nsems: int) -> SemState:
    from ipctop.kernel import sysv

    try:
        values = sysv.sem_getall(semid, nsems)
        ncnt, zcnt, pids = sysv.sem_counts(semid, nsems)
    except IpcError:
        return NO_SEM_STATE
    return SemState(values, ncnt, zcnt, pids)
