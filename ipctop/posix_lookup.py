"""Which POSIX object a process's address or fd is: for telling what a blocked process waits on.

A process asleep in `futex(uaddr, FUTEX_WAIT…)` (/proc/PID/syscall, number 202 on
x86-64) waits on the word at `uaddr`: in a named semaphore's mapping (glibc's
sem_wait waits on its first word), or in shared memory a program uses for its own
locks.  A process asleep in mq_timedreceive or mq_timedsend waits on the queue
its first argument, an fd, is open on.  `PosixIndex(snapshot)` answers both from
the holders the snapshot found, without reading anything:

    index = PosixIndex(snapshot)
    index.at(pid, uaddr)   # -> ("psem", PosixSem) / ("pshm", PosixShm) / ("memfd", UnnamedShm) / None
    index.fd(pid, fd)      # -> ("pmsg", PosixQueue) / ("pshm", …) / None
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from ipctop.model import Snapshot

_KINDS = ("psem", "pshm", "memfd", "pmsg")


class PosixIndex:
    """The POSIX and unnamed objects of one snapshot, by (pid, address) and by (pid, fd)."""

    __slots__ = ("_starts", "_ranges", "_fds")

    def __init__(self, snapshot: Snapshot) -> None:
        ranges: dict[int, list[tuple[int, int, str, Any]]] = {}
        self._fds: dict[tuple[int, int], tuple[str, Any]] = {}
        for kind in _KINDS:
            for obj in getattr(snapshot, kind).values():
                for holder in obj.holders:
                    if holder.fd is not None:
                        self._fds[(holder.pid, holder.fd)] = (kind, obj)
                    else:
                        ranges.setdefault(holder.pid, []).append((holder.start, holder.end, kind, obj))
        self._ranges = {pid: sorted(found, key=lambda r: r[0]) for pid, found in ranges.items()}
        self._starts = {pid: [r[0] for r in found] for pid, found in self._ranges.items()}

    def at(self, pid: int, address: int) -> tuple[str, Any] | None:
        """The object `pid` maps at `address`, with its kind; None when no such mapping is known."""
        starts = self._starts.get(pid)
        if not starts:
            return None
        index = bisect_right(starts, address) - 1
        if index < 0:
            return None
        start, end, kind, obj = self._ranges[pid][index]
        return (kind, obj) if start <= address < end else None

    def fd(self, pid: int, fd: int) -> tuple[str, Any] | None:
        """The object `pid`'s fd `fd` is open on, with its kind; None when it is not one of them."""
        return self._fds.get((pid, fd))
