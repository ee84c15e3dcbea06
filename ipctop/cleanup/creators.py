"""Who could have created an object: the live processes of its creating user that already ran when it was made.

The kernel keeps a creator pid for segments (cpid) but none for queues and
semaphore sets; it keeps their creating user (cuid) and times.  The creator was
a process whose effective uid was cuid and which was running when the object
was made, that is no later than the earliest time the object shows (ctime moves
forward on IPC_SET and SETVAL, so the earliest of its times is the bound).  If no
live process of that user started before that bound, the creator is gone: that
is positive evidence.  If some did, any of them may be the creator and may use
the object again: the creator is unknown.

A process's uids are all four of /proc/PID/status (real, effective, saved,
file system): a program that made the object as one of them and switched to
another since still counts.  One that changed every uid since (a daemon that
made it as root, then dropped to a user for good) is not recognised; for objects
made by root this does not matter, since init and root's daemons always qualify.
Kernel threads never make System V objects and are left out.  A process whose
files cannot be read might be anyone's: it counts as a possible creator for
every object made after it started (or for all, when even that is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ipctop.collectors.processes import CLOCK_TICKS, boot_time, read_cmdline
from ipctop.collectors.procfs import PF_KTHREAD, Denied, Gone, ProcFS
from ipctop.model import EXITED_STATES, Process
from ipctop.render.procinfo import process_name

# A process's start time is boot time (whole seconds, rounded down) plus clock ticks,
# and IPC times are whole seconds rounded down: a real creator can appear to have
# started up to a second after the object's time.  Two seconds of margin keep it a
# possible creator.
CLOCK_SLACK = 2.0


@dataclass(frozen=True, slots=True)
class Resident:
    """A live process as the creator rule sees it; `uids` empty and `start_time` 0 when unreadable."""

    pid: int
    comm: str
    uids: frozenset[int]
    start_time: float

    @property
    def label(self) -> str:
        return f"{self.comm}[{self.pid}]" if self.comm else f"pid {self.pid} (unreadable)"


@dataclass(frozen=True, slots=True)
class Residents:
    """Every live user-space process, by each of its uids, the latest started first (for an object, the
    likeliest creators); `unreadable` could be anyone's."""

    by_uid: Mapping[int, tuple[Resident, ...]] = field(default_factory=lambda: MappingProxyType({}))
    unreadable: tuple[Resident, ...] = ()

    def possible_creators(self, cuid: int, made_by: float) -> tuple[Resident, ...]:
        """The live processes that could have made an object of user `cuid` existing at `made_by`."""
        latest = made_by + CLOCK_SLACK
        mine = tuple(r for r in self.by_uid.get(cuid, ()) if r.start_time < latest)
        others = tuple(r for r in self.unreadable if not r.start_time or r.start_time < latest)
        return mine + others


def live_label(pid: int, comm: str, processes: Mapping[int, Process], proc: ProcFS | None = None) -> str:
    """A live process named as the panes name it (`python3 worker.py[812]`, not `python3[812]`): from the
    snapshot when it holds the process, else from its command line, read now (only for the few named)."""
    process = processes.get(pid)
    cmdline = process.cmdline if process is not None else read_cmdline(proc or ProcFS(), pid)
    return f"{process_name(process.comm if process is not None else comm, cmdline)}[{pid}]"


def _parse(stat: str) -> tuple[str, str, int, int]:
    """(comm, state, flags, start ticks) from /proc/PID/stat; the name may hold spaces and parentheses."""
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2 :].split()
    return comm, rest[0], int(rest[6]), int(rest[19])


def _uids(status: str) -> frozenset[int]:
    for line in status.splitlines():
        if line.startswith("Uid:"):
            return frozenset(int(value) for value in line.split()[1:5])
    raise ValueError("no Uid line")


def read_residents(proc: ProcFS | None = None) -> Residents:
    """Read every live process's uids and start time (two small files each; nothing is changed)."""
    proc = proc or ProcFS()
    btime = boot_time(proc)
    by_uid: dict[int, list[Resident]] = {}
    unreadable: list[Resident] = []
    for pid in proc.pids():
        try:
            comm, state, flags, ticks = _parse(proc.read_pid_record(pid, "stat").decode("utf-8", "replace"))
        except Gone:
            continue
        except (Denied, ValueError, IndexError):
            unreadable.append(Resident(pid, "", frozenset(), 0.0))
            continue
        if flags & PF_KTHREAD or state in EXITED_STATES:
            continue
        start = btime + ticks / CLOCK_TICKS
        try:
            uids = _uids(proc.read_pid_record(pid, "status").decode("utf-8", "replace"))
        except Gone:
            continue
        except (Denied, ValueError):
            unreadable.append(Resident(pid, "", frozenset(), start))
            continue
        resident = Resident(pid, comm, uids, start)
        for uid in uids:
            by_uid.setdefault(uid, []).append(resident)
    return Residents(
        by_uid=MappingProxyType({uid: tuple(sorted(group, key=lambda r: r.start_time, reverse=True))
                                 for uid, group in by_uid.items()}),
        unreadable=tuple(unreadable),
    )
