"""A monitor left running forgets what belonged to processes and objects that are gone.

Real processes hold a pipe and attach a real segment beside a real queue, then end and
the objects are removed, cycle after cycle, while a Scanner scans as the monitor does;
whatever its memory still holds of them is counted in entries after each cycle.  Other
processes on the machine come and go meanwhile, so only entries of the test's own
processes and objects are counted."""

from __future__ import annotations

import os
from collections.abc import Iterable

import sysv_ipc

from ipctop.snapshot import Scanner
from ipctop.tui.state import MonitorState, SnapshotFeed

CYCLES = 6


def _left_of(scanner: Scanner, pids: set[int], shmids: set[int], msqids: set[int], inodes: set[int]) -> list[str]:
    """Every entry of the scanner's memory that is about one of these ended processes or removed objects."""
    memory = scanner.memory
    quiet = memory.quiet
    assert quiet is not None
    by_pid: dict[str, Iterable[int]] = {
        f"quiet.{name}": getattr(quiet, name)
        for name in ("marks", "threads", "fds", "shared", "infos", "ns", "parent_start")
    }
    by_pid["quiet.now"] = quiet.now
    by_pid["quiet.fd_scan"] = quiet.fd_scan.by_pid if quiet.fd_scan is not None else {}
    by_pid["records.processes"] = memory.records.processes
    by_pid["records.held"] = memory.records.held
    by_pid["records.segment_names"] = memory.records.segment_names
    by_pid["waits.found"] = memory.waits.found
    by_pid["waits.idle"] = memory.waits.idle
    by_pid["maps"] = list(memory.maps._parses)
    by_pid["maps trusted"] = list(memory.maps._trusted)
    left = [f"{where} {pid}" for where, keys in by_pid.items() for pid in keys if pid in pids]
    left += [f"records.segments {shmid}" for shmid in memory.records.segments if shmid in shmids]
    left += [f"records.pipes {inode}" for inode in memory.records.pipes if inode in inodes]
    tables = [row for _text, rows in memory.tables._tables.values() for row in rows]
    left += [f"tables {row}" for row in tables if getattr(row, "shmid", None) in shmids]
    left += [f"tables {row}" for row in tables if getattr(row, "msqid", None) in msqids]
    return left


def test_what_belonged_to_ended_processes_and_removed_objects_is_forgotten(holders, ipc_key):
    scanner = Scanner()
    state = MonitorState()
    feed = SnapshotFeed(scanner.scan)
    ended: set[int] = set()
    shmids: set[int] = set()
    msqids: set[int] = set()
    inodes: set[int] = set()
    left_after: list[list[str]] = []
    for _cycle in range(CYCLES):
        segment = sysv_ipc.SharedMemory(ipc_key(), sysv_ipc.IPC_CREX, size=2 * os.sysconf("SC_PAGE_SIZE"))
        segment.detach()  # only the holder attaches it
        queue = sysv_ipc.MessageQueue(ipc_key(), sysv_ipc.IPC_CREX)
        read_end, write_end = os.pipe()
        holder = None
        try:
            queue.send(b"x")
            holder = holders.spawn("shm-attach-split", segment.id, pass_fds=(read_end, write_end))
            os.write(write_end, b"y")
            for _ in range(3):  # seen, then remembered as quiet
                state.apply(feed.next())
            snapshot = state.snapshot
            assert snapshot is not None
            assert holder.pid in snapshot.processes and segment.id in snapshot.shm and queue.id in snapshot.msg
            inodes.update(held.inode for held in snapshot.processes[holder.pid].pipes)
        finally:
            os.close(read_end)
            os.close(write_end)
            if holder is not None:
                holders.end(holder)
            segment.remove()
            queue.remove()
        ended.add(holder.pid)  # type: ignore[union-attr]
        shmids.add(segment.id)
        msqids.add(queue.id)
        for _ in range(2):
            state.apply(feed.next())
        left_after.append(_left_of(scanner, ended, shmids, msqids, inodes))
    assert left_after == [[]] * CYCLES  # what each cycle left, by where it was kept
    assert len(state.events) <= state.events.maxlen  # type: ignore[operator]
