"""Processes blocked in a System V queue or semaphore call, by queue and by set, read thread by thread.

A queue's table row does not show them: lrpid and lspid change only when a
call succeeds, so a restarted worker waiting on a queue whose old users died
looks exactly like a leak.  A set counts its waiters (semncnt, semzcnt), and the
scan confirms them.  /proc/PID/task/TID/syscall names the call each thread
sleeps in and its first argument, the msqid or semid.  Every thread is read,
not only the main one (/proc/PID/syscall): a server's receiving thread is
rarely its first.

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


@dataclass(frozen=True, slots=True)
class Waiters:
    """Pids with a thread blocked on each msqid and each semid, and the pids that could not be read."""

    by_msqid: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    by_semid: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    uninspected: tuple[int, ...] = ()

    def on(self, kind: str, ident: int) -> tuple[int, ...]:
        """The pids blocked on object `ident` of `kind` ("msg" or "sem"); () for a segment."""
        if kind == "msg":
            return self.by_msqid.get(ident, ())
        if kind == "sem":
            return self.by_semid.get(ident, ())
        return ()


QueueWaiters = Waiters  # its name when only queues were read


def blocked_on(proc: ProcFS, pid: int, tid: int) -> tuple[Literal["msg", "sem"], int] | None:
    """("msg", msqid) or ("sem", semid) when thread `tid` of `pid` sleeps in such a call, else None."""
    fields = proc.read_pid_text(pid, f"task/{tid}/syscall").split()
    if len(fields) < 2 or not fields[0].isdigit():  # "running", or -1 outside a system call
        return None
    kind = _BY_NUMBER.get(int(fields[0])) if _BY_NUMBER else _BY_WCHAN.get(
        proc.read_pid_text(pid, f"task/{tid}/wchan").strip())
    if kind is None:
        return None
    return kind, int(fields[1], 16)


def _threads(proc: ProcFS, pid: int) -> list[int]:
    try:
        return [int(name) for name in os.listdir(proc.path(pid, "task")) if name.isdigit()]
    except OSError as error:
        raise classify(error) from None


def _blocked_calls(proc: ProcFS, pid: int) -> set[tuple[Literal["msg", "sem"], int]]:
    calls = set()
    for tid in _threads(proc, pid):
        try:
            call = blocked_on(proc, pid, tid)
        except Gone:
            continue  # that thread ended; the others may still wait
        if call is not None:
            calls.add(call)
    return calls


def scan_waiters(proc: ProcFS | None = None) -> Waiters:
    """Every process of this IPC namespace with a thread blocked on a queue or a set."""
    proc = proc or ProcFS()
    try:
        own_ns = proc.readlink_pid("self", "ns/ipc")  # type: ignore[arg-type]
    except (Gone, Denied):
        own_ns = ""
    groups: dict[str, dict[int, set[int]]] = {"msg": {}, "sem": {}}
    uninspected = []
    for pid in proc.pids():
        try:
            calls = _blocked_calls(proc, pid)
        except Gone:
            continue
        except (Denied, OSError, ValueError):
            uninspected.append(pid)
            continue
        if not calls:
            continue
        try:
            ns = proc.readlink_pid(pid, "ns/ipc")
        except (Gone, Denied):
            ns = ""  # counted as ours: keeping an object by mistake is the safe side
        if own_ns and ns and ns != own_ns:
            continue  # the same id in another IPC namespace is another object
        for kind, ident in calls:
            groups[kind].setdefault(ident, set()).add(pid)
    return Waiters(by_msqid=_frozen(groups["msg"]), by_semid=_frozen(groups["sem"]),
                   uninspected=tuple(uninspected))


scan_queue_waiters = scan_waiters  # its name when only queues were read
