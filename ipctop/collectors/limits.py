"""System-wide IPC limits from /proc/sys/kernel and /proc/sys/fs."""

from __future__ import annotations

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
    )
