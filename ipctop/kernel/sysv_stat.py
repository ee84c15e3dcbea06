"""What IPC_STAT returns of a System V object (kernel/sysv.py's shm_stat, msg_stat, sem_stat).

A module of its own so that a scan, which calls kernel/sysv.py for semaphore values
but never IPC_STAT, does not make these classes at start-up; `sysv.ShmStat`
and the others still name them (sysv's module __getattr__).
"""

from __future__ import annotations

from ipctop.frozen import frozen


@frozen
class IpcStat:
    """What IPC_STAT returns that /proc/sysvipc does not, and the identity fields."""

    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    ctime: int


@frozen
class ShmStat(IpcStat):
    size: int
    nattch: int
    cpid: int
    lpid: int
    atime: int
    dtime: int


@frozen
class MsgStat(IpcStat):
    qbytes: int
    qnum: int
    cbytes: int
    lspid: int
    lrpid: int
    stime: int
    rtime: int


@frozen
class SemStat(IpcStat):
    nsems: int
    otime: int
