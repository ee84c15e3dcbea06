"""POSIX IPC calls by name, through libc (ctypes): shm_open, mq_*, sem_*.

Like glibc, POSIX shared memory is a file in /dev/shm (shm_open is open(2) there
with O_NOFOLLOW) and a named semaphore is the file `sem.NAME` beside it; message
queues are reached by mq_open whether or not /dev/mqueue is mounted.  Every
failure raises `IpcError` with the kind `pshm`, `pmsg` or `psem`.

Also here, for reading without side effects: `process_vm_read` (another process's
view of a mapping), `read_noatime` (a file's bytes without moving its atime) and
`statx_nosync` (attributes of an fd's target that never wait for a filesystem).

Structure layouts are the generic 64-bit ones (x86_64, aarch64).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import time
from typing import NamedTuple

from ipctop.kernel.errors import IpcError
from ipctop.kernel.libc import libc

DEV_SHM = "/dev/shm"
SEM_PREFIX = "sem."
NAME_MAX = 255
SEM_VALUE_MAX = 2**31 - 1
# glibc's sem_t on 64-bit: a 64-bit word (value in the low half, waiters in the high
# half), an int `private` (FUTEX_SHARED, 128, for a named semaphore) and padding.
SEM_SIZE = 32
GLIBC_SEM_SHARED = 128

# Function objects of our own (libc()[name] makes a new one each time): argtypes set on libc()'s
# shared attributes would change the calls of every other module that uses them.
_libc = type("_Functions", (), {name: libc()[name] for name in (
    "mq_open", "mq_getattr", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_unlink", "sem_open", "sem_close",
    "sem_post", "sem_wait", "sem_trywait", "sem_timedwait", "sem_getvalue", "sem_unlink", "process_vm_readv",
    "statx",
)})


class _Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


class _MqAttr(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_long),
        ("maxmsg", ctypes.c_long),
        ("msgsize", ctypes.c_long),
        ("curmsgs", ctypes.c_long),
        ("reserved", ctypes.c_long * 4),
    ]


class _SigEvent(ctypes.Structure):
    # struct sigevent is 64 bytes: value, signo, notify, then a union we leave zero
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("union", ctypes.c_int * 12)]


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


_libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_MqAttr)]
_libc.mq_getattr.argtypes = [ctypes.c_int, ctypes.POINTER(_MqAttr)]
_libc.mq_timedsend.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                               ctypes.POINTER(_Timespec)]
_libc.mq_timedreceive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint),
                                  ctypes.POINTER(_Timespec)]
_libc.mq_timedreceive.restype = ctypes.c_ssize_t
_libc.mq_notify.argtypes = [ctypes.c_int, ctypes.POINTER(_SigEvent)]
_libc.mq_unlink.argtypes = [ctypes.c_char_p]
_libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
_libc.sem_open.restype = ctypes.c_void_p
for _function in (_libc.sem_close, _libc.sem_post, _libc.sem_wait, _libc.sem_trywait):
    _function.argtypes = [ctypes.c_void_p]
_libc.sem_timedwait.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Timespec)]
_libc.sem_getvalue.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
_libc.sem_unlink.argtypes = [ctypes.c_char_p]
_libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_ulong,
                                   ctypes.POINTER(_IoVec), ctypes.c_ulong, ctypes.c_ulong]
_libc.process_vm_readv.restype = ctypes.c_ssize_t

SEM_FAILED = ctypes.c_void_p(0).value  # sem_open returns (sem_t *) 0 on failure in glibc
SIGEV_SIGNAL = 0
SIGEV_NONE = 1


def canonical(name: str) -> str:
    """`x` or `/x` -> `/x`: the form the C calls take."""
    return name if name.startswith("/") else f"/{name}"


def bare(name: str) -> str:
    return name.lstrip("/")


def shm_path(name: str) -> str:
    return f"{DEV_SHM}/{bare(name)}"


def sem_path(name: str) -> str:
    return f"{DEV_SHM}/{SEM_PREFIX}{bare(name)}"


def _fail(kind: str, target: str, call: str, err: int | None = None) -> IpcError:
    return IpcError(kind, target, err if err is not None else ctypes.get_errno(), call)


def _deadline(timeout: float) -> _Timespec:
    """An absolute CLOCK_REALTIME time `timeout` seconds from now, as mq_timed* and sem_timedwait take."""
    sec, frac = divmod(time.time() + max(timeout, 0.0), 1.0)
    return _Timespec(int(sec), int(frac * 1e9))


# --- shared memory -----------------------------------------------------------------


def shm_open(name: str, flags: int, mode: int = 0o600) -> int:
    """shm_open(3) as glibc does it: open(/dev/shm/NAME, flags|O_NOFOLLOW|O_CLOEXEC, mode)."""
    try:
        return os.open(shm_path(name), flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as error:
        raise _fail("pshm", f"shared memory {canonical(name)}", "shm_open", error.errno) from None


def shm_unlink(name: str) -> None:
    try:
        os.unlink(shm_path(name))
    except OSError as error:
        raise _fail("pshm", f"shared memory {canonical(name)}", "shm_unlink", error.errno) from None


def set_file_owner(kind: str, path: str, label: str, mode: int | None = None, uid: int = -1, gid: int = -1) -> None:
    """chmod/chown of a file in /dev/shm (never through a symbolic link)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _fail(kind, label, "lstat", errno.EINVAL)
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid, follow_symlinks=False)
        if mode is not None:
            os.chmod(path, mode)
    except OSError as error:
        raise _fail(kind, label, "chown" if mode is None else "chmod", error.errno) from None


# --- message queues ----------------------------------------------------------------


class QueueAttributes(NamedTuple):
    flags: int
    max_messages: int
    message_size: int
    messages: int


def mq_open(name: str, flags: int, mode: int = 0o600, max_messages: int | None = None,
            message_size: int | None = None) -> int:
    """mq_open(3); the capacity is given with O_CREAT only (None: the system's defaults)."""
    attr = None
    if max_messages is not None and message_size is not None:
        attr = ctypes.pointer(_MqAttr(0, max_messages, message_size, 0))
    fd = _libc.mq_open(os.fsencode(canonical(name)), flags | os.O_CLOEXEC, mode, attr)
    if fd < 0:
        raise _fail("pmsg", f"queue {canonical(name)}", "mq_open")
    return fd


def mq_getattr(fd: int, label: str = "queue") -> QueueAttributes:
    attr = _MqAttr()
    if _libc.mq_getattr(fd, ctypes.byref(attr)) != 0:
        raise _fail("pmsg", label, "mq_getattr")
    return QueueAttributes(attr.flags, attr.maxmsg, attr.msgsize, attr.curmsgs)


def mq_send(fd: int, data: bytes, priority: int, timeout: float | None = None, label: str = "queue") -> bool:
    """mq_timedsend; False when `timeout` seconds passed with the queue full (None: wait as long as it takes)."""
    deadline = ctypes.byref(_deadline(timeout)) if timeout is not None else None
    if _libc.mq_timedsend(fd, data, len(data), priority, deadline) != 0:
        err = ctypes.get_errno()
        if err == errno.ETIMEDOUT and timeout is not None:
            return False
        raise _fail("pmsg", label, "mq_send", err)
    return True


def mq_receive(fd: int, message_size: int, timeout: float | None = None,
               label: str = "queue") -> tuple[bytes, int] | None:
    """mq_timedreceive: (bytes, priority) of the oldest message of the highest priority; None on time-out."""
    buffer = ctypes.create_string_buffer(max(message_size, 1))
    priority = ctypes.c_uint(0)
    deadline = ctypes.byref(_deadline(timeout)) if timeout is not None else None
    count = _libc.mq_timedreceive(fd, buffer, len(buffer), ctypes.byref(priority), deadline)
    if count < 0:
        err = ctypes.get_errno()
        if err == errno.ETIMEDOUT and timeout is not None:
            return None
        raise _fail("pmsg", label, "mq_receive", err)
    return buffer.raw[:count], priority.value


def mq_notify(fd: int, signo: int | None, label: str = "queue") -> None:
    """Register this process to get `signo` when a message arrives in the empty queue; None unregisters."""
    event = None if signo is None else ctypes.byref(_SigEvent(None, signo, SIGEV_SIGNAL))
    if _libc.mq_notify(fd, event) != 0:
        raise _fail("pmsg", label, "mq_notify")


def mq_unlink(name: str) -> None:
    if _libc.mq_unlink(os.fsencode(canonical(name))) != 0:
        raise _fail("pmsg", f"queue {canonical(name)}", "mq_unlink")


def fd_set_owner(kind: str, fd: int, label: str, mode: int | None = None, uid: int = -1, gid: int = -1) -> None:
    """fchmod/fchown of an open object (a queue descriptor is an fd on Linux)."""
    try:
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        if mode is not None:
            os.fchmod(fd, mode)
    except OSError as error:
        raise _fail(kind, label, "fchown" if mode is None else "fchmod", error.errno) from None


# --- named semaphores --------------------------------------------------------------


def sem_open(name: str, flags: int, mode: int = 0o600, value: int = 0) -> int:
    """sem_open(3): the address of the semaphore as this process maps it."""
    address = _libc.sem_open(os.fsencode(canonical(name)), flags, mode, value)
    if not address:
        raise _fail("psem", f"semaphore {canonical(name)}", "sem_open")
    return address


def sem_close(address: int) -> None:
    _libc.sem_close(address)


def sem_post(address: int, label: str = "semaphore") -> None:
    if _libc.sem_post(address) != 0:
        raise _fail("psem", label, "sem_post")


def sem_wait(address: int, timeout: float | None = None, label: str = "semaphore", restart: bool = True) -> bool:
    """sem_wait, or sem_trywait for timeout 0, sem_timedwait otherwise; False when it would wait longer.

    A signal handler interrupts sem_wait whatever SA_RESTART says (signal(7)): with `restart` the wait
    goes on (until the same deadline), without it the EINTR is raised (actions/waiting.py stops waits
    that way)."""
    deadline = _deadline(timeout) if timeout else None
    while True:
        if timeout == 0:
            result, call = _libc.sem_trywait(address), "sem_trywait"
        elif deadline is None:
            result, call = _libc.sem_wait(address), "sem_wait"
        else:
            result, call = _libc.sem_timedwait(address, ctypes.byref(deadline)), "sem_timedwait"
        if result == 0:
            return True
        err = ctypes.get_errno()
        if (err == errno.EAGAIN and timeout == 0) or (err == errno.ETIMEDOUT and timeout is not None):
            return False
        if err != errno.EINTR or not restart:
            raise _fail("psem", label, call, err)


def sem_getvalue(address: int, label: str = "semaphore") -> int:
    value = ctypes.c_int(0)
    if _libc.sem_getvalue(address, ctypes.byref(value)) != 0:
        raise _fail("psem", label, "sem_getvalue")
    return value.value


def sem_unlink(name: str) -> None:
    if _libc.sem_unlink(os.fsencode(canonical(name))) != 0:
        raise _fail("psem", f"semaphore {canonical(name)}", "sem_unlink")


class GlibcSemaphore(NamedTuple):
    value: int
    waiters: int


def decode_glibc_semaphore(data: bytes) -> GlibcSemaphore | None:
    """The value and waiter count of a named semaphore's first bytes, if they have glibc's 64-bit layout."""
    if len(data) < 16:
        return None
    word = int.from_bytes(data[0:8], "little")
    private = int.from_bytes(data[8:12], "little")
    if private != GLIBC_SEM_SHARED:
        return None
    value, waiters = word & 0xFFFF_FFFF, word >> 32
    if value > SEM_VALUE_MAX:
        return None
    return GlibcSemaphore(value, waiters)


# --- reading without side effects --------------------------------------------------


def process_vm_read(pid: int, address: int, length: int) -> bytes:
    """`length` bytes at `address` in process `pid` (its own view; changes nothing); raises OSError."""
    buffer = ctypes.create_string_buffer(length)
    local = _IoVec(ctypes.cast(buffer, ctypes.c_void_p), length)
    remote = _IoVec(address, length)
    count = _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if count < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return buffer.raw[:count]


def read_noatime(path: str, length: int, offset: int = 0) -> bytes:
    """Bytes of a file read without updating its atime (O_NOATIME: the owner or CAP_FOWNER); raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NOATIME | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_STATX_DONT_SYNC = 0x4000
_STATX_BASIC_AND_BIRTH = 0xFFF
_STATX_BTIME = 0x800


class _StatxTimestamp(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("reserved", ctypes.c_int32)]


class _Statx(ctypes.Structure):
    _fields_ = [
        ("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32), ("attributes", ctypes.c_uint64),
        ("nlink", ctypes.c_uint32), ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32), ("mode", ctypes.c_uint16),
        ("spare0", ctypes.c_uint16), ("ino", ctypes.c_uint64), ("size", ctypes.c_uint64),
        ("blocks", ctypes.c_uint64), ("attributes_mask", ctypes.c_uint64),
        ("atime", _StatxTimestamp), ("btime", _StatxTimestamp), ("ctime", _StatxTimestamp),
        ("mtime", _StatxTimestamp),
        ("rdev_major", ctypes.c_uint32), ("rdev_minor", ctypes.c_uint32),
        ("dev_major", ctypes.c_uint32), ("dev_minor", ctypes.c_uint32),
        ("spare", ctypes.c_uint64 * 14),
    ]


_libc.statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_Statx)]


class FileStatus(NamedTuple):
    mode: int
    uid: int
    gid: int
    size: int
    blocks: int
    ino: int
    dev: int
    atime: float
    mtime: float
    ctime: float
    btime: float = 0.0  # when it was made, where the filesystem records it (tmpfs does); 0 otherwise


def statx_nosync(path: str, follow: bool = True) -> FileStatus:
    """stat() of `path` (following a /proc/PID/fd link) with AT_STATX_DONT_SYNC: a network or FUSE
    filesystem answers from what it has cached instead of being asked; raises OSError."""
    buffer = _Statx()
    flags = AT_STATX_DONT_SYNC | (0 if follow else AT_SYMLINK_NOFOLLOW)
    if _libc.statx(AT_FDCWD, os.fsencode(path), flags, _STATX_BASIC_AND_BIRTH, ctypes.byref(buffer)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)

    def seconds(ts: _StatxTimestamp) -> float:
        return ts.sec + ts.nsec / 1e9

    return FileStatus(buffer.mode, buffer.uid, buffer.gid, buffer.size, buffer.blocks, buffer.ino,
                      os.makedev(buffer.dev_major, buffer.dev_minor), seconds(buffer.atime), seconds(buffer.mtime),
                      seconds(buffer.ctime), seconds(buffer.btime) if buffer.mask & _STATX_BTIME else 0.0)
