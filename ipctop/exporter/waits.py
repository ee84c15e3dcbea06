"""Who is blocked in which kind of IPC wait, on which object, and for how long.

`waits_in(snapshot)` turns a snapshot into `Wait` records.  Until the snapshot
names each object's waiters (read from /proc/PID/syscall), they are taken from
what it has: the kernel wait point (wchan) of the processes it read, which are
the processes that hold or last used an IPC object.  A writer asleep in
pipe_write is put on each pipe or FIFO it writes to that has no room for one
more atomic write, a reader asleep in pipe_read on each empty one it reads;
those are guesses (`exact=False`) where a process holds several.  Processes
blocked in msgrcv, msgsnd or semop on an object they never used successfully,
or in open() of a FIFO, are not in the snapshot and so not counted here (the
kernel's own count of semaphore waiters is exported per set instead).  When the
snapshot gains waiter records, `waits_in` reads them and nothing else changes.

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
from ipctop.model import Fifo, Pipe, Snapshot
from ipctop.pipelines import PIPE_BUF, READ_WAITS, WRITE_WAITS

# The `wait` label: a kind of wait, named after the call a process is blocked in.
CALLS = ("pipe_read", "pipe_write", "fifo_open", "msgrcv", "msgsnd", "semop")
_CALL_OF_WCHAN = {
    **dict.fromkeys(READ_WAITS, "pipe_read"),
    **dict.fromkeys(WRITE_WAITS, "pipe_write"),
    "wait_for_partner": "fifo_open",
    "do_msgrcv": "msgrcv",
    "do_msgsnd": "msgsnd",
    "do_semtimedop": "semop",
}

ObjectRef = tuple[str, int]  # (kind, id): ("pipe", inode), ("fifo", inode), ("msg", msqid) ...


@dataclass(frozen=True, slots=True)
class Wait:
    """A process asleep in an IPC call; `objects` it may be waiting on (empty when unknown)."""

    pid: int
    start_time: float
    comm: str
    call: str
    objects: tuple[ObjectRef, ...] = ()
    exact: bool = False  # True once read from /proc/PID/syscall; False: guessed from wchan

    @property
    def key(self) -> tuple[int, float, str]:
        return self.pid, self.start_time, self.call


def _no_room(pipe: Pipe | Fifo) -> bool:
    return pipe.fill is not None and pipe.capacity is not None and pipe.fill > pipe.capacity - PIPE_BUF


def waits_in(snapshot: Snapshot) -> list[Wait]:
    """Every process of the snapshot asleep in an IPC wait, with the pipes it may wait on."""
    on: dict[tuple[int, str], list[ObjectRef]] = {}
    for kind, table in (("pipe", snapshot.pipes), ("fifo", snapshot.fifos)):
        for inode, pipe in table.items():
            full, empty = _no_room(pipe), pipe.fill == 0
            for end in pipe.ends:
                if full and "w" in end.mode:
                    on.setdefault((end.pid, "pipe_write"), []).append((kind, inode))
                if empty and "r" in end.mode:
                    on.setdefault((end.pid, "pipe_read"), []).append((kind, inode))
    waits = []
    for pid, process in snapshot.processes.items():
        call = _CALL_OF_WCHAN.get(process.wchan)
        if call is None or process.state in ("Z", "X"):
            continue
        objects = tuple(dict.fromkeys(on.get((pid, call), ())))
        waits.append(Wait(pid, process.start_time, process.comm, call, objects))
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
