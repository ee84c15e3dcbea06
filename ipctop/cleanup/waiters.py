"""Processes blocked in msgrcv or msgsnd, by queue.

A queue's table row does not show them: lrpid and lspid change only when a
call succeeds, so a restarted worker waiting on a queue whose old users died
looks exactly like a leak.  /proc/PID/syscall names the blocked call and its
first argument, the msqid.  It needs ptrace access: a process we may not read
is listed as uninspected.  The rules do not keep a queue for such a process
(one uninspectable process, like a sandbox's init, would then keep every queue
forever); the CLI says which processes it could not look at instead.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.kernel.ipcns import inode_of

# (msgsnd, msgrcv) system call numbers; wchan names are the fallback on other machines.
_MSG_SYSCALLS = {"x86_64": (69, 70), "aarch64": (188, 189)}.get(platform.machine(), ())
_MSG_WCHANS = ("do_msgrcv", "do_msgsnd")


@dataclass(frozen=True, slots=True)
class QueueWaiters:
    """Pids blocked on each msqid (of the reader's IPC namespace, and of each other one by its inode),
    and the pids whose blocked call could not be read."""

    by_msqid: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    uninspected: tuple[int, ...] = ()
    elsewhere: Mapping[int, Mapping[int, tuple[int, ...]]] = field(default_factory=lambda: MappingProxyType({}))

    def blocked_on(self, msqid: int, ipc_ns: int = 0) -> tuple[int, ...]:
        """Who is blocked on queue `msqid` of namespace `ipc_ns` (0: the reader's own)."""
        table = self.elsewhere.get(ipc_ns, {}) if ipc_ns else self.by_msqid
        return table.get(msqid, ())


def _blocked_msqid(proc: ProcFS, pid: int) -> int | None:
    """The msqid `pid` is blocked on, None when it is not blocked in a queue call."""
    fields = proc.read_pid_text(pid, "syscall").split()
    if len(fields) < 2 or fields[0] == "running" or not fields[0].lstrip("-").isdigit():
        return None
    number = int(fields[0])
    if number in _MSG_SYSCALLS:
        return int(fields[1], 16)
    if not _MSG_SYSCALLS:
        wchan = proc.read_pid_text(pid, "wchan").strip()
        if wchan in _MSG_WCHANS:
            return int(fields[1], 16)
    return None


def scan_queue_waiters(proc: ProcFS | None = None) -> QueueWaiters:
    """Every process blocked on a queue, by msqid: of this thread's IPC namespace, and of each other."""
    proc = proc or ProcFS()
    try:
        own_ns = proc.readlink_pid("thread-self" if proc.is_live else "self", "ns/ipc")  # type: ignore[arg-type]
    except (Gone, Denied):
        own_ns = ""
    by_msqid: dict[int, list[int]] = {}
    elsewhere: dict[int, dict[int, list[int]]] = {}
    uninspected = []
    for pid in proc.pids():
        try:
            msqid = _blocked_msqid(proc, pid)
        except Gone:
            continue
        except (Denied, OSError, ValueError):
            uninspected.append(pid)
            continue
        if msqid is None:
            continue
        try:
            ns = proc.readlink_pid(pid, "ns/ipc")
        except (Gone, Denied):
            ns = ""  # counted as ours: keeping a queue by mistake is the safe side
        if own_ns and ns and ns != own_ns:  # the same msqid in another IPC namespace is another queue
            elsewhere.setdefault(inode_of(ns), {}).setdefault(msqid, []).append(pid)
            continue
        by_msqid.setdefault(msqid, []).append(pid)
    return QueueWaiters(
        by_msqid=MappingProxyType({k: tuple(sorted(v)) for k, v in by_msqid.items()}),
        uninspected=tuple(uninspected),
        elsewhere=MappingProxyType({inode: MappingProxyType({k: tuple(sorted(v)) for k, v in table.items()})
                                    for inode, table in elsewhere.items()}),
    )
