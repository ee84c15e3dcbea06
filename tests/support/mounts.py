"""Run test code where the mqueue filesystem is mounted, without mounting it for anyone else.

The function runs in a forked child that has a mount namespace of its own
(unshare(CLONE_NEWNS), every mount made private) and mounts the mqueue
filesystem of its IPC namespace on a temporary directory; the mount dies with
the child and the directory is removed.  What the function returns comes back
as JSON, like tests/support/unprivileged.py.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

from ipctop.kernel.libc import libc
from tests.support.forked import answer, answer_of
from tests.support.scratch import scratch_dir

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def with_mqueue_mounted(function: Callable[[str], object]) -> object:
    """Call `function(mount_point)` in a child where the mqueue filesystem is mounted there; return its result."""
    c = libc()
    c.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    c.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    point = scratch_dir("ipctop-test-mqueue-")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)

        def mounted() -> object:
            _check(c.unshare(CLONE_NEWNS), "unshare")
            _check(c.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
            _check(c.mount(b"none", point.encode(), b"mqueue", 0, None), "mount -t mqueue")
            try:
                return function(point)
            finally:
                c.umount2(point.encode(), 0)

        answer(write_fd, mounted)
    os.close(write_fd)
    try:
        return answer_of(read_fd, pid)
    finally:
        os.rmdir(point)


CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8


def in_own_pid_namespace(function: Callable[[], object], mqueue: bool = False) -> object:
    """Call `function()` as pid 1 of a new pid namespace with its own /proc (and, with `mqueue`, the
    mqueue filesystem mounted on a temporary directory): there every process ipctop sees is one the
    test made, and each can be inspected.  Returns what `function` returns (as JSON)."""
    c = libc()
    c.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    point = scratch_dir("ipctop-test-mqueue-") if mqueue else ""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_fd)
            _check(c.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
            _check(c.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
            inner = os.fork()
            if inner == 0:

                def inside() -> object:
                    _check(c.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount proc")
                    if point:
                        _check(c.mount(b"none", point.encode(), b"mqueue", 0, None), "mount -t mqueue")
                    return function()

                answer(write_fd, inside)
            os.close(write_fd)
            os.waitpid(inner, 0)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        return answer_of(read_fd, pid, nothing="the namespace ended without an answer")
    finally:
        if point:
            os.rmdir(point)
