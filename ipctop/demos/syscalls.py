"""The few calls the demos make that ipctop's kernel layer has no use for.

ftok(3) is how a C server and client agree on a key; prctl(PR_SET_NAME) gives
each demo process a name (its role) that ps, top and ipctop show as its command;
prctl(PR_SET_PDEATHSIG) makes a demo's process end with the one that started it.
"""

from __future__ import annotations

import ctypes
import os

from ipctop.kernel.libc import libc

_libc = libc()
_libc.ftok.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.ftok.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

# prctl with a number as second argument (a function object of its own: `_libc.prctl` takes a name)
_prctl_numbers = _libc["prctl"]
_prctl_numbers.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
COMM_LENGTH = 15


def ftok(path: str, project_id: int) -> int:
    """The key glibc derives from the file's inode and device and `project_id`."""
    key = _libc.ftok(os.fsencode(path), project_id)
    if key == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return key & 0xFFFFFFFF


def set_process_name(name: str) -> None:
    """Set /proc/self/comm (at most 15 bytes), which ps and ipctop show."""
    _libc.prctl(PR_SET_NAME, name.encode()[:COMM_LENGTH], 0, 0, 0)


def die_with_parent(parent: int, signum: int) -> None:
    """Have `signum` sent to this process when its parent `parent` ends, and act on it now if it already has.

    The kernel sends it when the thread that forked this process exits, so the
    parent must fork from a thread that lives as long as it does (the main one).
    A parent that died before the prctl is caught by the getppid() check after it:
    this process was re-parented by then.
    """
    if _prctl_numbers(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


_mmap, _munmap = _libc["mmap"], _libc["munmap"]  # function objects of our own: their argtypes are ours
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_mmap.restype = ctypes.c_void_p
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PROT_READ, PROT_WRITE = 1, 2
MAP_SHARED = 1
MAP_FAILED = ctypes.c_void_p(-1).value


def mmap_shared(fd: int, size: int, writable: bool = True) -> int:
    """mmap(NULL, size, PROT_READ[|PROT_WRITE], MAP_SHARED, fd, 0): the address, as C gets it (Python's
    mmap module would keep a duplicate of the fd, which a C program does not have)."""
    address = _mmap(None, size, PROT_READ | (PROT_WRITE if writable else 0), MAP_SHARED, fd, 0)
    if address in (None, MAP_FAILED):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return address


def munmap(address: int, size: int) -> None:
    if _munmap(address, size) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
