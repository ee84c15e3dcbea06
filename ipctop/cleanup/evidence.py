"""What the leak rules know beyond a snapshot: who is blocked on what, who could have made what,
and what ipctop's own demos claim.

Read from /proc (and the demos' run records) by `gather`, which changes nothing;
the rules in leaks.py stay pure and take it as a value.  Without it the rules
know no waiters and no possible creators, so they propose no queue or set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ipctop.cleanup.creators import Residents, read_residents
from ipctop.cleanup.waiters import Waiters, scan_waiters
from ipctop.demos.registry import read_claims
from ipctop.model import Snapshot

if TYPE_CHECKING:
    from ipctop.cleanup.posix_leaks import LiveProcess


@dataclass(frozen=True, slots=True)
class DemoClaims:
    """IPC keys recorded by ipctop demos: `live` by running ones, `dead` by ones whose processes are all gone."""

    live: frozenset[int] = frozenset()
    dead: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Evidence:
    waiters: Waiters | None = None
    residents: Residents | None = None  # None: not read, so no queue's or set's creator can be judged
    demos: DemoClaims = DemoClaims()
    # every live process, for the POSIX rules (None: they read /proc themselves, when an object has no holder)
    everyone: Callable[[], list[LiveProcess]] | None = None


def gather(snapshot: Snapshot | None = None, read_waiters: bool = True) -> Evidence:
    """Everything the rules need for `snapshot`; the process table only when it has queues or sets.
    `read_waiters` False trusts the snapshot's own waits (its queues' and sets' `waiters`, read from
    every thread's system call) instead of reading every thread again."""
    needs_creators = snapshot is None or any(True for _ in snapshot.all_msg()) or any(True for _ in snapshot.all_sem())
    claims = read_claims()
    return Evidence(
        waiters=scan_waiters() if read_waiters else None,
        residents=read_residents() if needs_creators else None,
        demos=DemoClaims(live=claims.live_keys, dead=claims.dead_keys),
    )
