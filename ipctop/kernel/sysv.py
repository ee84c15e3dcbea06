"""System V IPC system calls by id, through libc (ctypes).

sysv_ipc opens objects by key and handles only one-semaphore sets; ipctop works
on ids of objects other programs made and on whole semaphore sets, so the calls
it needs by id are here.  Every failure raises `IpcError`.

The struct layouts are glibc's generic 64-bit ones (x86_64, aarch64).
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import TYPE_CHECKING, Any

from ipctop.kernel.errors import IpcError
from ipctop.kernel.libc import libc

if TYPE_CHECKING:
    from ipctop.kernel.sysv_stat import MsgStat, SemStat, ShmStat

IPC_PRIVATE = 0
IPC_CREAT = 0o1000
IPC_EXCL = 0o2000
IPC_NOWAIT = 0o4000
IPC_RMID = 0
IPC_SET = 1
IPC_STAT = 2
SHM_RDONLY = 0o10000
MSG_NOERROR = 0o10000
GETPID = 11
GETVAL = 12
GETALL = 13
GETNCNT = 14
GETZCNT = 15
SETVAL = 16
SETALL = 17
SEM_UNDO = 0x1000
SEMVMX = 32767

_libc = libc()


class _IpcPerm(ctypes.Structure):
    _fields_ = [
        ("key", ctypes.c_int),
        ("uid", ctypes.c_uint),
        ("gid", ctypes.c_uint),
        ("cuid", ctypes.c_uint),
        ("cgid", ctypes.c_uint),
        ("mode", ctypes.c_uint),
        ("seq", ctypes.c_ushort),
        ("pad2", ctypes.c_ushort),
        ("reserved1", ctypes.c_ulong),
        ("reserved2", ctypes.c_ulong),
    ]


class _ShmidDs(ctypes.Structure):
    _fields_ = [
        ("perm", _IpcPerm),
        ("segsz", ctypes.c_size_t),
        ("atime", ctypes.c_long),
        ("dtime", ctypes.c_long),
        ("ctime", ctypes.c_long),
        ("cpid", ctypes.c_int),
        ("lpid", ctypes.c_int),
        ("nattch", ctypes.c_ulong),
        ("reserved5", ctypes.c_ulong),
        ("reserved6", ctypes.c_ulong),
    ]


class _MsqidDs(ctypes.Structure):
    _fields_ = [
        ("perm", _IpcPerm),
        ("stime", ctypes.c_long),
        ("rtime", ctypes.c_long),
        ("ctime", ctypes.c_long),
        ("cbytes", ctypes.c_ulong),
        ("qnum", ctypes.c_ulong),
        ("qbytes", ctypes.c_ulong),
        ("lspid", ctypes.c_int),
        ("lrpid", ctypes.c_int),
        ("reserved4", ctypes.c_ulong),
        ("reserved5", ctypes.c_ulong),
    ]


class _SemidDs(ctypes.Structure):
    # x86 keeps a reserved word after each time field; the generic 64-bit layout does not.
    _fields_ = (
        [
            ("perm", _IpcPerm),
            ("otime", ctypes.c_long),
            ("reserved1", ctypes.c_ulong),
            ("ctime", ctypes.c_long),
            ("reserved2", ctypes.c_ulong),
        ]
        if os.uname().machine in ("x86_64", "i686", "i386")  # platform.machine(), without importing platform
        else [("perm", _IpcPerm), ("otime", ctypes.c_long), ("ctime", ctypes.c_long)]
    ) + [
        ("nsems", ctypes.c_ulong),
        ("reserved3", ctypes.c_ulong),
        ("reserved4", ctypes.c_ulong),
    ]


class _Sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]


_libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmat.restype = ctypes.c_void_p
_libc.shmdt.argtypes = [ctypes.c_void_p]
_libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_ShmidDs)]
_libc.msgget.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.msgctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_MsqidDs)]
_libc.msgsnd.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.msgrcv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long, ctypes.c_int]
_libc.msgrcv.restype = ctypes.c_ssize_t
_libc.semget.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
_libc.semop.argtypes = [ctypes.c_int, ctypes.POINTER(_Sembuf), ctypes.c_size_t]
# semctl is variadic: its fourth argument (union semun) is passed as a pointer-sized word.
_libc.semctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]


def _check(result: int, kind: str, target: str, call: str) -> int:
    if result == -1:
        raise IpcError(kind, target, ctypes.get_errno(), call)
    return result


def _to_signed_key(key: int) -> int:
    """key_t is a signed int; ipctop keeps keys as unsigned 32-bit numbers."""
    return key - (1 << 32) if key >= 1 << 31 else key


def _from_signed_key(key: int) -> int:
    return key & 0xFFFFFFFF


def _perm_fields(perm: _IpcPerm) -> dict[str, int]:
    return {
        "key": _from_signed_key(perm.key),
        "uid": perm.uid,
        "gid": perm.gid,
        "cuid": perm.cuid,
        "cgid": perm.cgid,
        "mode": perm.mode,
    }


# --- shared memory -----------------------------------------------------------


def shmget(key: int, size: int, flags: int) -> int:
    return _check(_libc.shmget(_to_signed_key(key), size, flags), "shm", f"key {key:#010x}", "shmget")


def shm_stat(shmid: int) -> ShmStat:
    from ipctop.kernel.sysv_stat import ShmStat

    ds = _ShmidDs()
    _check(_libc.shmctl(shmid, IPC_STAT, ctypes.byref(ds)), "shm", f"segment {shmid}", "shmctl(IPC_STAT)")
    return ShmStat(
        **_perm_fields(ds.perm),
        ctime=ds.ctime,
        size=ds.segsz,
        nattch=ds.nattch,
        cpid=ds.cpid,
        lpid=ds.lpid,
        atime=ds.atime,
        dtime=ds.dtime,
    )


def shm_set(shmid: int, *, mode: int | None = None, uid: int | None = None, gid: int | None = None) -> None:
    ds = _ShmidDs()
    target = f"segment {shmid}"
    _check(_libc.shmctl(shmid, IPC_STAT, ctypes.byref(ds)), "shm", target, "shmctl(IPC_STAT)")
    if mode is not None:
        ds.perm.mode = (ds.perm.mode & ~0o777) | (mode & 0o777)
    if uid is not None:
        ds.perm.uid = uid
    if gid is not None:
        ds.perm.gid = gid
    _check(_libc.shmctl(shmid, IPC_SET, ctypes.byref(ds)), "shm", target, "shmctl(IPC_SET)")


def shm_remove(shmid: int) -> None:
    _check(_libc.shmctl(shmid, IPC_RMID, None), "shm", f"segment {shmid}", "shmctl(IPC_RMID)")


def shmat(shmid: int, readonly: bool = False) -> int:
    address = _libc.shmat(shmid, None, SHM_RDONLY if readonly else 0)
    if address is None or address == ctypes.c_void_p(-1).value:
        raise IpcError("shm", f"segment {shmid}", ctypes.get_errno(), "shmat")
    return address


def shmdt(address: int) -> None:
    _check(_libc.shmdt(address), "shm", f"attachment at {address:#x}", "shmdt")


MADV_DONTNEED = 4
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def let_go(address: int, length: int) -> None:
    """Drop this process's page mappings of part of an attachment (madvise MADV_DONTNEED).

    The segment keeps its bytes (they live in the kernel's shared memory, not in
    the mapping), but pages read or written once no longer count in this process's
    resident memory: a segment streamed through an attachment costs a chunk, not its
    size.  `address` must be page aligned.  Best effort: a refusal changes nothing.
    """
    _libc.madvise(address, length, MADV_DONTNEED)


# --- message queues ----------------------------------------------------------


def msgget(key: int, flags: int) -> int:
    return _check(_libc.msgget(_to_signed_key(key), flags), "msg", f"key {key:#010x}", "msgget")


def msg_stat(msqid: int) -> MsgStat:
    from ipctop.kernel.sysv_stat import MsgStat

    ds = _MsqidDs()
    _check(_libc.msgctl(msqid, IPC_STAT, ctypes.byref(ds)), "msg", f"queue {msqid}", "msgctl(IPC_STAT)")
    return MsgStat(
        **_perm_fields(ds.perm),
        ctime=ds.ctime,
        qbytes=ds.qbytes,
        qnum=ds.qnum,
        cbytes=ds.cbytes,
        lspid=ds.lspid,
        lrpid=ds.lrpid,
        stime=ds.stime,
        rtime=ds.rtime,
    )


def msg_remove(msqid: int) -> None:
    _check(_libc.msgctl(msqid, IPC_RMID, None), "msg", f"queue {msqid}", "msgctl(IPC_RMID)")


def msgsnd(msqid: int, mtype: int, data: bytes, nowait: bool = False) -> None:
    buf = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + len(data))
    ctypes.c_long.from_buffer(buf).value = mtype
    ctypes.memmove(ctypes.addressof(buf) + ctypes.sizeof(ctypes.c_long), data, len(data))
    flags = IPC_NOWAIT if nowait else 0
    _check(_libc.msgsnd(msqid, buf, len(data), flags), "msg", f"queue {msqid}", "msgsnd")


def msgrcv(msqid: int, mtype: int, max_size: int, nowait: bool = False) -> tuple[int, bytes]:
    """Receive one message; `mtype` 0, > 0 and < 0 as msgrcv(2) says."""
    buf = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + max_size)
    flags = IPC_NOWAIT if nowait else 0
    size = _libc.msgrcv(msqid, buf, max_size, mtype, flags)
    _check(size, "msg", f"queue {msqid}", "msgrcv")
    received_type = ctypes.c_long.from_buffer(buf).value
    offset = ctypes.sizeof(ctypes.c_long)
    return received_type, buf.raw[offset : offset + size]


# --- semaphores --------------------------------------------------------------


def semget(key: int, nsems: int, flags: int) -> int:
    return _check(_libc.semget(_to_signed_key(key), nsems, flags), "sem", f"key {key:#010x}", "semget")


def sem_stat(semid: int) -> SemStat:
    from ipctop.kernel.sysv_stat import SemStat

    ds = _SemidDs()
    _check(_libc.semctl(semid, 0, IPC_STAT, ctypes.addressof(ds)), "sem", f"semaphore set {semid}", "semctl(IPC_STAT)")
    return SemStat(**_perm_fields(ds.perm), ctime=ds.ctime, nsems=ds.nsems, otime=ds.otime)


def sem_getall(semid: int, nsems: int) -> tuple[int, ...]:
    values = (ctypes.c_ushort * max(nsems, 1))()
    _check(_libc.semctl(semid, 0, GETALL, ctypes.addressof(values)), "sem", f"semaphore set {semid}", "semctl(GETALL)")
    return tuple(values[:nsems])


def sem_get(semid: int, index: int, command: int) -> int:
    """One of GETVAL, GETNCNT, GETZCNT, GETPID for semaphore `index`."""
    return _check(_libc.semctl(semid, index, command, None), "sem", f"semaphore {semid}[{index}]", "semctl")


def sem_counts(semid: int, nsems: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """GETNCNT, GETZCNT and GETPID of each semaphore of a set (3 x nsems semctl calls, one Python loop: a
    monitor makes them for every set at every scan)."""
    semctl = _libc.semctl
    ncnt, zcnt, pids = [], [], []
    for index in range(nsems):
        ncnt.append(semctl(semid, index, GETNCNT, None))
        zcnt.append(semctl(semid, index, GETZCNT, None))
        pids.append(semctl(semid, index, GETPID, None))
    if -1 in ncnt or -1 in zcnt or -1 in pids:
        raise IpcError("sem", f"semaphore set {semid}", ctypes.get_errno(), "semctl")
    return tuple(ncnt), tuple(zcnt), tuple(pids)


def sem_setval(semid: int, index: int, value: int) -> None:
    _check(_libc.semctl(semid, index, SETVAL, value), "sem", f"semaphore {semid}[{index}]", "semctl(SETVAL)")


def sem_setall(semid: int, values: list[int]) -> None:
    array = (ctypes.c_ushort * max(len(values), 1))(*values)
    _check(_libc.semctl(semid, 0, SETALL, ctypes.addressof(array)), "sem", f"semaphore set {semid}", "semctl(SETALL)")


def sem_remove(semid: int) -> None:
    _check(_libc.semctl(semid, 0, IPC_RMID, None), "sem", f"semaphore set {semid}", "semctl(IPC_RMID)")


def semop(semid: int, index: int, delta: int, nowait: bool = False, undo: bool = False) -> None:
    flags = (IPC_NOWAIT if nowait else 0) | (SEM_UNDO if undo else 0)
    op = _Sembuf(index, delta, flags)
    _check(_libc.semop(semid, ctypes.byref(op), 1), "sem", f"semaphore {semid}[{index}]", "semop")


class _Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


_libc.semtimedop.argtypes = [ctypes.c_int, ctypes.POINTER(_Sembuf), ctypes.c_size_t, ctypes.POINTER(_Timespec)]


def semtimedop(semid: int, index: int, delta: int, timeout: float, undo: bool = False) -> bool:
    """semop that waits at most `timeout` seconds; False when the time ran out.

    While it waits the caller counts in GETNCNT / GETZCNT like any other waiter,
    which lets a caller that must stay cancellable wait in short slices.
    """
    op = _Sembuf(index, delta, SEM_UNDO if undo else 0)
    whole = int(timeout)
    limit = _Timespec(whole, int((timeout - whole) * 1_000_000_000))
    if _libc.semtimedop(semid, ctypes.byref(op), 1, ctypes.byref(limit)) == -1:
        err = ctypes.get_errno()
        if err == errno.EAGAIN:
            return False
        raise IpcError("sem", f"semaphore {semid}[{index}]", err, "semtimedop")
    return True


# --- added for the cleanup: copy a queue's messages, set a queue's or a set's owner and mode ---

MSG_COPY = 0o40000


def msg_copy(msqid: int, index: int, max_size: int) -> tuple[int, bytes]:
    """Copy message number `index` (0 is the oldest) without receiving it.

    MSG_COPY leaves the queue, its lrpid and its rtime untouched; it needs a
    kernel built with CONFIG_CHECKPOINT_RESTORE (ENOSYS otherwise) and raises
    ENOMSG past the last message.
    """
    buf = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + max_size)
    size = _libc.msgrcv(msqid, buf, max_size, index, IPC_NOWAIT | MSG_COPY)
    _check(size, "msg", f"queue {msqid}", "msgrcv(MSG_COPY)")
    received_type = ctypes.c_long.from_buffer(buf).value
    offset = ctypes.sizeof(ctypes.c_long)
    return received_type, buf.raw[offset : offset + size]


def msg_set(
    msqid: int, *, mode: int | None = None, uid: int | None = None, gid: int | None = None, qbytes: int | None = None
) -> None:
    ds = _MsqidDs()
    target = f"queue {msqid}"
    _check(_libc.msgctl(msqid, IPC_STAT, ctypes.byref(ds)), "msg", target, "msgctl(IPC_STAT)")
    if mode is not None:
        ds.perm.mode = (ds.perm.mode & ~0o777) | (mode & 0o777)
    if uid is not None:
        ds.perm.uid = uid
    if gid is not None:
        ds.perm.gid = gid
    if qbytes is not None:
        ds.qbytes = qbytes
    _check(_libc.msgctl(msqid, IPC_SET, ctypes.byref(ds)), "msg", target, "msgctl(IPC_SET)")


def sem_set(semid: int, *, mode: int | None = None, uid: int | None = None, gid: int | None = None) -> None:
    ds = _SemidDs()
    target = f"semaphore set {semid}"
    _check(_libc.semctl(semid, 0, IPC_STAT, ctypes.addressof(ds)), "sem", target, "semctl(IPC_STAT)")
    if mode is not None:
        ds.perm.mode = (ds.perm.mode & ~0o777) | (mode & 0o777)
    if uid is not None:
        ds.perm.uid = uid
    if gid is not None:
        ds.perm.gid = gid
    _check(_libc.semctl(semid, 0, IPC_SET, ctypes.addressof(ds)), "sem", target, "semctl(IPC_SET)")


def shm_set_perm(shmid: int, uid: int, gid: int, mode: int) -> None:
    """IPC_SET with all three values given, so no IPC_STAT (read permission) is needed first.

    The owner or creator may change a segment it cannot read; `shm_set` would be
    refused EACCES by its IPC_STAT before the kernel could answer the IPC_SET.
    """
    ds = _ShmidDs()
    ds.perm.uid = uid
    ds.perm.gid = gid
    ds.perm.mode = mode & 0o777
    _check(_libc.shmctl(shmid, IPC_SET, ctypes.byref(ds)), "shm", f"segment {shmid}", "shmctl(IPC_SET)")


def __getattr__(name: str) -> Any:
    """`sysv.ShmStat` and the other IPC_STAT records, from their own module: a scan (which reads
    semaphores here) does not make their four record classes at start-up."""
    if name in ("IpcStat", "ShmStat", "MsgStat", "SemStat"):
        from ipctop.kernel import sysv_stat

        return getattr(sysv_stat, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
