"""System-wide IPC limits from /proc/sys/kernel and /proc/sys/fs, and the size of /dev/shm."""

from __future__ import annotations

import os

from ipctop.collectors.procfs import ProcFS
from ipctop.model import Limits


def read_limits(proc: ProcFS) -> Limits:
    try:
        sem = [int(v) for v in proc.read_text("sys", "kernel", "sem").split()]
    except (OSError, ValueError):
        sem = []
    semmsl, semmns, semopm, semmni = (sem + [0, 0, 0, 0])[:4]
    kernel = ("sys", "kernel")
    return Limits(
        shmmax=proc.read_int(*kernel, "shmmax"),
        shmall=proc.read_int(*kernel, "shmall"),
        shmmni=proc.read_int(*kernel, "shmmni"),
        msgmax=proc.read_int(*kernel, "msgmax"),
        msgmnb=proc.read_int(*kernel, "msgmnb"),
        msgmni=proc.read_int(*kernel, "msgmni"),
        semmsl=semmsl,
        semmns=semmns,
        semopm=semopm,
        semmni=semmni,
        pipe_max_size=proc.read_int("sys", "fs", "pipe-max-size"),
        **_posix_limits(proc),
    )


def _posix_limits(proc: ProcFS) -> dict[str, int | None]:
    """fs/mqueue/* and the size and use of /dev/shm (a tmpfs: statvfs, which waits on nothing)."""
    mqueue = ("sys", "fs", "mqueue")

    def number(name: str) -> int | None:
        value = proc.read_int(*mqueue, name, default=-1)
        return None if value < 0 else value

    size = used = None
    if proc.is_live:
        try:
            vfs = os.statvfs("/dev/shm")
            size = vfs.f_blocks * vfs.f_frsize
            used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
        except OSError:
            pass
    return dict(mq_queues_max=number("queues_max"), mq_msg_max=number("msg_max"),
                mq_msgsize_max=number("msgsize_max"), mq_msg_default=number("msg_default"),
                mq_msgsize_default=number("msgsize_default"), dev_shm_size=size, dev_shm_used=used)
