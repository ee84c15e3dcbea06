"""A monitor reads each process's run counts from /proc/PID/schedstat files it holds open between
scans (collectors/run_counts.py), in a thread with an fd table of its own: real sleeping children,
one made to run, one reaped; the files are in that thread's table and never among ipctop's fds."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time

from ipctop.collectors.run_counts import RunCounts
from tests.support.holders import wait_until
from tests.support.unprivileged import run_as_nobody


def _links(directory: str) -> set[str]:
    found = set()
    for name in os.listdir(directory):
        try:
            found.add(os.readlink(f"{directory}/{name}"))
        except OSError:
            continue
    return found


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _holding_thread() -> threading.Thread:
    return next(thread for thread in threading.enumerate() if thread.name == "ipctop-run-counts")


def test_counts_come_from_files_a_thread_holds_in_a_table_of_its_own(holders):
    sleepers = [holders.spawn("hold") for _ in range(3)]
    pids = [held.pid for held in sleepers]
    counts = RunCounts()
    first, gone = counts.read(pids, set(pids))
    assert set(first) == set(pids) and not gone
    thread = counts._thread
    assert thread is not None
    table = f"/proc/self/task/{thread.native_id}/fd"
    assert {f"/proc/{pid}/schedstat" for pid in pids} <= _links(table)
    assert not any(link.endswith("/schedstat") for link in _links("/proc/self/fd"))

    # a held file is read afresh: the sleeper made to run (stopped and continued) has new counts
    os.kill(pids[0], signal.SIGSTOP)
    wait_until(lambda: _state(pids[0]) == "T", timeout=10)
    os.kill(pids[0], signal.SIGCONT)
    wait_until(lambda: _state(pids[0]) == "S", timeout=10)
    second, gone = counts.read(pids, set(pids))
    assert not gone
    assert second[pids[0]] != first[pids[0]]
    assert second[pids[1]] == first[pids[1]]

    # reaped: no counts, its file closed; a pid no longer listed: its file closed
    holders.end(sleepers[2], signal.SIGKILL)
    third, gone = counts.read(pids, set(pids))
    assert pids[2] not in third and pids[0] in third and gone
    counts.read(pids[:1], set(pids[:1]))
    links = _links(table)
    assert f"/proc/{pids[0]}/schedstat" in links
    assert not {f"/proc/{pid}/schedstat" for pid in pids[1:]} & links

    # collected: the thread ends, and its table with every file in it
    del counts
    gc.collect()
    wait_until(lambda: not thread.is_alive(), timeout=10)


def test_as_nobody_counts_of_every_process_are_read_and_held(holders):
    sleeper = holders.spawn("hold")
    pids = [1, os.getpid(), sleeper.pid]

    def look() -> object:
        counts = RunCounts()
        marks = counts.read(pids, set(pids))[0]
        table = f"/proc/self/task/{_holding_thread().native_id}/fd"
        return sorted(marks), sorted(link for link in _links(table) if link.endswith("/schedstat"))

    marks, held = run_as_nobody(look)  # type: ignore[misc]
    assert marks == sorted(pids)
    assert held == sorted(f"/proc/{pid}/schedstat" for pid in pids)


def test_a_busy_process_of_many_threads_costs_a_few_opens_not_one_per_thread(holders, monkeypatch):
    """Its threads' counts are read against its last mark and no further than the first that ran (one
    thread spins, the 40 after it sleep): no mark, so it is read in full, as it has run."""
    busy = holders.spawn("threads-one-busy", 40, wait_ready=False)
    wait_until(lambda: len(os.listdir(f"/proc/{busy.pid}/task")) == 42 and _state(busy.pid) == "S", timeout=10)
    counts = RunCounts()
    whole = counts.read([busy.pid], {busy.pid}, {busy.pid})[0]
    assert whole[busy.pid].count(b":") == 42  # no mark to hold it against: every thread read
    opened: list[str] = []
    real_open = os.open

    def counted(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "/task/" in str(path):
            opened.append(str(path))
        return real_open(path, *args, **kwargs)

    time.sleep(0.2)  # a thread on a CPU shows its time as of the last clock tick: some pass
    monkeypatch.setattr(os, "open", counted)
    again = counts.read([busy.pid], {busy.pid}, {busy.pid}, earlier=whole)[0]
    assert busy.pid not in again
    assert len(opened) <= 3, opened  # none when the main thread itself ran meanwhile
