"""The attachers of a segment are exact, or the snapshot says they are not (issue: exact attachers).

Real segments, real holders, and real churn: processes attaching, detaching, forking
and exiting as fast as they can while scans run back to back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ipctop.diff import EventKind, diff
from ipctop.kernel import sysv
from ipctop.snapshot import Scanner, take_snapshot

CHURN = os.path.join(os.path.dirname(__file__), os.pardir, "support", "churn.py")
CHURN_SECONDS = float(os.environ.get("IPCTOP_CHURN_SECONDS", "30"))
MIN_SCANS = 20  # scans under churn, however long a loaded machine takes for them
LONGEST = 600.0  # the churners' lifetime, and how long the scans may take on the most loaded machine


def _segment(ipc_key, size: int = 3 * 4096) -> int:
    return sysv.shmget(ipc_key(), size, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)


def test_an_attach_split_by_mprotect_counts_as_the_kernel_counts(ipc_key, holders):
    shmid = _segment(ipc_key)
    try:
        holder = holders.spawn("shm-attach-split", shmid)
        segment = take_snapshot().shm[shmid]
        assert segment.nattch == 3  # the kernel counts the three mappings
        (attacher,) = segment.attachers  # one attach, shown once
        assert (attacher.pid, attacher.vmas, attacher.end - attacher.start) == (holder.pid, 3, 3 * 4096)
        assert segment.attachers_complete and segment.attachments_found == 3
    finally:
        sysv.shm_remove(shmid)


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_attachers_that_cannot_be_read_are_declared_missing(ipc_key, holders):
    from tests.support.unprivileged import run_as_nobody

    shmid = _segment(ipc_key)
    try:
        holders.spawn("shm-attach", shmid)
        holders.spawn("shm-attach", shmid)

        def seen() -> tuple[int, bool, int]:
            segment = take_snapshot().shm[shmid]
            return segment.nattch, segment.attachers_complete, segment.attachments_found

        assert run_as_nobody(seen) == [2, False, 0]  # (through JSON)
        assert take_snapshot().shm[shmid].attachers_complete  # root finds both
    finally:
        sysv.shm_remove(shmid)


def test_under_churn_no_undeclared_mismatch_and_no_invented_event(ipc_key, holders):
    stable = [_segment(ipc_key) for _ in range(3)]
    churned = [_segment(ipc_key) for _ in range(2)]
    churners: list[subprocess.Popen] = []
    try:
        # holders that attach once and then sleep in pause(): they never attach or detach again
        quiet = {
            holders.spawn("shm-attach", stable[0]).pid: {stable[0]},
            holders.spawn("shm-attach", stable[1]).pid: {stable[1]},
            holders.spawn("shm-attach", stable[2], "rw", 2).pid: {stable[2]},
            holders.spawn("shm-attach-split", stable[0]).pid: {stable[0]},
        }
        for _ in range(2):
            churner = subprocess.Popen(
                [sys.executable, CHURN, str(LONGEST), *map(str, stable + churned)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            )
            churners.append(churner)
            assert churner.stdout is not None and churner.stdout.readline().strip() == "ready"

        scanner = Scanner()
        previous = scanner.scan()
        scans = incomplete = 0
        undeclared: list[str] = []
        invented: list[str] = []
        started = time.monotonic()
        # at least CHURN_SECONDS and at least MIN_SCANS: a count of scans, not a time, is what is required
        while time.monotonic() < started + CHURN_SECONDS or scans < MIN_SCANS:
            assert time.monotonic() < started + LONGEST, f"only {scans} scans in {LONGEST:.0f} s"
            snapshot = scanner.scan() if scans % 4 else take_snapshot()  # the monitor's scans, and one-offs
            scans += 1
            for shmid in stable + churned:
                segment = snapshot.shm.get(shmid)
                assert segment is not None
                if not segment.attachers_complete:
                    incomplete += 1
                    continue
                if segment.attachments_found != segment.nattch:
                    undeclared.append(f"{shmid}: nattch {segment.nattch}, found {segment.attachments_found}")
                missing = [pid for pid, held in quiet.items()
                           if shmid in held and pid not in {a.pid for a in segment.attachers}]
                if missing:
                    undeclared.append(f"{shmid}: complete without the quiet holders {missing}")
            for event in diff(previous, snapshot):
                if event.kind in (EventKind.ATTACHED, EventKind.DETACHED) and event.pid in quiet:
                    invented.append(f"{event.kind} {event.object_id} {event.pid}")
            previous = snapshot
        assert undeclared == []
        assert invented == []
        print(f"{scans} scans under churn, {incomplete} segment readings declared incomplete")
    finally:
        for churner in churners:
            churner.kill()
            churner.wait(timeout=30)
            if churner.stdout:
                churner.stdout.close()
        for shmid in stable + churned:
            sysv.shm_remove(shmid)
