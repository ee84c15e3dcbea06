"""IPC limits from /proc/sys/kernel and /proc/sys/fs, and the size of /dev/shm.

`kernel.shm*`, `msg*`, `sem` and `fs.mqueue.*` are the reading thread's IPC namespace's own
(each namespace has its own); `fs.pipe-max-size` is the machine's, and /dev/shm is the
mount namespace's (ipctop's own: a thread that joins another IPC namespace keeps its
mounts).  Each file is read with one open and one read (no buffered file object: a scan
of 100 namespaces reads 700 of them).
"""

from __future__ import annotations

import os

from ipctop.collectors.procfs import ProcFS
from ipctop.model import Limits

_KERNEL = ("shmmax", "shmall", "shmmni", "msgmax", "msgmnb", "msgmni")
_MQUEUE = (("mq_queues_max", "queues_max"), ("mq_msg_max", "msg_max"), ("mq_msgsize_max", "msgsize_max"),
           ("mq_msg_default", "msg_default"), ("mq_msgsize_default", "msgsize_default"))


def _numbers(path: str) -> list[int]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        return [int(v) for v in os.read(fd, 256).split()]
    except (OSError, ValueError):
        return []
    finally:
        os.close(fd)


def read_limits(proc: ProcFS, pipe_max_size: int | None = None, *, dev_shm: bool = True) -> Limits:
    """The limits; `pipe_max_size` when it is known already (it is not per namespace); `dev_shm`:
    also the size and use of /dev/shm (not for another IPC namespace: its /dev/shm is not ours)."""
    kernel = proc.path("sys", "kernel")
    semmsl, semmns, semopm, semmni = (_numbers(f"{kernel}/sem") + [0, 0, 0, 0])[:4]
    values = {name: (_numbers(f"{kernel}/{name}") or [0])[0] for name in _KERNEL}
    if pipe_max_size is None:
        pipe_max_size = (_numbers(proc.path("sys", "fs", "pipe-max-size")) or [0])[0]
    mqueue = proc.path("sys", "fs", "mqueue")
    posix: dict[str, int | None] = {field: (_numbers(f"{mqueue}/{name}") or [None])[0] for field, name in _MQUEUE}
    if dev_shm and proc.is_live:
        # a tmpfs: statvfs waits on nothing
        try:
            vfs = os.statvfs("/dev/shm")
            posix["dev_shm_size"] = vfs.f_blocks * vfs.f_frsize
            posix["dev_shm_used"] = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
        except OSError:
            pass
    return Limits(**values, semmsl=semmsl, semmns=semmns, semopm=semopm, semmni=semmni,
                  pipe_max_size=pipe_max_size, **posix)
