"""A monitor's scan patches the previous scan's pipe tables with what changed (collectors/fds.py,
`FdScan.patched`) instead of building them from every process's fds: real processes share
pipes, then one exits, one opens new pipes and a new one inherits a shared pipe, and after
each change the monitor's pipes must be those of a fresh full reading, while the pipes no
change touched keep the very lists of the scan before (they were patched, not rebuilt)."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess

import pytest

from ipctop.collectors import fds
from ipctop.kernel import sysv
from ipctop.snapshot import Scanner, take_snapshot
from tests.cleanup.helpers import create_segment_and_exit
from tests.support.holders import process_state, wait_until

SLEEPERS = 24


def _ours(snapshot, pids: set[int]) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    """Each pipe one of `pids` holds: its ends (pid, fd, mode), in order."""
    return {
        inode: tuple((end.pid, end.fd, end.mode) for end in pipe.ends)
        for inode, pipe in snapshot.pipes.items()
        if any(end.pid in pids for end in pipe.ends)
    }


@pytest.fixture(autouse=True)
def _patching(monkeypatch):  # type: ignore[no-untyped-def]
    """These tests are of the patched tables (FdScan.patched), which a scan uses while few processes
    ran: on a loaded machine, where most processes run between two scans, a scan makes its tables anew
    (as right, but not what is tested; the identities below then fail). Patch unless every process ran."""
    monkeypatch.setattr(fds, "REBUILD_FROM", 1)


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
        newcomer = holders.spawn("hold", pass_fds=(shared_read,)).pid  # a new holder of the shared pipe
        alive.add(newcomer)

        monitored = scanner.scan()
        full = take_snapshot()
        assert _ours(monitored, alive) == _ours(full, alive)
        shared = os.fstat(shared_write).st_ino
        assert sorted(pid for pid, _fd, _mode in _ours(monitored, alive)[shared] if pid in alive) == \
            sorted([*(held.pid for held in sharing[1:]), newcomer])  # not the highest pid: pids wrap
        after = scanner.memory.quiet.fd_scan  # type: ignore[union-attr]
        assert after is not before
        assert after.pipe_ends[lone_inode] is before.pipe_ends[lone_inode]  # untouched: patched, not rebuilt
    finally:
        for fd in (shared_read, shared_write):
            os.close(fd)


def test_a_quiet_holder_read_at_its_turn_leaves_its_pipes_as_they_were(holders, monkeypatch):
    # every process is read in full once a turn, also one that has not run; finding the very fds it
    # held, it must not make its pipes new (at 700 processes sharing 1,400 pipes, each turn's reads
    # rebuilt every pipe every scan: a third of a second)
    read_end, write_end = os.pipe()
    try:
        sharing = [holders.spawn("hold", pass_fds=(read_end, write_end))]
        sharing += [holders.spawn("hold", pass_fds=(read_end,)) for _ in range(3)]
        inode = os.fstat(read_end).st_ino
    finally:
        os.close(read_end)
        os.close(write_end)
    sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
    pids = {held.pid for held in sharing}
    scanner = Scanner()
    _settle(scanner, pids | sleepers)
    read_in_full: list[int] = []
    real = fds.read_process_fds

    def spied(proc, pid, mount_ids=None):  # type: ignore[no-untyped-def]
        read_in_full.append(pid)
        return real(proc, pid, mount_ids)

    monkeypatch.setattr(fds, "read_process_fds", spied)
    scanner.scan()
    memory = scanner.memory.quiet  # type: ignore[union-attr]
    for _ in range(memory.every + 1):
        before = memory.fd_scan
        snapshot = scanner.scan()
        assert memory.fd_scan.pipe_ends[inode] is before.pipe_ends[inode]  # the very list: not rebuilt
        assert inode not in memory.fd_scan.changed_pipes
        assert sorted({end.pid for end in snapshot.pipes[inode].ends}) == sorted(pids)
    assert pids <= set(read_in_full)  # each holder was read in full at its turn meanwhile


def test_a_holder_that_ran_keeping_its_fds_keeps_the_lists_and_its_pipe_is_measured_again(holders):
    # a pool's parent holds an end of every worker's pipes and runs at every scan: finding the very fds,
    # its pipes keep their lists (not rebuilt, 700 ends each), but what it ran may have moved their bytes
    read_end, write_end = os.pipe()
    try:
        writer = holders.spawn("write-on-usr1", write_end, pass_fds=(write_end,))
        readers = [holders.spawn("hold", pass_fds=(read_end,)) for _ in range(3)]
        inode = os.fstat(read_end).st_ino
    finally:
        os.close(read_end)
        os.close(write_end)
    sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
    pids = {writer.pid, *(held.pid for held in readers)}
    scanner = Scanner()
    _settle(scanner, pids | sleepers)
    memory = scanner.memory.quiet  # type: ignore[union-attr]
    assert scanner.scan().pipes[inode].fill == 0
    for written in (1, 2):
        before = memory.fd_scan
        os.kill(writer.pid, signal.SIGUSR1)  # it runs, writes a byte, and sleeps again with the same fds
        wait_until(lambda: _written(writer.pid, inode) == written)  # noqa: B023
        snapshot = scanner.scan()
        assert writer.pid in memory.fd_scan.rerun
        assert memory.fd_scan.pipe_ends[inode] is before.pipe_ends[inode]  # the very list: not rebuilt
        assert snapshot.pipes[inode].fill == written  # but measured again
        assert sorted({end.pid for end in snapshot.pipes[inode].ends}) == sorted(pids)


def _written(pid: int, inode: int) -> int | None:
    """The bytes in the pipe `inode` as a one-off look sees them through `pid`."""
    pipe = take_snapshot().pipes.get(inode)
    return pipe.fill if pipe is not None and any(end.pid == pid for end in pipe.ends) else None


def test_a_holder_that_execs_keeping_its_fds_is_named_anew_on_its_pipe(holders):
    # an exec keeps every fd without close-on-exec: the same fds, a new name on the pipe's ends
    read_end, write_end = os.pipe()
    stopped = subprocess.Popen(["bash", "-c", "kill -STOP $$; exec sleep 600"], pass_fds=(read_end,),
                               stdin=subprocess.DEVNULL)
    try:
        readers = [holders.spawn("hold", pass_fds=(read_end,)) for _ in range(2)]
        inode = os.fstat(read_end).st_ino
        os.close(read_end)
        wait_until(lambda: process_state(stopped.pid) == "T")
        sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
        scanner = Scanner()
        _settle(scanner, {stopped.pid, *(held.pid for held in readers)} | sleepers)
        names = {end.pid: end.comm for end in scanner.scan().pipes[inode].ends}
        assert names[stopped.pid] == "bash"
        os.kill(stopped.pid, signal.SIGCONT)
        wait_until(lambda: _comm(stopped.pid) == "sleep")
        monitored = scanner.scan()
        assert {end.pid: end.comm for end in monitored.pipes[inode].ends} == \
            {**names, stopped.pid: "sleep"} == {end.pid: end.comm for end in take_snapshot().pipes[inode].ends}
    finally:
        os.close(write_end)
        stopped.kill()
        stopped.wait()


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as comm:
        return comm.read().strip()


def test_over_a_whole_turn_of_patched_scans_pipes_come_go_and_fill_as_a_full_reading_shows(holders):
    # a patched scan names the pipes it does not carry over (those that came, went, have a waiter, or are
    # at their turn) from the changes alone, its turn's pipes from buckets kept up to date
    # (records.RecordMemo._due): over a whole turn, with pipes coming and going and one filled behind
    # its quiet holders' backs (through /proc), every scan must show what a full reading shows
    read_end, write_end = os.pipe()
    try:
        holder = holders.spawn("hold", pass_fds=(read_end,))
        inode = os.fstat(read_end).st_ino
    finally:
        os.close(read_end)
        os.close(write_end)
    opener = holders.spawn("pipe-on-usr1")
    sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
    alive = {holder.pid, opener.pid}
    scanner = Scanner()
    _settle(scanner, alive | sleepers)
    memory = scanner.memory.quiet  # type: ignore[union-attr]
    records = scanner.memory.records  # type: ignore[union-attr]
    writer = os.open(f"/proc/{holder.pid}/fd/{_fd_of(holder.pid, inode)}", os.O_WRONLY)
    try:
        os.write(writer, b"x" * 10)  # nobody who holds it ran: only its turn measures it again
    finally:
        os.close(writer)
    every = memory.every
    for step in range(every + 1):
        if step % 7 == 3:
            fds_before = len(os.listdir(f"/proc/{opener.pid}/fd"))
            os.kill(opener.pid, signal.SIGUSR1)  # a new pipe comes
            wait_until(lambda: len(os.listdir(f"/proc/{opener.pid}/fd")) == fds_before + 2)  # noqa: B023
        if step == every // 2:
            gone = holders.spawn("hold", pass_fds=())  # a process comes and goes
            holders.end(gone)
        monitored = scanner.scan()
        assert records.turn_buckets is not None, "the patched path was not taken"
        full = take_snapshot()
        assert _ours(monitored, alive) == _ours(full, alive), step
        mine = {i: p.fill for i, p in monitored.pipes.items() if i in _ours(full, alive)}
        assert all(mine[i] == full.pipes[i].fill for i in mine if i != inode), step
    assert monitored.pipes[inode].fill == 10  # measured again at its turn, though no holder ran


def _fd_of(pid: int, inode: int) -> int:
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{name}") == f"pipe:[{inode}]":
                return int(name)
    raise AssertionError(f"process {pid} holds no end of pipe {inode}")


def test_a_monitor_keeps_no_chain_of_earlier_fd_scans(holders):
    # each patched scan names the scan it was patched from (FdScan.origin) by a token, not by the scan:
    # a monitor left running must hold the latest scans only, not every one since it started
    sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
    scanner = Scanner()
    _settle(scanner, sleepers)
    for _ in range(20):
        scanner.scan()
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, fds.FdScan)]
    assert len(alive) <= 3, len(alive)


def test_an_object_naming_an_exited_creator_leaves_the_scans_patched(holders, ipc_key):
    # a segment left by a process that exited names it (its cpid) at every scan: a pid that is no
    # process, which the scan drops, as one that exited in its middle.  Dropping it must not throw
    # away the patched tables (a whole pipe table rebuilt at every scan of a machine with one
    # leaked segment, or with a container whose segments' creators exited)
    shmid, creator = create_segment_and_exit(ipc_key())
    try:
        sleepers = {holders.spawn("hold").pid for _ in range(SLEEPERS)}
        scanner = Scanner()
        _settle(scanner, sleepers)
        records = scanner.memory.records  # type: ignore[union-attr]
        for _ in range(3):
            snapshot = scanner.scan()
            assert snapshot.shm[shmid].cpid == creator and creator not in snapshot.processes
            assert records.turn_buckets is not None, "the patched path was not taken"
    finally:
        sysv.shm_remove(shmid)
