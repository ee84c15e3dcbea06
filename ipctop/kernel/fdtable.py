"""A thread's own table of fds: unshare(CLONE_FILES), called from one thread.

After it, the calling thread opens and closes fds in a table of its own, a copy of the
process's at that moment; the others keep theirs.  /proc/PID/fd shows the main thread's
table only, so files this thread holds are not among the process's fds for lsof, for
another ipctop, or for ipctop reading itself.
"""

from __future__ import annotations

import ctypes
import os

from ipctop.kernel.libc import libc

CLONE_FILES = 0x00000400


def own_fd_table() -> None:
    """Give the calling thread an fd table of its own, empty; OSError where the kernel refuses."""
    unshare = libc().unshare
    unshare.argtypes = [ctypes.c_int]
    if unshare(CLONE_FILES) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    # the copy holds every fd the process had open: kept, a pipe's end would hold it open after
    # the process closed its own
    os.closerange(0, os.sysconf("SC_OPEN_MAX"))
