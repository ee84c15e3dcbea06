"""Another process's open file, duplicated without opening it again (pidfd_getfd, Linux 5.6).

Opening /proc/PID/fd/N is a new open of the file: for a pipe or FIFO it adds a
reader or writer for that moment (a writer whose reader has exited would not get
EPIPE; a FIFO writer blocked in open() would be woken).  pidfd_getfd gives a
duplicate of the process's own open file instead, as dup() would in that
process: no open, no new reader or writer, no inotify event.  It needs the right
to ptrace the process (root, or the same user where ptrace is not restricted).
"""

from __future__ import annotations

import ctypes
import os

from ipctop.kernel.libc import libc

# the same number on every architecture (added after the system call tables were unified)
SYS_PIDFD_GETFD = 438


class PidfdUnavailable(OSError):
    """The duplicate could not be made (no such process, not allowed, or an older kernel)."""


def open_pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError) as error:
        raise PidfdUnavailable(getattr(error, "errno", 0), str(error)) from None


def duplicate_fd(pidfd: int, fd: int) -> int:
    """A new fd of ours on the process's open file `fd` (O_CLOEXEC); close it when done."""
    result = libc().syscall(SYS_PIDFD_GETFD, ctypes.c_int(pidfd), ctypes.c_int(fd), ctypes.c_uint(0))
    if result < 0:
        errno = ctypes.get_errno()
        raise PidfdUnavailable(errno, os.strerror(errno))
    return result
