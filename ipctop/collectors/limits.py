"""IPC limits from /proc/sys/kernel and /proc/sys/fs.

`kernel.shm*`, `msg*` and `sem` are the reading thread's IPC namespace's own (each namespace
has its own); `fs.pipe-max-size` is the machine's.  Each file is read with one open and one
read (no buffered file object: a scan of 100 namespaces reads 700 of them).
"""

from __future__ import annotations

import os

from ipctop.collectors.procfs import ProcFS
from ipctop.model import Limits

_KERNEL = ("shmmax", "shmall", "shmmni", "msgmax", "msgmnb", "msgmni")


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


def read_limits(proc: ProcFS, pipe_max_size: int | None = None) -> Limits:
    """The limits; `pipe_max_size` when it is known already (it is not per namespace)."""
    kernel = proc.path("sys", "kernel")
    semmsl, semmns, semopm, semmni = (_numbers(f"{kernel}/sem") + [0, 0, 0, 0])[:4]
    values = {name: (_numbers(f"{kernel}/{name}") or [0])[0] for name in _KERNEL}
    if pipe_max_size is None:
        pipe_max_size = (_numbers(proc.path("sys", "fs", "pipe-max-size")) or [0])[0]
    return Limits(**values, semmsl=semmsl, semmns=semmns, semopm=semopm, semmni=semmni,
                  pipe_max_size=pipe_max_size)
