"""Who is blocked in which kind of IPC wait, on which object, and for how long.

`waits_in(snapshot)` groups the snapshot's waits (each thread's system call,
read from /proc/PID/task/TID/syscall; see collectors/waits.py) by process and
kind of wait: reading or writing a pipe or FIFO (directly, or in poll, select or
epoll), opening a FIFO, msgrcv, msgsnd, semop; sem_wait on a POSIX named semaphore,
mq_receive or mq_send on a POSIX queue, a futex in shared memory (shm_futex).  A wait the snapshot guessed
from wchan (its system call could not be read) stays a guess (`exact=False`),
on no object unless the process holds a single one it could be waiting on.

How long: `WaitClock` remembers, from one scan to the next, since when each
process has been asleep in the same wait without running.  "Without running" is
read from /proc/PID/schedstat (time on a CPU, time waiting for one, times
scheduled): a process whose counts are the same as at the previous scan has not
woken up in between.  A process that woke and blocked again starts again from
zero, so the duration is a lower bound that is exact to one scrape interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.model import EXITED_STATES, Snapshot
from ipctop.model import Wait as SnapshotWait

# The `wait` label: a kind of wait, named after the call a process is blocked in.
CALLS = ("pipe_read", "pipe_write", "fifo_open", "msgrcv", "msgsnd", "semop", "sem_wait", "mq_receive", "mq_send",
         "shm_futex")
_OPEN_CALLS = frozenset({"open", "openat", "openat2"})

ObjectRef = tuple[str, int]  # (kind, id): ("pipe", inode), ("fifo", inode), ("msg", msqid) ...


@dataclass(frozen=True, slots=True)
class Wait:
    """A process asleep in an IPC call; `objects` it may be waiting on (empty when unknown)."""

    pid: int
    start_time: float
    comm: str
    call: str
    objects: tuple[ObjectRef, ...] = ()
    exact: bool = True  # False: guessed from wchan (the system call could not be read)

    @property
    def key(self) -> tuple[int, float, str]:
        return self.pid, self.start_time, self.call


def _kind_of_wait(wait: SnapshotWait) -> str | None:
    if wait.kind in ("pipe", "fifo"):
        if wait.call in _OPEN_CALLS:
            return "fifo_open"
        return "pipe_write" if wait.mode == "w" else "pipe_read"
    if wait.kind == "msg":
        return wait.call if wait.call in ("msgrcv", "msgsnd") else None
    if wait.kind == "pmsg":
        return "mq_receive" if wait.mode == "r" else "mq_send"
    if wait.kind in ("pshm", "memfd"):
        return "shm_futex"  # a process-shared lock or semaphore a program keeps in shared memory
    return {"sem": "semop", "psem": "sem_wait"}.get(wait.kind)


def waits_in(snapshot: Snapshot) -> list[Wait]:
    """Every process of the snapshot blocked in an IPC wait, by kind of wait, with its objects."""
    waits = []
    for pid, process in snapshot.processes.items():
        if not process.waits or process.state in EXITED_STATES:
            continue
        objects: dict[str, list[ObjectRef]] = {}
        exact: dict[str, bool] = {}
        for wait in process.waits:
            call = _kind_of_wait(wait)
            if call is None:
                continue
            found = objects.setdefault(call, [])
            if wait.id is not None:
                found.append((wait.kind, wait.id))
            exact[call] = exact.get(call, True) and wait.exact
        for call, found in objects.items():
            waits.append(Wait(pid, process.start_time, process.comm, call, tuple(dict.fromkeys(found)), exact[call]))
    return waits


class Waits:
    """The waits of one scan with how long each has lasted (seconds, a lower bound)."""

    def __init__(self, waits: Iterable[tuple[Wait, float]] = ()) -> None:
        self.items = list(waits)
        self._on: dict[ObjectRef, list[tuple[Wait, float]]] = {}
        for wait, seconds in self.items:
            for ref in wait.objects:
                self._on.setdefault(ref, []).append((wait, seconds))

    def count(self, call: str) -> int:
        return sum(1 for wait, _ in self.items if wait.call == call)

    def longest(self, call: str) -> float:
        return max((seconds for wait, seconds in self.items if wait.call == call), default=0.0)

    def on(self, kind: str, ident: int, call: str) -> list[float]:
        """How long each process waiting in `call` on this object has waited."""
        return [seconds for wait, seconds in self._on.get((kind, ident), ()) if wait.call == call]


def schedstat_reader(proc: ProcFS) -> Callable[[int], bytes | None]:
    def read(pid: int) -> bytes | None:
        try:
            return proc.read_pid_record(pid, "schedstat")
        except (Gone, Denied, OSError):
            return None

    return read


class WaitClock:
    """Since when each process has been asleep in its wait without running, from scan to scan.

    Owned by whoever scans repeatedly (the exporter's collector); `measure` is
    called once per scan, with the scan's time.
    """

    def __init__(self, read_mark: Callable[[int], bytes | None]) -> None:
        self._read_mark = read_mark
        self._since: dict[tuple[int, float, str], tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def measure(self, waits: list[Wait], now: float) -> Waits:
        with self._lock:
            since: dict[tuple[int, float, str], tuple[float, bytes]] = {}
            measured = []
            for wait in waits:
                mark = self._read_mark(wait.pid)
                start = now
                previous = self._since.get(wait.key)
                if mark is not None and previous is not None and previous[1] == mark:
                    start = previous[0]
                if mark is not None:
                    since[wait.key] = (start, mark)
                measured.append((wait, max(0.0, now - start)))
            self._since = since
            return Waits(measured)
