"""Read another process's memory, and stat a path without waiting on its filesystem.

`read_memory` is process_vm_readv(2): it reads the process's view of its memory
and changes nothing in it or in any IPC object (no lpid, atime or nattch).  It
needs ptrace access (the same user, or root); every failure is None, since what
is read is a detail a caller can do without.

`stat_fifo_inode` is statx(2) with AT_STATX_DONT_SYNC: a network or FUSE filesystem
may answer from what it has cached instead of asking its server, so a stuck
server cannot hold the scan.
"""

from __future__ import annotations

import ctypes
import stat

from ipctop.kernel.libc import libc

_libc = libc()
AT_FDCWD = -100
AT_STATX_DONT_SYNC = 0x4000
STATX_TYPE = 0x1
STATX_INO = 0x100


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_process_vm_readv = _libc.process_vm_readv
_process_vm_readv.argtypes = [
    ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_ulong, ctypes.POINTER(_IoVec), ctypes.c_ulong, ctypes.c_ulong,
]
_process_vm_readv.restype = ctypes.c_ssize_t


def read_memory(pid: int, address: int, size: int) -> bytes | None:
    """`size` bytes at `address` in process `pid`, or None when they cannot all be read."""
    if size <= 0 or address <= 0:
        return None
    buffer = ctypes.create_string_buffer(size)
    local = _IoVec(ctypes.cast(buffer, ctypes.c_void_p), size)
    remote = _IoVec(address, size)
    done = _process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buffer.raw if done == size else None


def read_string(pid: int, address: int, limit: int = 4096) -> str | None:
    """The NUL-terminated string at `address` in process `pid` (a path argument), or None."""
    chunk = 256
    data = b""
    while len(data) < limit:
        # read up to the end of the page, so that a string near the end of its mapping still reads
        size = min(chunk, 4096 - (address + len(data)) % 4096)
        part = read_memory(pid, address + len(data), size)
        if part is None:
            return None
        end = part.find(b"\0")
        if end >= 0:
            return (data + part[:end]).decode("utf-8", "surrogateescape")
        data += part
    return None


class _Statx(ctypes.Structure):
    _fields_ = [
        ("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32), ("attributes", ctypes.c_uint64),
        ("nlink", ctypes.c_uint32), ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32),
        ("mode", ctypes.c_uint16), ("_pad", ctypes.c_uint16), ("ino", ctypes.c_uint64),
        ("_rest", ctypes.c_uint8 * 216),
    ]


_statx = getattr(_libc, "statx", None)
if _statx is not None:
    _statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_Statx)]
    _statx.restype = ctypes.c_int


def stat_fifo_inode(path: str) -> int | None:
    """The inode of the FIFO at `path` (following symlinks, as open() does), None when it is not one
    or cannot be looked at; cached attributes are enough (AT_STATX_DONT_SYNC)."""
    if _statx is None:
        return None
    result = _Statx()
    name = path.encode("utf-8", "surrogateescape")
    if _statx(AT_FDCWD, name, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, ctypes.byref(result)):
        return None
    if not stat.S_ISFIFO(result.mode) or not result.mask & STATX_INO:
        return None
    return result.ino
