"""The actions themselves, over ipctop.kernel.sysv, taking values already validated.

Each function does one thing or nothing: when a step after the first fails
(semctl SETALL after semget), what the first step made is removed again.
Failures are IpcError (from the kernel) or HoldingError; the next snapshot shows
the effect, nothing here keeps state about the objects.

`create_*` without `excl` behave like the C calls with IPC_CREAT alone: when an
object with the key exists, they return it unchanged (`Created.created` is False),
provided its mode grants the access `mode` asks for (else EACCES, as in C).
"""

from __future__ import annotations

import errno
import os
import signal
from dataclasses import dataclass

from ipctop.actions import requests as rq
from ipctop.actions.holdings import Holding, Holdings
from ipctop.actions.validators import OBJECT_NAMES, current_limits, lookup, signal_name
from ipctop.actions.waiting import Cancelled, Waits
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.model import STOPPED_STATES

__all__ = ["Cancelled", "Created", "Outcome", "Received", "Waits", "perform"]


@dataclass(frozen=True, slots=True)
class Created:
    kind: str
    ident: int
    key: int  # 0 for a private object
    created: bool  # False: an object with that key existed and is returned unchanged


@dataclass(frozen=True, slots=True)
class Received:
    mtype: int
    data: bytes


def _create(kind: str, key: int, excl: bool, make, open_existing) -> Created:  # type: ignore[no-untyped-def]
    try:
        return Created(kind, make(), key, True)
    except IpcError as error:
        if key == sysv.IPC_PRIVATE or excl or error.errno != errno.EEXIST:
            raise
    return Created(kind, open_existing(), key, False)


def create_shm(key: int, size: int, mode: int, excl: bool) -> Created:
    return _create(
        "shm", key, excl,
        lambda: sysv.shmget(key, size, sysv.IPC_CREAT | sysv.IPC_EXCL | mode),
        lambda: sysv.shmget(key, size, mode),
    )


def create_msg(key: int, mode: int, excl: bool) -> Created:
    return _create(
        "msg", key, excl,
        lambda: sysv.msgget(key, sysv.IPC_CREAT | sysv.IPC_EXCL | mode),
        lambda: sysv.msgget(key, mode),
    )


def create_sem(key: int, values: list[int] | tuple[int, ...], mode: int, excl: bool) -> Created:
    """A new set with these initial values; an existing set keeps the values it has."""

    def make() -> int:
        semid = sysv.semget(key, len(values), sysv.IPC_CREAT | sysv.IPC_EXCL | mode)
        try:
            sysv.sem_setall(semid, list(values))
        except IpcError:
            sysv.sem_remove(semid)
            raise
        return semid

    return _create("sem", key, excl, make, lambda: sysv.semget(key, len(values), mode))


def remove(kind: str, ident: int) -> None:
    {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)


def shm_set(shmid: int, mode: int | None = None, uid: int | None = None, gid: int | None = None) -> None:
    """IPC_SET; what is None stays as /proc/sysvipc shows it (readable without the segment's permission)."""
    row = lookup("shm", shmid)
    if row is None:
        raise IpcError("shm", f"segment {shmid}", errno.EINVAL, "shmctl(IPC_SET)")
    sysv.shm_set_perm(
        shmid,
        uid=row.uid if uid is None else uid,  # type: ignore[union-attr]
        gid=row.gid if gid is None else gid,  # type: ignore[union-attr]
        mode=(row.perms & 0o777) if mode is None else mode,  # type: ignore[union-attr]
    )


def send(msqid: int, mtype: int, data: bytes, nowait: bool = False, cancel: Waits | None = None) -> None:
    """msgsnd; one that waits while the queue is full blocks in msgsnd, stopped by `cancel` (waiting.py)."""
    if nowait or cancel is None:
        sysv.msgsnd(msqid, mtype, data, nowait=nowait)
        return
    cancel.run(lambda: sysv.msgsnd(msqid, mtype, data), f"sending to queue {msqid}")


def receive(msqid: int, mtype: int, max_size: int, nowait: bool = False, cancel: Waits | None = None) -> Received:
    """One message as msgrcv(2) picks it by type.

    A receive that waits blocks in msgrcv, where everyone sees it wait; with
    `cancel` it stops when cancel.cancel() is called (waiting.py).
    """
    if nowait or cancel is None:
        return Received(*sysv.msgrcv(msqid, mtype, max_size, nowait=nowait))
    return Received(*cancel.run(lambda: sysv.msgrcv(msqid, mtype, max_size), f"receiving from queue {msqid}"))


def sem_op(semid: int, index: int, delta: int, nowait: bool = False, cancel: Waits | None = None) -> None:
    """semop on one semaphore; one that waits blocks in semop (counted in semncnt/semzcnt), stopped by `cancel`."""
    if nowait or cancel is None:
        sysv.semop(semid, index, delta, nowait=nowait)
        return
    cancel.run(lambda: sysv.semop(semid, index, delta), f"the operation on semaphore {semid}[{index}]")


def sem_set(semid: int, index: int, value: int) -> None:
    sysv.sem_setval(semid, index, value)


def send_signal(pid: int, signum: int) -> str:
    """kill(2) to one process by pid; refusals are IpcError like the rest.  Returns '', or the note
    that the signal waits: a stopped process acts on none but KILL and CONT until it is continued."""
    try:
        os.kill(pid, signum)
    except OSError as error:
        raise IpcError("process", f"process {pid}", error.errno or errno.EINVAL, "kill") from None
    if signum in (signal.SIGKILL, signal.SIGCONT) or _state(pid) not in STOPPED_STATES:
        return ""
    return (f"process {pid} is stopped: {signal_name(signum)} waits until it is continued (SIGCONT); "
            "SIGKILL would end it at once")


def _state(pid: int) -> str:
    """The one-letter state of process `pid` ('' once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            record = stat.read()
    except OSError:
        return ""
    return record[record.rindex(b")") + 2 :][:1].decode()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `perform` did: one sentence for a notification, and what it produced, if anything."""

    message: str
    result: Created | Received | Holding | None = None


def perform(
    request: rq.Request, holdings: Holdings, cancel: Waits | None = None, max_message: int | None = None
) -> Outcome:
    """Carry out a request from a form and say in one sentence what was done.

    Raises IpcError, HoldingError or Cancelled.  Receives and waiting semaphore
    operations can block: call this from a worker thread and pass `cancel`.
    A POSIX request (actions/posix_requests.py) carries itself out.
    """
    carry_out = getattr(request, "perform", None)
    if carry_out is not None:
        return carry_out(cancel)  # type: ignore[no-any-return]
    match request:
        case rq.ShmCreateRequest(key, size, mode, excl):
            return _created(create_shm(key, size, mode, excl))
        case rq.MsgCreateRequest(key, mode, excl):
            return _created(create_msg(key, mode, excl))
        case rq.SemCreateRequest(key, values, mode, excl):
            return _created(create_sem(key, values, mode, excl))
        case rq.AttachRequest(shmid, readonly):
            holding = holdings.attach(shmid, readonly=readonly)
            how = "read-only" if readonly else "read-write"
            return Outcome(f"attached segment {shmid} {how} at {holding.address:#x}", holding)
        case rq.DetachRequest(shmid):
            holdings.detach(shmid)
            return Outcome(f"detached segment {shmid}")
        case rq.WriteRequest(shmid, offset, data):
            holdings.write(shmid, offset, data)
            return Outcome(f"wrote {len(data)} bytes at offset {offset} of segment {shmid}")
        case rq.ShmSetRequest(shmid, mode, uid, gid):
            shm_set(shmid, mode=mode, uid=uid, gid=gid)
            return Outcome(f"changed the mode or owner of segment {shmid}")
        case rq.RemoveRequest(kind, ident):
            remove(kind, ident)
            return Outcome(f"removed {OBJECT_NAMES[kind]} {ident}")
        case rq.MsgSendRequest(msqid, mtype, data, nowait):
            send(msqid, mtype, data, nowait, cancel)
            return Outcome(f"sent {len(data)} bytes of type {mtype} to queue {msqid}")
        case rq.MsgReceiveRequest(msqid, mtype, nowait):
            received = receive(msqid, mtype, max_message or current_limits().msgmax, nowait, cancel)
            text = received.data.decode("utf-8", "replace")
            return Outcome(f"received a message of type {received.mtype} from queue {msqid}: {text!r}", received)
        case rq.SemOpRequest(semid, index, delta, nowait):
            sem_op(semid, index, delta, nowait, cancel)
            return Outcome(f"did {delta:+d} on semaphore {semid}[{index}]")
        case rq.SemSetRequest(semid, index, value):
            sem_set(semid, index, value)
            return Outcome(f"set semaphore {semid}[{index}] to {value}")
        case rq.KillRequest(pid, signum):
            pending = send_signal(pid, signum)
            return Outcome(f"sent {signal_name(signum)} to process {pid}" + (f"; {pending}" if pending else ""))
    raise TypeError(f"not a request: {request!r}")


def _created(created: Created) -> Outcome:
    noun = OBJECT_NAMES[created.kind]
    key = "private" if created.key == 0 else f"key {created.key:#010x}"
    verb = "created" if created.created else "found the existing"
    return Outcome(f"{verb} {noun} {created.ident} ({key})", created)
