"""What the leak rules know beside the fixture's snapshots, made up like them (tests/support/fixture_snapshot.py).

The monitor's Leaks pane reads /proc for waiters and possible creators; over the
fixture it must read this instead, so that its rows and pictures are the same on
any machine.  The live processes are the fixture's, plus an init (pid 1, root)
that started long before anything was made, as on a real machine (for the
System V creator rule and the POSIX rules alike); nobody is
blocked in a call the snapshot does not already show; no demo runs.  The grace
period is a minute, so that the fixture's segment left two minutes ago is proposed.
"""

from __future__ import annotations

from types import MappingProxyType

from ipctop.cleanup import Evidence, LeakFilters, Waiters
from ipctop.cleanup.creators import Resident, Residents
from ipctop.cleanup.posix_leaks import LiveProcess
from ipctop.model import Snapshot
from tests.support.fixture_snapshot import T0

INIT = Resident(1, "init", frozenset({0}), T0 - 30 * 86400)
FIXTURE_LEAK_FILTERS = LeakFilters(grace=60)


def fixture_evidence(snapshot: Snapshot) -> Evidence:
    by_uid: dict[int, list[Resident]] = {0: [INIT]}
    for process in snapshot.processes.values():
        resident = Resident(process.pid, process.comm, frozenset({process.uid}), process.start_time)
        by_uid.setdefault(process.uid, []).append(resident)
    residents = Residents(by_uid=MappingProxyType({
        uid: tuple(sorted(group, key=lambda r: r.start_time, reverse=True)) for uid, group in by_uid.items()
    }))
    everyone = [LiveProcess(r.pid, uid, r.start_time, r.comm) for uid, group in residents.by_uid.items() for r in group]
    return Evidence(waiters=Waiters(), residents=residents, everyone=lambda: everyone)
