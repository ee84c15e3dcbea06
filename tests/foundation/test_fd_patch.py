"""A monitor's scan patches the previous scan's pipe tables with what changed (collectors/fds.py,
`FdScan.patched`) instead of building them from every process's fds: real processes share
pipes, then one exits, one opens new pipes and a new one inherits a shared pipe, and after
each change the monitor's pipes must be those of a fresh full reading, while the pipes no
change touched keep the very lists of the scan before (they were patched, not rebuilt)."""

from __future__ import annotations

import os
import signal

from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import wait_until

SLEEPERS = 24


def _ours(snapshot, pids: set[int]) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    """Each pipe one of `pids` holds: its ends (pid, fd, mode), in order."""
    return {
        inode: tuple((end.pid, end.fd, end.mode) for end in pipe.ends)
        for inode, pipe in snapshot.pipes.items()
        if any(end.pid in pids for end in pipe.ends)
    }


def _settle(scanner: Scanner, pids: set[int]) -> None:
    wait_until(lambda: scanner.scan() and scanner.quiet is not None and all(map(scanner.quiet.quiet, pids)),
               timeout=10)


def test_patched_pipe_tables_are_those_of_a_full_reading(holders):
    shared_read, shared_write = os.pipe()
    lone_read, lone_write = os.pipe()
    try:
        sharing = [holders.spawn("hold", pass_fds=(shared_read,)) for _ in range(3)]
        lone = holders.spawn("hold", pass_fds=(lone_read, lone_write))  # a pipe held by a sleeper alone
        opener = holders.spawn("pipe-on-usr1")
        lone_inode = os.fstat(lone_read).st_ino
        os.close(lone_read)
        os.close(lone_write)
        # sleepers enough that the changes below are a small part of the processes, as on any machine
        # (a scan that reads a quarter of them or more makes its tables anew): in a pid namespace of
        # its own the suite has only a handful
        sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
        scanner = Scanner()
        alive = {held.pid for held in (*sharing, lone, opener)}
        _settle(scanner, alive | sleepers)
        before = scanner.memory.quiet.fd_scan  # type: ignore[union-attr]

        holders.end(sharing[0])  # a holder of the shared pipe exits
        alive.discard(sharing[0].pid)
        fds_before = len(os.listdir(f"/proc/{opener.pid}/fd"))
        os.kill(opener.pid, signal.SIGUSR1)  # it opens a new pipe
        wait_until(lambda: len(os.listdir(f"/proc/{opener.pid}/fd")) == fds_before + 2)
        alive.add(holders.spawn("hold", pass_fds=(shared_read,)).pid)  # a new holder of the shared pipe

        monitored = scanner.scan()
        full = take_snapshot()
        assert _ours(monitored, alive) == _ours(full, alive)
        shared = os.fstat(shared_write).st_ino
        assert sorted(pid for pid, _fd, _mode in _ours(monitored, alive)[shared] if pid in alive) == \
            sorted(held.pid for held in sharing[1:]) + [max(alive)]
        after = scanner.memory.quiet.fd_scan  # type: ignore[union-attr]
        assert after is not before
        assert after.pipe_ends[lone_inode] is before.pipe_ends[lone_inode]  # untouched: patched, not rebuilt
    finally:
        for fd in (shared_read, shared_write):
            os.close(fd)
