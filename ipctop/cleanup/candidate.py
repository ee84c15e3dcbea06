"""What the leak rules hand out (`LeakCandidate`), the margins both rule sets use, and what a
removal gives back (`RemovalResult`).

Its own module so that the System V rules and removal (leaks.py, remove.py) and the
POSIX ones (posix_leaks.py, posix_remove.py) share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ipctop.cleanup.creators import CLOCK_SLACK
from ipctop.render.formatting import hex_key

Kind = Literal["shm", "msg", "sem", "pshm", "psem", "pmsg"]
POSIX_KINDS = ("pshm", "psem", "pmsg")  # their rules: cleanup/posix_leaks.py

__all__ = ["CLOCK_SLACK", "POSIX_KINDS", "REPORT_IDLE_AFTER", "LeakCandidate", "Outcome", "RemovalResult"]

# Without --older-than, idle objects that are not removable are reported after this long.
REPORT_IDLE_AFTER = 86400


@dataclass(frozen=True, slots=True)
class LeakCandidate:
    """An object the rules picked, with the sentence saying why.

    `removable` False means reported only; `reason` then says what keeps it.
    `users` and `times` are what the rule judged (shm: cpid, lpid / atime, dtime;
    msg: lspid, lrpid / stime, rtime; sem: each sempid / otime); the removal
    checks them again so that an object used since the scan is left alone.
    """

    kind: Kind
    id: int
    key: int
    reason: str
    removable: bool
    owner: str
    uid: int
    perms: int
    ctime: int
    last_touched: int  # the latest of the object's times, epoch seconds
    users: tuple[int, ...]
    times: tuple[int, ...]
    holders: tuple[int, ...] = ()  # live processes keeping a reported object alive
    detail: str = ""  # size, messages or values, for tables
    ipc_ns: int = 0  # the inode of its IPC namespace when that is not ipctop's own (its id is unique only there)
    container: str = ""  # and that namespace's name
    name: str = ""  # a POSIX object's name (its id is its inode, its key 0)
    marks: tuple[float, ...] = ()  # a POSIX object's birth and change times, checked again before removal

    @property
    def label(self) -> str:
        if self.name:
            return f"{self.kind} {self.name}"
        where = f" in {self.container}" if self.container else ""
        return f"{self.kind} {self.id} (key {hex_key(self.key)}){where}"


Outcome = Literal["removed", "skipped", "failed", "reported"]


@dataclass(frozen=True, slots=True)
class RemovalResult:
    """What happened to one candidate.

    removed: gone, after the checks (and the backup, if asked).
    skipped: left alone because it changed, vanished or came into use since the scan.
    failed: left alone because the kernel refused or the backup could not be made.
    reported: a candidate that is reported only; never touched.
    """

    candidate: LeakCandidate
    outcome: Outcome
    message: str
    backup_path: str | None = None

    @property
    def removed(self) -> bool:
        return self.outcome == "removed"
