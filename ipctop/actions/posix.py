"""The actions on POSIX objects (shm_open, mq_*, sem_*), taking names and values already validated.

Each function does one thing or nothing: an object this call created is unlinked
again if a later step fails (ftruncate, fchmod).  A mode is given exactly, as
asked (the C calls would apply the umask to it).  Failures are IpcError; a wait
that is given `cancel` is one blocked call that cancel.cancel() interrupts
(actions/waiting.py: Cancelled).

Reading a shared memory object changes nothing: its file is read with O_NOATIME
(its owner or root), or its bytes are read through a process that maps it; when
neither is allowed, `read_pshm` refuses rather than move its atime.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass

from ipctop.actions.waiting import Waits
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError


@dataclass(frozen=True, slots=True)
class PosixCreated:
    kind: str  # pshm, psem, pmsg
    name: str
    created: bool  # False: it existed, and was left as it was


def _label(kind: str, name: str) -> str:
    return {"pshm": "shared memory", "psem": "semaphore", "pmsg": "queue"}[kind] + f" {name}"


def _give_mode(kind: str, name: str, fd: int, mode: int) -> None:
    try:
        os.fchmod(fd, mode)  # the umask took bits away: the user asked for this mode
    except OSError as error:
        raise IpcError(kind, _label(kind, name), error.errno or errno.EPERM, "fchmod") from None


# --- shared memory -------------------------------------------------------------------


def create_pshm(name: str, size: int, mode: int, excl: bool) -> PosixCreated:
    try:
        fd = posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
    except IpcError as error:
        if excl or error.errno != errno.EEXIST:
            raise
        return PosixCreated("pshm", name, False)
    try:
        os.ftruncate(fd, size)
        _give_mode("pshm", name, fd, mode)
    except OSError as error:
        with contextlib.suppress(IpcError):
            posix.shm_unlink(name)
        raise IpcError("pshm", _label("pshm", name), error.errno or errno.EINVAL, "ftruncate") from None
    except IpcError:
        with contextlib.suppress(IpcError):
            posix.shm_unlink(name)
        raise
    finally:
        os.close(fd)
    return PosixCreated("pshm", name, True)


def unlink(kind: str, name: str) -> None:
    {"pshm": posix.shm_unlink, "psem": posix.sem_unlink, "pmsg": posix.mq_unlink}[kind](name)


def read_pshm(name: str, offset: int, length: int, path: str | None = None) -> bytes:
    """`length` bytes at `offset`, read without changing anything (see the module's docstring)."""
    path = path or posix.shm_path(name)
    try:
        return posix.read_noatime(path, length, offset)
    except OSError as error:
        if error.errno != errno.EPERM:
            raise IpcError("pshm", _label("pshm", name), error.errno or errno.EIO, "open(O_NOATIME)") from None
    for pid, address, size in _mappers(path):
        if offset + length <= size:
            with contextlib.suppress(OSError):
                return posix.process_vm_read(pid, address + offset, length)
    raise IpcError("pshm", _label("pshm", name), errno.EPERM,
                   "read without changing its atime (you are not its owner, and no process you may read maps it)")


def _mappers(path: str) -> list[tuple[int, int, int]]:
    """(pid, address of offset 0, bytes mapped from there) of the processes that map the file at `path`."""
    from ipctop.collectors.mappings import POSIX, MapsPass
    from ipctop.collectors.procfs import ProcFS

    st = os.stat(path)
    proc = ProcFS()
    found = []
    for pid, mappings in MapsPass(proc, None, st.st_dev).scan(proc.pids()).items():
        for m in mappings:
            if m.kind == POSIX and m.inode == st.st_ino and m.offset == 0:
                found.append((pid, m.start, m.end - m.start))
    return found


def write_pshm(name: str, offset: int, data: bytes) -> None:
    fd = posix.shm_open(name, os.O_RDWR)
    try:
        os.pwrite(fd, data, offset)
    except OSError as error:
        raise IpcError("pshm", _label("pshm", name), error.errno or errno.EIO, "pwrite") from None
    finally:
        os.close(fd)


def set_owner(kind: str, name: str, mode: int | None = None, uid: int = -1, gid: int = -1) -> None:
    """chmod/chown of a shm object, a named semaphore or a queue."""
    if kind == "pmsg":
        fd = posix.mq_open(name, os.O_RDONLY)
        try:
            posix.fd_set_owner(kind, fd, _label(kind, name), mode, uid, gid)
        finally:
            os.close(fd)
        return
    path = posix.sem_path(name) if kind == "psem" else posix.shm_path(name)
    posix.set_file_owner(kind, path, _label(kind, name), mode, uid, gid)


# --- message queues ------------------------------------------------------------------


def create_pmsg(name: str, mode: int, excl: bool, max_messages: int | None = None,
                message_size: int | None = None) -> PosixCreated:
    """A new queue; a capacity given in part takes the rest from fs/mqueue/*_default."""
    if (max_messages is None) != (message_size is None):
        from ipctop.actions.posix_values import _read_limit

        max_messages = max_messages or _read_limit("msg_default", 10)
        message_size = message_size or _read_limit("msgsize_default", 8192)
    try:
        fd = posix.mq_open(name, os.O_RDONLY | os.O_CREAT | os.O_EXCL, mode, max_messages, message_size)
    except IpcError as error:
        if excl or error.errno != errno.EEXIST:
            raise
        return PosixCreated("pmsg", name, False)
    try:
        _give_mode("pmsg", name, fd, mode)
    except IpcError:
        with contextlib.suppress(IpcError):
            posix.mq_unlink(name)
        raise
    finally:
        os.close(fd)
    return PosixCreated("pmsg", name, True)


def queue_attributes(name: str) -> posix.QueueAttributes:
    fd = posix.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return posix.mq_getattr(fd, _label("pmsg", name))
    finally:
        os.close(fd)


def send_pmsg(name: str, data: bytes, priority: int, nowait: bool = False, cancel: Waits | None = None) -> None:
    """mq_send; one that waits while the queue is full blocks in mq_send, stopped by `cancel` (waiting.py)."""
    fd = posix.mq_open(name, os.O_WRONLY | (os.O_NONBLOCK if nowait else 0))
    label = _label("pmsg", name)
    try:
        size = posix.mq_getattr(fd, label).message_size
        if len(data) > size:
            raise IpcError("pmsg", label, errno.EMSGSIZE, f"mq_send of {len(data)} bytes (its messages are "
                                                          f"at most {size})")
        if cancel is None:
            posix.mq_send(fd, data, priority, None, label)
            return
        cancel.run(lambda: posix.mq_send(fd, data, priority, None, label), f"sending to queue {name}")
    finally:
        os.close(fd)


def receive_pmsg(name: str, nowait: bool = False, timeout: float | None = None,
                 cancel: Waits | None = None) -> tuple[bytes, int] | None:
    """The oldest message of the highest priority and its priority; None when `timeout` passed.  One that
    waits blocks in mq_timedreceive, where everyone sees it wait, stopped by `cancel` (waiting.py)."""
    fd = posix.mq_open(name, os.O_RDONLY | (os.O_NONBLOCK if nowait else 0))
    label = _label("pmsg", name)
    try:
        size = posix.mq_getattr(fd, label).message_size
        if cancel is None:
            return posix.mq_receive(fd, size, timeout, label)
        return cancel.run(lambda: posix.mq_receive(fd, size, timeout, label), f"receiving from queue {name}")
    finally:
        os.close(fd)


# --- named semaphores ----------------------------------------------------------------


def create_psem(name: str, value: int, mode: int, excl: bool) -> PosixCreated:
    try:
        address = posix.sem_open(name, os.O_CREAT | os.O_EXCL, mode, value)
    except IpcError as error:
        if excl or error.errno != errno.EEXIST:
            raise
        return PosixCreated("psem", name, False)
    posix.sem_close(address)
    try:
        posix.set_file_owner("psem", posix.sem_path(name), _label("psem", name), mode)
    except IpcError:
        with contextlib.suppress(IpcError):
            posix.sem_unlink(name)
        raise
    return PosixCreated("psem", name, True)


@contextlib.contextmanager
def _opened_semaphore(name: str):  # type: ignore[no-untyped-def]
    address = posix.sem_open(name, 0)
    try:
        yield address
    finally:
        posix.sem_close(address)


def sem_value(name: str) -> int:
    with _opened_semaphore(name) as address:
        return posix.sem_getvalue(address, _label("psem", name))


def post_psem(name: str, count: int = 1) -> int:
    """sem_post `count` times; returns the value after."""
    label = _label("psem", name)
    with _opened_semaphore(name) as address:
        for _ in range(count):
            posix.sem_post(address, label)
        return posix.sem_getvalue(address, label)


def wait_psem(name: str, nowait: bool = False, timeout: float | None = None, cancel: Waits | None = None) -> bool:
    """sem_wait (or sem_trywait with `nowait`); False when it would have waited longer than `timeout`.  One
    that waits blocks in sem_wait (a futex wait on the semaphore), stopped by `cancel` (waiting.py)."""
    label = _label("psem", name)
    with _opened_semaphore(name) as address:
        if nowait:
            if not posix.sem_wait(address, 0, label):
                raise IpcError("psem", label, errno.EAGAIN, "sem_trywait")
            return True
        if cancel is None:
            return posix.sem_wait(address, timeout, label)
        return cancel.run(lambda: posix.sem_wait(address, timeout, label, restart=False),
                          f"waiting on semaphore {name}")


def set_psem(name: str, value: int, max_steps: int) -> tuple[int, int]:
    """Bring the value to `value` by sem_post (which wakes waiters) or sem_trywait (which never blocks);
    (before, after).  There is no sem_setvalue: a value that others change meanwhile may end elsewhere."""
    label = _label("psem", name)
    with _opened_semaphore(name) as address:
        before = posix.sem_getvalue(address, label)
        if abs(value - before) > max_steps:
            raise IpcError("psem", label, errno.ERANGE,
                           f"set from {before} to {value} ({abs(value - before)} posts or waits; at most "
                           f"{max_steps} are made)")
        for _ in range(value - before):
            posix.sem_post(address, label)
        for _ in range(before - value):
            if not posix.sem_wait(address, 0, label):
                break  # another process took it meanwhile: it is lower already
        return before, posix.sem_getvalue(address, label)
