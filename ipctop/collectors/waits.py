"""Who waits on what: every task asleep in a call on an IPC object, and that object.

Each thread of each process is read (/proc/PID/task/TID/syscall, syscalls.py);
a call is then matched to its object: a semop to its set and the semaphores it
waits on, a msgrcv or msgsnd to its queue and message type, a read or write to
the pipe or FIFO behind its fd, a poll, select or epoll_wait to the pipes among
the fds it watches, an open that sleeps in a FIFO to that FIFO.  Nothing is
guessed where the system call can be read.  Where it cannot, the wait point
(wchan) is the fallback: the syscall file is mode 0400 and needs ptrace attach
access, wchan only ptrace read access, so a reader with CAP_SYS_PTRACE but not
CAP_DAC_OVERRIDE, or under Yama's ptrace_scope 1, reads wchan alone (a plain
user reads neither of another user's process).  Every wait found from wchan
says so (`exact` False) and names its object only where the process holds a
single one it could be waiting on.  A process whose sleeping threads could be
read neither way is listed in `WaitScan.unread`: "nobody waits" is not known there.

Cost: one read per thread, and the object is matched when the call is read.  A
scan with quiet-process memory (quiet.py) reuses what was found of a process
none of whose threads has run since: it still sleeps in the same call, on
the objects it resolved when it made it (a read holds the file it started on,
even if another process sharing the fd table puts another file at that fd).
Only which operations of a semop block is judged again at each scan (other
processes change the values).

POSIX named semaphores and message queues are matched through `PosixLookup`
(the scan's POSIX part, posix_records.PosixScan, answers it from the maps and fds
it read): a futex wait whose address is in a process's mapping of a semaphore
(/dev/shm/sem.NAME: glibc's sem_wait sleeps on its first word) is a wait on that
semaphore; one in a mapping of POSIX shared memory or of shared memory without a
name (a process-shared mutex or unnamed semaphore a program keeps there, as
PostgreSQL does) is a wait on that memory, at an offset.  mq_timedreceive and
mq_timedsend wait on the queue their fd is open on.  Other futex waits (a
thread's own locks, in private memory) are not IPC and are left out.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from ipctop.collectors import syscalls
from ipctop.collectors.fds import FdScan, pipe_inode
from ipctop.collectors.procfs import Denied, Gone, ProcFS, is_kernel_thread_stat
from ipctop.collectors.quiet import ScanMemory
from ipctop.collectors.split_read import Reader, read_split, worth_splitting
from ipctop.collectors.syscalls import TaskCall
from ipctop.kernel import statx

# wchan -> the call it is a wait of, for the fallback (Linux 6.x names first, older ones after).
_WCHAN_CALLS = {
    "do_msgrcv": "msgrcv", "do_msgsnd": "msgsnd", "do_semtimedop": "semop",
    "anon_pipe_read": "read", "pipe_read": "read", "anon_pipe_write": "write", "pipe_write": "write",
    "wait_for_partner": "open", "fifo_open": "open",
}
_POLL_IN = 0x1 | 0x2 | 0x40  # POLLIN, POLLPRI, POLLRDNORM (EPOLLIN etc. have the same values)
_POLL_OUT = 0x4 | 0x100  # POLLOUT, POLLWRNORM
_MSG_EXCEPT = 0o20000
_IPC_NOWAIT = 0o4000


class PosixLookup(Protocol):
    """What a process's address or fd is among the POSIX objects and shared memory the scan found."""

    def at_address(self, pid: int, address: int) -> tuple[str, int, str, int] | None:
        """(kind, inode, name, offset): "psem", "pshm" or "memfd"; None when no such object is mapped there."""

    def queue_at_fd(self, pid: int, fd: int) -> tuple[int, str] | None:
        """The inode and name of the POSIX queue open as `fd`, or None."""


# futex(2) operations that sleep on the word at uaddr (the command, without FUTEX_PRIVATE_FLAG and
# FUTEX_CLOCK_REALTIME): FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2
_FUTEX_WAITS = frozenset({0, 6, 9, 11, 13})
_FUTEX_CMD_MASK = 0x7F


class FoundWait(NamedTuple):
    """One task's wait on one object (a poll on three pipes is three); `ident` None: object not known."""

    pid: int
    tid: int
    call: str
    kind: str  # "msg", "sem", "pipe", "fifo", "psem", "pmsg", "pshm", "memfd"
    ident: int | None  # msqid, semid, or the pipe's, FIFO's or POSIX object's inode
    detail: str  # "type 99", "sem 0 op -1", "fd 4"
    mode: str  # "r": waits to take (bytes, a message); "w": to put; "": neither (a semaphore)
    exact: bool
    path: str = ""  # of the FIFO an open() waits on


class PidWaits(NamedTuple):
    """What was found of one process: its waits, its semop calls (matched at each scan), and
    whether its calls could be read at all."""

    waits: tuple[FoundWait, ...]
    sem_calls: tuple[TaskCall, ...] = ()
    unread: bool = False


NO_WAITS = PidWaits(())


class WaitScan:
    """Every wait found, by process and by object, and the FIFOs known only from openers."""

    __slots__ = ("by_pid", "by_object", "fifo_paths", "unread")

    def __init__(self) -> None:
        self.by_pid: dict[int, list[FoundWait]] = {}
        self.by_object: dict[tuple[str, int], list[FoundWait]] = {}
        self.fifo_paths: dict[int, str] = {}  # inode -> path, of FIFOs that someone is opening
        self.unread: list[int] = []  # pids whose calls could not be read

    def add(self, wait: FoundWait) -> None:
        self.by_pid.setdefault(wait.pid, []).append(wait)
        if wait.ident is not None:
            self.by_object.setdefault((wait.kind, wait.ident), []).append(wait)

    def waiters(self, kind: str, ident: int) -> tuple[FoundWait, ...]:
        """The waits on one object: `waiters("msg", msqid)`."""
        return tuple(self.by_object.get((kind, ident), ()))


class WaitMemory:
    """What the previous scan read of each process's calls (a Scanner owns one; see snapshot.py)."""

    __slots__ = ("found", "idle")

    def __init__(self) -> None:
        self.found: dict[int, PidWaits] = {}  # the processes found waiting (or not readable)
        self.idle: set[int] = set()  # the processes read and found waiting on nothing


class _Context:
    """What a scan knows that the calls are matched against."""

    def __init__(self, proc: ProcFS, fd_scan: FdScan, own_ns: str, sem_values: Mapping[int, tuple[int, ...]],
                 posix: PosixLookup | None = None) -> None:
        self.proc = proc
        self.fd_scan = fd_scan
        self.own_ns = own_ns
        self.sem_values = sem_values
        self.posix = posix
        self._fifo_fds: dict[tuple[int, int], int] | None = None
        self._fifo_inodes: dict[str, int] | None = None

    def fd(self, pid: int, fd: int) -> tuple[str, int] | None:
        """(kind, inode) of the pipe or FIFO that `pid` has open as `fd`, from its link
        (one readlink: cheaper than an index of every end, for the few fds asked)."""
        if fd < 0:
            return None
        try:
            target = self.proc.readlink_pid(pid, f"fd/{fd}")
        except (Gone, Denied):
            return None
        inode = pipe_inode(target)
        if inode is not None:
            return "pipe", inode
        if not target.startswith("/"):
            return None
        if self._fifo_fds is None:
            self._fifo_fds = {(e.pid, e.fd): inode for inode, ends in self.fd_scan.fifo_ends.items() for e in ends}
        fifo = self._fifo_fds.get((pid, fd))
        return ("fifo", fifo) if fifo is not None else None

    def pipe_inode(self, inode: int) -> tuple[str, int] | None:
        if inode in self.fd_scan.pipe_ends:
            return "pipe", inode
        if inode in self.fd_scan.fifo_ends:
            return "fifo", inode
        return None

    def held(self, pid: int, mode: str) -> list[tuple[str, int]]:
        """The pipes and FIFOs `pid` holds open in `mode` ("r" or "w")."""
        held = self.fd_scan.holders.get(pid)
        if held is None:
            return []
        found = [("pipe", inode) for inode, end in held.pipes if mode in end.mode]
        found.extend(("fifo", inode) for inode, _path, end in held.fifos if mode in end.mode)
        return list(dict.fromkeys(found))  # one entry per object, however many fds

    def fifo_inode(self, path: str, looked_up: str) -> int | None:
        """The inode of the FIFO a task opens: by its path among the FIFOs held open, else statx."""
        if self._fifo_inodes is None:
            self._fifo_inodes = {path: inode for inode, path in self.fd_scan.fifo_paths.items()}
        inode = self._fifo_inodes.get(path)
        if inode is None and self.proc.is_live:
            try:  # cached attributes only: a mount whose server does not answer cannot hold the scan
                mode, found = statx.cached_stat(looked_up)
            except OSError:
                return None
            inode = found if stat.S_ISFIFO(mode) else None
        return inode


def scan_waits(
    proc: ProcFS,
    pids: Iterable[int],
    fd_scan: FdScan,
    own_ns: str,
    sem_values: Mapping[int, tuple[int, ...]],
    memory: ScanMemory | None = None,
    remembered: WaitMemory | None = None,
    posix: PosixLookup | None = None,
) -> WaitScan:
    """Every wait of every thread of `pids`; with `memory`, what was found of a process none of
    whose threads has run is taken from `remembered` (which this scan then replaces);
    `posix` resolves waits on POSIX objects (None: they are left out).  Without memory, on many
    processes, a forked child reads half of them (split_read.py)."""
    names = syscalls.call_names() if proc.is_live else syscalls.call_names("x86_64")
    context = _Context(proc, fd_scan, own_ns, sem_values, posix)
    found: dict[int, PidWaits] = {}
    idle: set[int] = set()
    to_read: Iterable[int] = pids
    if memory is not None and remembered is not None:
        # Only the task itself changes the call it sleeps in, so a process that has not run is
        # not read again, even at its turn to be read in full (FULL_EVERY): that turn is for what
        # others can change (a shared fd table), and the object a sleeping call waits on is the
        # one it resolved when it entered the call.  Set operations, not a test per process: at
        # a thousand processes such a loop costs more than reading the few that ran.
        unchanged = memory.unchanged_pids()
        found = {pid: waits for pid, waits in remembered.found.items() if pid in unchanged}
        idle = remembered.idle & unchanged
        to_read = set(pids) - idle - found.keys()
    if memory is None:
        listed = to_read = list(pids)
        if worth_splitting(proc, len(listed)):
            reader = Reader(lambda pid: _read_pid(proc, pid, None, names, context), _plain_waits, _waits_from_plain,
                            NO_WAITS)
            found = read_split(proc, "system calls", listed, reader)
            to_read = ()
    for pid in to_read:
        proc.reading(pid, "system calls")  # for the Scanner's watchdog: memory reads can wait on locks
        threads = memory.threads.get(pid) if memory is not None else None
        read = _read_pid(proc, pid, threads, names, context)
        if read is NO_WAITS:
            idle.add(pid)
        else:
            found[pid] = read
    proc.done()
    scan = WaitScan()
    for pid, read in found.items():
        if read.unread:
            scan.unread.append(pid)
        for wait in read.waits:
            scan.add(wait)
            if wait.path and wait.ident is not None:
                scan.fifo_paths.setdefault(wait.ident, wait.path)
        for call in read.sem_calls:
            scan.add(_ipc_wait(pid, call, context))
    if remembered is not None and memory is not None:
        remembered.found, remembered.idle = found, idle
    return scan


def _plain_waits(found: PidWaits) -> tuple[object, ...]:
    """What was found of one process as plain tuples (marshal sends no named tuples)."""
    waits, sem_calls, unread = found
    return tuple(map(tuple, waits)), tuple(map(tuple, sem_calls)), unread


def _waits_from_plain(plain: tuple[Any, ...]) -> PidWaits:
    waits, sem_calls, unread = plain
    return PidWaits(tuple(FoundWait(*wait) for wait in waits), tuple(TaskCall(*call) for call in sem_calls), unread)


def _task_ids(proc: ProcFS, pid: int, threads: int | None) -> list[int] | None:
    """The threads of `pid`, the main one alone when it is known to be alone; None when it is gone."""
    if threads is None:
        try:  # one stat rather than a listing: most processes have one thread
            threads = os.stat(proc.path(pid, "task")).st_nlink - 2
        except OSError:
            return None
    if threads == 1:
        return [pid]
    try:
        return sorted(int(name) for name in os.listdir(proc.path(pid, "task")))
    except OSError:
        return None


def _read_pid(
    proc: ProcFS, pid: int, threads: int | None, names: dict[bytes, str] | None, context: _Context
) -> PidWaits:
    tids = _task_ids(proc, pid, threads)
    if tids is None:
        return NO_WAITS
    waits: list[FoundWait] = []
    sem_calls: list[TaskCall] = []
    unread = False
    exact = names is not None
    for tid in tids:
        call: TaskCall | None = None
        if exact:
            try:
                call = syscalls.read_task_call(proc, pid, tid, names)  # type: ignore[arg-type]
            except Gone:
                continue
            except Denied:
                exact = False  # and so for every thread of the process
        if not exact:
            where = _read_wchan(proc, pid, tid)
            if where in (None, "0"):
                # "0" is a running task's wchan, and also what a reader without ptrace read access is
                # shown; one refused its fds too is most likely refused this (no stat read to tell;
                # fds.py does not count a kernel thread as refused: _asleep leaves it out)
                unread = unread or pid in context.fd_scan.denied or _asleep(proc, pid, tid)
                continue
            guessed = _WCHAN_CALLS.get(where)  # type: ignore[arg-type]
            call = TaskCall(tid, guessed, (), exact=False) if guessed is not None else None
        if call is None:
            continue
        if call.exact and call.call in syscalls.SEM_CALLS:
            sem_calls.append(call)
            continue
        if call.exact and call.call in syscalls.OPEN_CALLS:
            shown, looked_up, mode, confirmed = call.extra
            inode = context.fifo_inode(shown, looked_up) if shown else None
            call = call._replace(extra=(shown, inode or 0, mode, confirmed))
        waits.extend(_resolve(pid, call, context))
    if not waits and not sem_calls and not unread:
        return NO_WAITS
    return PidWaits(tuple(waits), tuple(sem_calls), unread)


def _asleep(proc: ProcFS, pid: int, tid: int) -> bool:
    try:
        record = proc.read_pid_record(pid, "stat" if tid == pid else f"task/{tid}/stat")
    except (Gone, Denied):
        return False
    state_at = record.rindex(b")") + 2
    # a kernel thread sleeps too, but in no system call of a program: nothing IPC can wait there
    return record[state_at : state_at + 1] in (b"S", b"D") and not is_kernel_thread_stat(record)


def _read_wchan(proc: ProcFS, pid: int, tid: int) -> str | None:
    try:
        text = proc.read_pid_record(pid, "wchan" if tid == pid else f"task/{tid}/wchan")
    except (Gone, Denied):
        return None
    return text.decode("utf-8", "replace").strip()


def _resolve(pid: int, call: TaskCall, context: _Context) -> list[FoundWait]:
    """The waits one call stands for, each on its object."""
    name = call.call
    if not call.exact:
        return _resolve_guess(pid, call, context)
    if name in syscalls.SEM_CALLS or name in syscalls.MSG_CALLS:
        return [_ipc_wait(pid, call, context)]
    if name in syscalls.FD_CALLS:
        fd = syscalls._fd(call.args[0])
        return _fd_waits(pid, call, context, [(fd, "r" if name in ("read", "readv") else "w")], f"fd {fd}")
    if name in syscalls.SPLICE_CALLS:
        fd_in, fd_out = syscalls._fd(call.args[0]), syscalls._fd(call.args[2 if name == "splice" else 1])
        side = call.extra[0] if call.extra else ""
        wanted = [(fd_in, "r")] if side == "r" else [(fd_out, "w")] if side == "w" else [(fd_in, "r"), (fd_out, "w")]
        return _fd_waits(pid, call, context, wanted, f"fd {fd_in} → fd {fd_out}")
    if name in syscalls.POLL_CALLS:
        watched = [(fd, _mode(events)) for fd, events in call.extra]
        return _fd_waits(pid, call, context, [(fd, m) for fd, m in watched if m], None)
    if name in syscalls.SELECT_CALLS:
        if not call.extra:
            return []
        readers, writers = call.extra
        both = set(readers) & set(writers)
        watched = [(fd, "rw" if fd in both else "r") for fd in readers]
        watched += [(fd, "w") for fd in writers if fd not in both]
        return _fd_waits(pid, call, context, sorted(watched), None)
    if name in syscalls.EPOLL_CALLS:
        return _epoll_waits(pid, call, context)
    if name in syscalls.OPEN_CALLS:
        return _open_waits(pid, call)
    return _posix_waits(pid, call, context)


def _mode(events: int) -> str:
    reading, writing = bool(events & _POLL_IN), bool(events & _POLL_OUT)
    return "rw" if reading and writing else "r" if reading else "w" if writing else ""


def _ipc_wait(pid: int, call: TaskCall, context: _Context) -> FoundWait:
    kind = "sem" if call.call in syscalls.SEM_CALLS else "msg"
    ident: int | None = call.args[0] & 0xFFFFFFFF
    if kind == "sem":
        detail, mode = _sem_detail(call.extra, context.sem_values.get(ident, ())), ""  # type: ignore[arg-type]
    elif call.call == "msgrcv":
        detail, mode = _receive_detail(syscalls._signed(call.args[3]), call.args[4]), "r"
    else:
        detail, mode = (f"type {call.extra[0]}" if call.extra else ""), "w"
    if call.ipc_ns and context.own_ns and call.ipc_ns != context.own_ns:
        what = "set" if kind == "sem" else "queue"
        detail = f"{what} {ident} of another IPC namespace" + (f", {detail}" if detail else "")
        ident = None  # that id names another object here
    return FoundWait(pid, call.tid, call.call, kind, ident, detail, mode, True)


def _receive_detail(msgtyp: int, flags: int) -> str:
    if msgtyp == 0:
        return "any type"
    if msgtyp < 0:
        return f"lowest type ≤ {-msgtyp}"
    return f"any type but {msgtyp}" if flags & _MSG_EXCEPT else f"type {msgtyp}"


def _sem_detail(sembufs: tuple[tuple[int, int, int], ...], values: tuple[int, ...]) -> str:
    """The operations the call waits on: those that cannot proceed now (all, if none or unknown)."""
    if not sembufs:
        return ""

    def blocks(num: int, op: int, flags: int) -> bool:
        if flags & _IPC_NOWAIT or num >= len(values):
            return False
        return values[num] + op < 0 if op < 0 else op == 0 and values[num] != 0

    blocking = [sembuf for sembuf in sembufs if blocks(*sembuf)] or list(sembufs)
    return ", ".join(f"sem {num} op {op:+d}" if op else f"sem {num} op 0" for num, op, _ in blocking)


def _fd_waits(
    pid: int, call: TaskCall, context: _Context, wanted: list[tuple[int, str]], detail: str | None
) -> list[FoundWait]:
    """Waits on the pipes and FIFOs among `wanted` (fd, mode); the other fds are no IPC."""
    found = []
    for fd, mode in wanted:
        target = context.fd(pid, fd)
        if target is None:
            continue
        kind, inode = target
        text = detail if detail is not None else f"fd {fd} {_directions(mode)}"
        found.append(FoundWait(pid, call.tid, call.call, kind, inode, text, mode, True))
    return found


def _directions(mode: str) -> str:
    return {"r": "in", "w": "out", "rw": "in/out"}[mode]


def _epoll_waits(pid: int, call: TaskCall, context: _Context) -> list[FoundWait]:
    found = []
    epfd = syscalls._fd(call.args[0])
    for fd, inode, events in call.extra:
        mode = _mode(events)
        target = context.pipe_inode(inode) if inode else None
        if target is None:
            target = context.fd(pid, fd)
        if target is None or not mode:
            continue
        detail = f"fd {fd} {_directions(mode)} via epoll fd {epfd}"
        found.append(FoundWait(pid, call.tid, call.call, target[0], target[1], detail, mode, True))
    return found


def _open_waits(pid: int, call: TaskCall) -> list[FoundWait]:
    path, inode, mode, confirmed = call.extra
    if not inode and not confirmed:
        return []  # not a FIFO after all: an open that sleeps for another reason
    detail = {"r": "for reading", "w": "for writing"}.get(mode, "for reading and writing" if mode else "")
    if not inode and path:
        detail = f"{path} {detail}".strip()
    return [FoundWait(pid, call.tid, call.call, "fifo", inode or None, detail, mode, True, path)]


def _resolve_guess(pid: int, call: TaskCall, context: _Context) -> list[FoundWait]:
    """A wait guessed from wchan: the object only where `pid` holds a single one it could be."""
    name = call.call
    if name in ("read", "write"):
        mode = "r" if name == "read" else "w"
        held = context.held(pid, mode)
        kind, ident = held[0] if len(held) == 1 else ("pipe", None)
        detail = "" if len(held) == 1 else f"one of {len(held)} it holds" if held else ""
        return [FoundWait(pid, call.tid, name, kind, ident, detail, mode, False)]
    if name == "open":
        return [FoundWait(pid, call.tid, name, "fifo", None, "", "", False)]
    kind = "sem" if name == "semop" else "msg"
    mode = "" if kind == "sem" else "r" if name == "msgrcv" else "w"
    return [FoundWait(pid, call.tid, name, kind, None, "", mode, False)]


def _posix_waits(pid: int, call: TaskCall, context: _Context) -> list[FoundWait]:
    """futex on a word in a POSIX semaphore or shared memory, mq_timedsend/mq_timedreceive on a queue."""
    lookup = context.posix
    if lookup is None:
        return []
    if call.call == "futex":
        if call.args[1] & _FUTEX_CMD_MASK not in _FUTEX_WAITS:
            return []  # a wake or a requeue: it does not sleep on the word
        found = lookup.at_address(pid, call.args[0])
        if found is None:
            return []  # a lock of its own, in private memory: not IPC
        kind, inode, name, offset = found
        detail = f"{name} (sem_wait)" if kind == "psem" else f"{name}, a futex at offset {offset:#x}"
        return [FoundWait(pid, call.tid, call.call, kind, inode, detail, "", True)]
    if call.call in ("mq_timedreceive", "mq_timedsend"):
        fd = syscalls._fd(call.args[0])
        mode = "r" if call.call == "mq_timedreceive" else "w"
        queue = lookup.queue_at_fd(pid, fd)
        if queue is None:  # an fd on a queue of another IPC namespace, or closed meanwhile
            return [FoundWait(pid, call.tid, call.call, "pmsg", None, f"fd {fd}", mode, True)]
        return [FoundWait(pid, call.tid, call.call, "pmsg", queue[0], f"{queue[1]} (fd {fd})", mode, True)]
    return []  # futex_waitv: its words are in an array in the process's memory, not read
