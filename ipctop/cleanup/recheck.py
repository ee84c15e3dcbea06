"""The check just before a removal: does this id still name the object that was judged?

Ids are reused: between the scan and the removal the object may have been
removed and its id given to a new one, or a process may have started using it.
Either way the kernel state read now differs from the candidate's: the key or
ctime (another object), or a last-user pid or time (someone used it).  Any
difference leaves the object alone.  A refusal to IPC_STAT (EACCES) is raised
as IpcError for the caller to report as a failure, not a skip.

It asks the kernel about this one object only (IPC_STAT, and for a set a few
semctl per semaphore), so that the removal can follow it at once: nothing in it
grows with the number of processes.  Who is blocked on the object is read from
/proc before it (remove.py).
"""

from __future__ import annotations

import errno
import os

from ipctop.cleanup.leaks import LeakCandidate
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.model import SHM_DEST
from ipctop.render.formatting import hex_key

_GONE = (errno.EINVAL, errno.EIDRM)


def _stat(candidate: LeakCandidate) -> sysv.ShmStat | sysv.MsgStat | sysv.SemStat | None:
    stat = {"shm": sysv.shm_stat, "msg": sysv.msg_stat, "sem": sysv.sem_stat}[candidate.kind]
    try:
        return stat(candidate.id)
    except IpcError as error:
        if error.errno in _GONE:
            return None
        raise


def _identity_changed(candidate: LeakCandidate, key: int, ctime: int) -> str | None:
    if key != candidate.key:
        return f"id {candidate.id} now names another object (key {hex_key(key)})"
    if ctime != candidate.ctime:
        return "it was changed or replaced since the scan (its ctime differs)"
    return None


def _used(what: str, then: tuple[int, ...], now: tuple[int, ...]) -> str:
    return f"it was used since the scan ({what} {', '.join(map(str, then))} -> {', '.join(map(str, now))})"


def check_unchanged(candidate: LeakCandidate, read_by_us: bool = False) -> str | None:
    """None when the object is still the one judged and still unused; else why to leave it.

    `read_by_us`: this process has itself attached the segment (or received the
    queue's messages) for the backup, so its own pid and the times that moved
    with that are expected.
    """
    try:
        return _check(candidate, read_by_us)
    except IpcError as error:
        if error.errno in _GONE:
            return _NO_LONGER
        raise


_NO_LONGER = "it no longer exists (removed since the scan)"


def _check(candidate: LeakCandidate, read_by_us: bool) -> str | None:
    stat = _stat(candidate)
    if stat is None:
        return _NO_LONGER
    changed = _identity_changed(candidate, stat.key, stat.ctime)
    if changed:
        return changed
    if isinstance(stat, sysv.ShmStat):
        return _shm_in_use(candidate, stat, read_by_us)
    if isinstance(stat, sysv.MsgStat):
        return _msg_in_use(candidate, stat, read_by_us)
    return _sem_in_use(candidate, stat)


def _shm_in_use(candidate: LeakCandidate, stat: sysv.ShmStat, read_by_us: bool) -> str | None:
    if stat.mode & SHM_DEST:
        return "it was marked for removal since the scan"
    if stat.nattch:
        return f"a process attached it since the scan (nattch {stat.nattch})"
    cpid, lpid = candidate.users
    if stat.cpid != cpid:
        return f"id {candidate.id} now names another segment (created by pid {stat.cpid}, not {cpid})"
    if read_by_us:
        if stat.lpid != os.getpid():
            return _used("lpid", (os.getpid(),), (stat.lpid,))
    elif (stat.lpid, stat.atime, stat.dtime) != (lpid, *candidate.times):
        return _used("lpid, atime, dtime", (lpid, *candidate.times), (stat.lpid, stat.atime, stat.dtime))
    return None


def _msg_in_use(candidate: LeakCandidate, stat: sysv.MsgStat, read_by_us: bool) -> str | None:
    lspid, lrpid = candidate.users
    stime, rtime = candidate.times
    if (stat.lspid, stat.stime) != (lspid, stime):
        return _used("lspid, stime", (lspid, stime), (stat.lspid, stat.stime))
    if read_by_us:
        if stat.qnum:
            return f"messages arrived while it was being backed up ({stat.qnum} now)"
        if stat.lrpid not in (lrpid, os.getpid()):
            return _used("lrpid", (lrpid,), (stat.lrpid,))
    elif (stat.lrpid, stat.rtime) != (lrpid, rtime):
        return _used("lrpid, rtime", (lrpid, rtime), (stat.lrpid, stat.rtime))
    return None


def _sem_in_use(candidate: LeakCandidate, stat: sysv.SemStat) -> str | None:
    if (stat.otime,) != candidate.times:
        return _used("otime", candidate.times, (stat.otime,))
    if stat.nsems != len(candidate.users):
        return f"it has {stat.nsems} semaphores now, not {len(candidate.users)}"
    pids = tuple(sysv.sem_get(candidate.id, i, sysv.GETPID) for i in range(stat.nsems))
    if pids != candidate.users:
        return _used("sempids", candidate.users, pids)
    waiting = sum(sysv.sem_get(candidate.id, i, command) for i in range(stat.nsems)
                  for command in (sysv.GETNCNT, sysv.GETZCNT))
    if waiting:
        return f"{waiting} processes wait on it now"
    return None
