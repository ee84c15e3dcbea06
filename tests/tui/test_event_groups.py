"""The event log tells the same change to one object by several processes in one scan once, naming each
process: a pool of workers that maps a zone (an nginx reload, a PostgreSQL restart) is one line, not one
per worker, and their exits one line.  Real processes, real scans; the timeline keeps every process's own entry."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

from ipctop.diff import EventKind
from ipctop.render.procinfo import name_of
from ipctop.snapshot import Scanner
from ipctop.tui.state import LoggedEvent, MonitorState, SnapshotFeed, processes_named
from tests.support.holders import wait_until


def _logged(state: MonitorState, inode: int) -> list[LoggedEvent]:
    return [e for e in state.events if e.event.object_kind == "memfd" and e.event.object_id == inode]


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


def test_workers_mapping_one_zone_are_one_line(holders):
    scanner = Scanner()
    feed, state = SnapshotFeed(scanner.scan), MonitorState()
    state.apply(feed.next())
    parent = holders.spawn("anon-fork", 4096, 3)
    workers = [int(pid) for pid in parent.ready.split()[1].split(",")]
    state.apply(feed.next())
    snapshot = state.snapshot
    assert snapshot is not None
    [zone] = [o.inode for o in snapshot.memfd.values() if {h.pid for h in o.holders} == {parent.pid, *workers}]

    created, mapped = _logged(state, zone)
    assert created.event.kind is EventKind.CREATED and created.count == 1
    assert mapped.event.kind is EventKind.MAPPED and mapped.count == 4
    assert {e.pid for e in (mapped.event, *mapped.also)} == {parent.pid, *workers}
    # one name, every pid: the parent and its forked workers are all `python3 child.py`
    name = mapped.who.split("[", 1)[0]
    assert mapped.who == f"{name}[{','.join(str(e.pid) for e in (mapped.event, *mapped.also))}]"
    assert mapped.detail.count("maps rw at") == 1  # the same words from every worker are said once

    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: all(_ended(pid) for pid in workers))  # zombies: their parent does not reap them
    state.apply(feed.next())
    [unmapped] = _logged(state, zone)[2:]
    assert unmapped.event.kind is EventKind.UNMAPPED and unmapped.count == 3
    [exits] = [e for e in state.events if e.event.kind is EventKind.PROCESS_EXITED and e.event.pid in workers]
    assert sorted(e.pid for e in (exits.event, *exits.also)) == sorted(workers)  # one line: three zombies
    assert exits.object_label == "3 processes" and exits.detail.endswith("a zombie until its parent reaps it")

    # the object's lifetime in its detail still has each process's own entry
    life = state.timeline.lifetime("memfd", zone)
    assert sorted(entry.pid for entry in life if entry.what == "mapped") == sorted([parent.pid, *workers])
    assert sorted(entry.pid for entry in life if entry.what == "unmapped") == sorted(workers)


def test_processes_named_by_name_then_pid(holders):
    """One name: the whole name (`nginx: worker process[…]`); several: the comm, every pid still named."""
    parent = holders.spawn("anon-fork", 4096, 1)
    worker = int(parent.ready.split()[1])
    read_end, write_end = os.pipe()
    # a program that sets a title, as nginx and PostgreSQL do: its comm stays `sleep`
    titled = subprocess.Popen(["worker: titled", "60"], executable=shutil.which("sleep"), stdout=write_end)
    try:
        os.close(write_end)
        wait_until(lambda: _comm(titled.pid) == "sleep")
        snapshot = Scanner().scan()
        processes = snapshot.known_processes
        assert name_of(processes[titled.pid]).startswith("worker: titled")
        assert processes_named([parent.pid, worker], snapshot) == \
            f"{name_of(processes[parent.pid])}[{parent.pid},{worker}]"
        assert processes_named([parent.pid, titled.pid, worker], snapshot) == \
            f"{processes[parent.pid].comm}[{parent.pid},{worker}], sleep[{titled.pid}]"
        assert processes_named([None, 0]) == ""
        assert processes_named([parent.pid, parent.pid], snapshot) == processes_named([parent.pid], snapshot)
        assert processes_named([4_194_304 + 1], snapshot) == "[4194305]"  # above pid_max: known to no snapshot
    finally:
        titled.kill()
        titled.wait()
        os.close(read_end)


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as comm:
        return comm.read().strip()
