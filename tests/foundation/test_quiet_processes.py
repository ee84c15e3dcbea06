"""A monitor's scans take from memory what was read of a process that has not run since
(collectors/quiet.py): each test makes a real process change what it holds in a way
the rule must notice, and checks that the next snapshot shows the change."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from ipctop.collectors import quiet
from ipctop.snapshot import take_snapshot
from tests.support.holders import Held, wait_until, wchan


def _settled(pid: int) -> None:
    """Scan until `pid` is remembered and found quiet (it sleeps in pause(), so it soon is)."""
    wait_until(lambda: take_snapshot() and quiet._memory is not None and quiet._memory.quiet(pid), timeout=10)


def _pipe_fds(pid: int) -> list[int]:
    process = take_snapshot().processes.get(pid)  # listed only once it holds something
    return sorted(held.fd for held in process.pipes) if process else []


@contextlib.contextmanager
def _holding_a_pipe_end(holders, *command: object) -> Iterator[Held]:  # type: ignore[no-untyped-def]
    """A holder given the read end of a pipe whose write end this test keeps until the end."""
    read_end, write_end = os.pipe()
    try:
        holder = holders.spawn(*command, pass_fds=(read_end,))
    finally:
        os.close(read_end)
    try:
        yield holder
    finally:
        os.close(write_end)


def test_a_sleeping_process_is_taken_from_memory_and_what_it_holds_is_unchanged(holders):
    with _holding_a_pipe_end(holders, "hold") as holder:
        wait_until(lambda: wchan(holder.pid) != "")
        full = take_snapshot(remember=False)
        _settled(holder.pid)
        again = take_snapshot()
        assert again.processes[holder.pid] == full.processes[holder.pid]
        (held,) = again.processes[holder.pid].pipes
        assert again.pipes[held.inode] == full.pipes[held.inode]


def test_a_process_that_runs_is_read_again(holders):
    holder = holders.spawn("pipe-on-usr1")
    _settled(holder.pid)
    before = _pipe_fds(holder.pid)
    fds_before = _open_fds(holder.pid)
    os.kill(holder.pid, signal.SIGUSR1)  # it wakes, opens a pipe, sleeps again
    wait_until(lambda: _open_fds(holder.pid) == fds_before + 2)
    assert len(_pipe_fds(holder.pid)) == len(before) + 2  # by the first scan after, not some later one


def test_a_thread_other_than_the_main_one_changes_what_the_process_holds(holders, tmp_path):
    flag = tmp_path / "open-a-pipe"
    holder = holders.spawn("thread-pipe-on-file", flag)
    take_snapshot()
    take_snapshot()
    assert quiet._memory is not None and not quiet._memory.quiet(holder.pid)  # two threads: never taken from memory
    before, fds_before = _pipe_fds(holder.pid), _open_fds(holder.pid)
    flag.touch()
    wait_until(lambda: _open_fds(holder.pid) == fds_before + 2)
    assert len(_pipe_fds(holder.pid)) == len(before) + 2


def test_a_quiet_process_whose_parent_exits_has_its_new_parent(holders):
    with _holding_a_pipe_end(holders, "fork-holder") as parent:
        orphan = int(parent.ready.split()[1])
        try:
            _settled(orphan)
            assert take_snapshot().processes[orphan].ppid == parent.pid
            holders.end(parent)
            new_parent = wait_until(lambda: _ppid(orphan) != parent.pid and _ppid(orphan))
            assert take_snapshot().processes[orphan].ppid == new_parent
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(orphan, signal.SIGKILL)
            wait_until(lambda: not _alive(orphan))


def test_a_fifo_renamed_by_another_process_shows_its_new_path(holders, tmp_path):
    path = tmp_path / "before"
    os.mkfifo(path)
    reader = holders.spawn("fifo-open", path, "r")
    writer = holders.spawn("fifo-open", path, "w")
    wait_until(lambda: any(f.path == str(path) and len(f.ends) == 2 for f in take_snapshot().fifos.values()))
    _settled(reader.pid)
    renamed = tmp_path / "after"
    os.rename(path, renamed)
    fifos = take_snapshot().fifos.values()
    assert [f.path for f in fifos if {e.pid for e in f.ends} == {reader.pid, writer.pid}] == [str(renamed)]


def test_a_second_scan_running_meanwhile_reads_everything():
    take_snapshot()
    seen = []
    with quiet.remembered(True) as memory:  # as a scan in another thread would hold it
        assert memory is not None
        worker = threading.Thread(target=lambda: seen.append(_scan_memory_of_a_concurrent_scan()))
        worker.start()
        worker.join()
    assert seen == [None]


def test_a_one_off_snapshot_reads_no_run_counts():
    quiet._memory = None
    take_snapshot()
    assert quiet._memory is not None and quiet._memory.now == {}


def _scan_memory_of_a_concurrent_scan() -> quiet.ScanMemory | None:
    with quiet.remembered(True) as memory:
        return memory


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_as_nobody_scans_from_memory_agree_with_full_reads(holders):
    """An unprivileged monitor may read the run counts of every process but the fds of its own only."""
    from tests.support.unprivileged import run_as_nobody

    holder = holders.spawn("hold")

    def scans() -> list[object]:
        quiet._memory = None
        for _ in range(3):
            take_snapshot()
        remembered, full = take_snapshot(), take_snapshot(remember=False)
        return [
            holder.pid in {u.pid for u in full.uninspectable},
            holder.pid in {u.pid for u in remembered.uninspectable},
            len(quiet._memory.now) > 0 if quiet._memory else False,
        ]

    assert run_as_nobody(scans) == [True, True, True]
