"""Processes blocked in a System V queue or semaphore call, by queue and by set, read thread by thread.

A queue's table row does not show them: lrpid and lspid change only when a
call succeeds, so a restarted worker waiting on a queue whose old users died
looks exactly like a leak.  A set counts its waiters (semncnt, semzcnt), and the
scan confirms them.  /proc/PID/task/TID/syscall names the call each thread
sleeps in and its first argument, the msqid or semid.  Every thread is read,
not only the main one (/proc/PID/syscall): a server's receiving thread is
rarely its first.

Each IPC namespace has its own ids: waiters of another namespace than the
reader's are kept apart, by that namespace's inode.

It needs ptrace access: a process we may not read is listed as uninspected.
The rules do not keep an object for such a process (one uninspectable process,
like a sandbox's init, would then keep every queue forever); the CLI says which
processes it could not look at instead.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ipctop.collectors.procfs import Denied, Gone, ProcFS, classify
from ipctop.kernel.ipcns import inode_of

# System call numbers by machine: which calls block on a queue, which on a set.
_SYSCALLS: dict[str, dict[int, Literal["msg", "sem"]]] = {
    "x86_64": {69: "msg", 70: "msg", 65: "sem", 220: "sem"},  # msgsnd, msgrcv, semop, semtimedop
    "aarch64": {188: "msg", 189: "msg", 192: "sem", 193: "sem"},  # msgrcv, msgsnd, semtimedop, semop
}
_BY_NUMBER = _SYSCALLS.get(platform.machine(), {})
# Elsewhere the sleeping kernel function tells the kind (the first argument is the id in both cases).
_BY_WCHAN: dict[str, Literal["msg", "sem"]] = {"do_msgrcv": "msg", "do_msgsnd": "msg", "do_semtimedop": "sem"}


def _frozen(groups: dict[int, set[int]]) -> Mapping[int, tuple[int, ...]]:
    return MappingProxyType({ident: tuple(sorted(pids)) for ident, pids in groups.items()})


_Groups = Mapping[str, Mapping[int, tuple[int, ...]]]  # kind -> id -> pids


@dataclass(frozen=True, slots=True)
class Waiters:
    """Pids with a thread blocked on each msqid and each semid (of the reader's IPC namespace; of each
    other one in `elsewhere`, by its inode), and the pids that could not be read."""

    by_msqid: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    by_semid: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    uninspected: tuple[int, ...] = ()
    running: tuple[tuple[int, int], ...] = ()  # (pid, tid) of the threads that were on a CPU when read
    elsewhere: Mapping[int, _Groups] = field(default_factory=lambda: MappingProxyType({}))

    def on(self, kind: str, ident: int, ipc_ns: int = 0) -> tuple[int, ...]:
        """The pids blocked on object `ident` of `kind` ("msg" or "sem") of namespace `ipc_ns` (0: the
        reader's own); () for a segment."""
        if ipc_ns:
            return self.elsewhere.get(ipc_ns, {}).get(kind, {}).get(ident, ())
        if kind == "msg":
            return self.by_msqid.get(ident, ())
        if kind == "sem":
            return self.by_semid.get(ident, ())
        return ()

    def blocked_on(self, msqid: int, ipc_ns: int = 0) -> tuple[int, ...]:
        """Who is blocked on queue `msqid` of namespace `ipc_ns` (0: the reader's own)."""
        return self.on("msg", msqid, ipc_ns)


QueueWaiters = Waiters  # its name when only queues were read


Call = tuple[Literal["msg", "sem"], int]
RUNNING = ("running", 0)  # what blocked_on says of a thread that is on a CPU: it may be about to block


def blocked_on(proc: ProcFS, pid: int, tid: int) -> Call | tuple[str, int] | None:
    """("msg", msqid) or ("sem", semid) when thread `tid` of `pid` sleeps in such a call, RUNNING when
    it runs, else None."""
    fields = proc.read_pid_text(pid, f"task/{tid}/syscall").split()
    if fields[:1] == ["running"]:
        return RUNNING
    if len(fields) < 2 or not fields[0].isdigit():  # -1 outside a system call
        return None
    kind = _BY_NUMBER.get(int(fields[0])) if _BY_NUMBER else _BY_WCHAN.get(
        proc.read_pid_text(pid, f"task/{tid}/wchan").strip())
    if kind is None:
        return None
    return kind, int(fields[1], 16)


def _threads(proc: ProcFS, pid: int) -> list[int]:
    """The thread ids of `pid`.  Most processes have one thread, whose id is the pid: the task
    directory's link count (2 + threads) says so in one stat, where listing it costs four calls,
    and the scan is a window the removal leaves open (docs/cleanup.md)."""
    task = proc.path(pid, "task")
    try:
        if os.stat(task).st_nlink == 3:
            return [pid]
        return [int(name) for name in os.listdir(task) if name.isdigit()]
    except OSError as error:
        raise classify(error) from None


def _blocked_calls(proc: ProcFS, pid: int, running: list[tuple[int, int]],
                   tids: list[int] | None = None) -> set[Call]:
    calls: set[Call] = set()
    for tid in _threads(proc, pid) if tids is None else tids:
        try:
            call = blocked_on(proc, pid, tid)
        except Gone:
            continue  # that thread ended; the others may still wait
        if call == RUNNING:
            running.append((pid, tid))
        elif call is not None:
            calls.add(call)  # type: ignore[arg-type]
    return calls


def scan_waiters(proc: ProcFS | None = None, *, settle: bool = False) -> Waiters:
    """Every process of this IPC namespace with a thread blocked on a queue or a set.

    `settle` reads again, once, the threads that were running when the scan read
    them (a handful: at most one per CPU at any moment), which may have been
    entering the very call: the removal asks for it, so that a waiter that began
    just as the scan passed it is seen.
    """
    proc = proc or ProcFS()
    try:
        # the thread's own: ipctop's threads that enter other namespaces read from theirs
        own_ns = proc.readlink_pid("thread-self" if proc.is_live else "self", "ns/ipc")  # type: ignore[arg-type]
    except (Gone, Denied):
        own_ns = ""
    groups: dict[str, dict[int, set[int]]] = {"msg": {}, "sem": {}}
    elsewhere: dict[int, dict[str, dict[int, set[int]]]] = {}
    uninspected: list[int] = []
    running: list[tuple[int, int]] = []
    for pid in proc.pids():
        _scan_one(proc, pid, None, own_ns, groups, uninspected, running, elsewhere)
    me = os.getpid()
    if settle:
        others = [(pid, tid) for pid, tid in running if pid != me]  # ipctop itself runs: it is reading
        # Read once more at once: waiting here (sched_yield) would only widen the window for others.
        again: dict[int, list[int]] = {}
        for pid, tid in others:
            again.setdefault(pid, []).append(tid)
        running = []
        for pid, tids in again.items():
            _scan_one(proc, pid, tids, own_ns, groups, [], running, elsewhere)
    others = {inode: MappingProxyType({kind: _frozen(table) for kind, table in found.items()})
              for inode, found in elsewhere.items()}
    return Waiters(by_msqid=_frozen(groups["msg"]), by_semid=_frozen(groups["sem"]),
                   uninspected=tuple(uninspected), running=tuple(running), elsewhere=MappingProxyType(others))


def _scan_one(proc: ProcFS, pid: int, tids: list[int] | None, own_ns: str, groups: dict[str, dict[int, set[int]]],
              uninspected: list[int], running: list[tuple[int, int]],
              elsewhere: dict[int, dict[str, dict[int, set[int]]]]) -> None:
    try:
        calls = _blocked_calls(proc, pid, running, tids)
    except Gone:
        return
    except (Denied, OSError, ValueError):
        uninspected.append(pid)
        return
    if not calls:
        return
    try:
        ns = proc.readlink_pid(pid, "ns/ipc")
    except (Gone, Denied):
        ns = ""  # counted as ours: keeping an object by mistake is the safe side
    if own_ns and ns and ns != own_ns:  # the same id in another IPC namespace is another object
        groups = elsewhere.setdefault(inode_of(ns), {"msg": {}, "sem": {}})
    for kind, ident in calls:
        groups[kind].setdefault(ident, set()).add(pid)


scan_queue_waiters = scan_waiters  # its name when only queues were read
