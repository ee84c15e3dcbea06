"""A monitor's scans take from memory what was read of a process that has not run since
(collectors/quiet.py): each test makes a real process change what it holds in a way
the rule must notice, and checks that the next snapshot shows the change."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from ipctop.collectors.procfs import ProcFS
from ipctop.collectors.quiet import FULL_EVERY, turn_length
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import Held, wait_until, wchan, woken_by_a_byte


@pytest.fixture
def scanner() -> Scanner:
    """A scanner as the monitor holds one: it remembers what it read of quiet processes."""
    return Scanner()


def _settled(scanner: Scanner, pid: int) -> None:
    """Scan until `pid` is remembered and found quiet (it sleeps in pause(), so it soon is)."""
    wait_until(lambda: scanner.scan() and scanner.quiet is not None and scanner.quiet.quiet(pid), timeout=10)


def _pipe_fds(scanner: Scanner, pid: int) -> list[int]:
    process = scanner.scan().processes.get(pid)  # listed only once it holds something
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


def test_a_sleeping_process_is_taken_from_memory_and_what_it_holds_is_unchanged(holders, scanner):
    with _holding_a_pipe_end(holders, "hold") as holder:
        wait_until(lambda: wchan(holder.pid) != "")
        full = take_snapshot()
        _settled(scanner, holder.pid)
        again = scanner.scan()
        assert again.processes[holder.pid] == full.processes[holder.pid]
        (held,) = again.processes[holder.pid].pipes
        assert again.pipes[held.inode] == full.pipes[held.inode]


def test_a_process_that_runs_is_read_again(holders, scanner):
    holder = holders.spawn("pipe-on-usr1")
    _settled(scanner, holder.pid)
    before = _pipe_fds(scanner, holder.pid)
    fds_before = _open_fds(holder.pid)
    os.kill(holder.pid, signal.SIGUSR1)  # it wakes, opens a pipe, sleeps again
    wait_until(lambda: _open_fds(holder.pid) == fds_before + 2)
    assert len(_pipe_fds(scanner, holder.pid)) == len(before) + 2  # by the first scan after, not some later one


def test_a_pipe_shows_the_bytes_written_by_one_of_its_holders_while_the_others_sleep(holders, scanner):
    # a pipe whose holders have not run keeps the fill measured before: this one has a holder
    # that sleeps throughout and one that wakes to write, so each write must be measured
    read_end, write_end = os.pipe()
    try:
        sleeper = holders.spawn("hold", pass_fds=(read_end, write_end))
        writer = holders.spawn("write-on-usr1", write_end, pass_fds=(write_end,))
    finally:
        os.close(read_end)
        os.close(write_end)
    _settled(scanner, sleeper.pid)
    _settled(scanner, writer.pid)
    (held,) = [held for held in scanner.scan().processes[writer.pid].pipes]
    assert scanner.scan().pipes[held.inode].fill == 0
    for written in range(1, 4):
        os.kill(writer.pid, signal.SIGUSR1)
        wait_until(lambda n=written: _bytes_in(sleeper.pid, held.fd) == n)
        assert scanner.scan().pipes[held.inode].fill == written  # by the first scan after
        _settled(scanner, writer.pid)
        assert scanner.scan().pipes[held.inode].fill == written  # and while both sleep


def _bytes_in(pid: int, fd: int) -> int:
    """The bytes waiting in a pipe, read through a duplicate of `pid`'s own fd (no new reader)."""
    from ipctop.collectors.fds import PipeMeter, RawEnd
    from ipctop.snapshot import LIVE

    meter = PipeMeter(LIVE)
    try:
        return meter.measure([RawEnd(pid, fd, "r")])[0] or 0
    finally:
        meter.close()


def test_a_thread_other_than_the_main_one_changes_what_the_process_holds(holders, tmp_path, scanner):
    flag = tmp_path / "open-a-pipe"
    holder = holders.spawn("thread-pipe-on-file", flag)
    scanner.scan()
    scanner.scan()
    assert scanner.quiet is not None and not scanner.quiet.quiet(holder.pid)  # its second thread polls
    before, fds_before = _pipe_fds(scanner, holder.pid), _open_fds(holder.pid)
    flag.touch()
    wait_until(lambda: _open_fds(holder.pid) == fds_before + 2)
    assert len(_pipe_fds(scanner, holder.pid)) == len(before) + 2


def test_a_quiet_process_of_two_threads_is_read_again_when_the_other_thread_runs(holders, scanner):
    """Its main thread never wakes (/proc/PID/schedstat is the main thread's): each thread's counts are in
    its mark, so it is quiet while both sleep, and read again once the second has run and opened a pipe."""
    with woken_by_a_byte(holders, "thread-pipe-on-read") as (holder, write_end):
        _settled(scanner, holder.pid)
        assert scanner.quiet is not None and scanner.quiet.threads[holder.pid] == 2
        before, fds_before = _pipe_fds(scanner, holder.pid), _open_fds(holder.pid)
        os.write(write_end, b"x")
        wait_until(lambda: _open_fds(holder.pid) == fds_before + 2)
        assert len(_pipe_fds(scanner, holder.pid)) == len(before) + 2


def test_a_quiet_process_whose_parent_exits_has_its_new_parent(holders, scanner):
    with _holding_a_pipe_end(holders, "fork-holder") as parent:
        orphan = int(parent.ready.split()[1])
        try:
            _settled(scanner, orphan)
            assert scanner.scan().processes[orphan].ppid == parent.pid
            holders.end(parent)
            new_parent = wait_until(lambda: _ppid(orphan) != parent.pid and _ppid(orphan))
            assert scanner.scan().processes[orphan].ppid == new_parent
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(orphan, signal.SIGKILL)
            wait_until(lambda: not _alive(orphan))


def test_a_fifo_renamed_by_another_process_shows_its_new_path(holders, tmp_path, scanner):
    path = tmp_path / "before"
    os.mkfifo(path)
    reader = holders.spawn("fifo-open", path, "r")
    writer = holders.spawn("fifo-open", path, "w")
    wait_until(lambda: any(f.path == str(path) and len(f.ends) == 2 for f in scanner.scan().fifos.values()))
    _settled(scanner, reader.pid)
    renamed = tmp_path / "after"
    os.rename(path, renamed)
    fifos = scanner.scan().fifos.values()
    assert [f.path for f in fifos if {e.pid for e in f.ends} == {reader.pid, writer.pid}] == [str(renamed)]


def test_a_quiet_fifo_holder_has_its_fifo_links_read_not_its_fd_directory(holders, tmp_path, scanner, monkeypatch):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    reader = holders.spawn("fifo-open", path, "r")
    holders.spawn("fifo-open", path, "w")
    wait_until(lambda: any(f.path == str(path) and len(f.ends) == 2 for f in scanner.scan().fifos.values()))
    _settled(scanner, reader.pid)
    listed = []
    real_listdir = os.listdir

    def listdir(directory):  # type: ignore[no-untyped-def]
        listed.append(str(directory))
        return real_listdir(directory)

    monkeypatch.setattr(os, "listdir", listdir)
    for _ in range(3):
        fifos = scanner.scan().fifos.values()
        assert [f.path for f in fifos if reader.pid in {e.pid for e in f.ends}] == [str(path)]
    # at most one scan of the three is the reader's turn to be read in full (quiet.turn_length)
    assert listed.count(f"/proc/{reader.pid}/fd") <= 1


@pytest.mark.parametrize("interval", [None, 0.5])
def test_bytes_written_through_proc_into_a_quiet_process_pipe_show_within_a_turn(holders, scanner, interval):
    """No holder runs, yet the pipe fills: another process opened it through /proc/PID/fd/N for a
    moment.  No counter shows it; the pipe's own turn (quiet.FULL_EVERY scans, or a minute's at a
    monitor's pace: 120 at 0.5 s) measures it again."""
    if interval is not None:
        scanner.pace(interval)
    read_end, write_end = os.pipe()
    try:
        holder = holders.spawn("hold", pass_fds=(read_end,))
    finally:
        os.close(read_end)
        os.close(write_end)
    _settled(scanner, holder.pid)
    (held,) = scanner.scan().processes[holder.pid].pipes
    assert scanner.scan().pipes[held.inode].fill == 0
    writer = os.open(f"/proc/{holder.pid}/fd/{held.fd}", os.O_WRONLY)
    try:
        os.write(writer, b"x" * 100)
    finally:
        os.close(writer)
    turn = FULL_EVERY if interval is None else 120
    assert scanner.quiet is not None and scanner.quiet.full_every == turn
    fills = [scanner.scan().pipes[held.inode].fill for _ in range(turn + 1)]
    assert fills[-1] == 100  # the holder never ran: the pipe was measured at its own turn
    assert scanner.quiet is not None and holder.pid in scanner.quiet.unchanged_pids()


def test_two_scanners_share_nothing(holders):
    """What one scanner remembers is its own: a second one reads every process afresh."""
    with _holding_a_pipe_end(holders, "hold") as holder:
        first = Scanner()
        _settled(first, holder.pid)
        second = Scanner()
        second.scan()
        assert first.quiet is not None and second.quiet is not None
        # a scanner's first scan reads every process in full: nothing is quiet before its second
        assert first.quiet.quiet(holder.pid) and not second.quiet.quiet(holder.pid)


def test_a_scanner_used_from_two_threads_scans_one_at_a_time():
    scanner = Scanner()
    inside, overlapped = [0], []
    original = scanner._scan

    def counted(*args):  # type: ignore[no-untyped-def]
        inside[0] += 1
        overlapped.append(inside[0] > 1)
        try:
            return original(*args)
        finally:
            inside[0] -= 1

    scanner._scan = counted  # type: ignore[method-assign]
    workers = [threading.Thread(target=scanner.scan) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert overlapped == [False] * 4


def test_a_monitors_first_scan_reads_run_counts_so_its_second_reads_only_what_ran(holders):
    """The second scan of a monitor is as cheap as the later ones (at 10 s, the second scan was
    a full reading of every process ten seconds after the first); a one-off reads no counts."""
    with _holding_a_pipe_end(holders, "hold") as holder:
        wait_until(lambda: wchan(holder.pid) != "")
        scanner = Scanner()
        scanner.scan()
        assert scanner.quiet is not None and holder.pid in scanner.quiet.now
        wait_until(lambda: scanner.scan() and scanner.quiet is not None
                   and holder.pid in scanner.quiet.unchanged_pids(), timeout=10)
        assert scanner.quiet.scans == 2  # the holder did not run between the two
        assert Scanner(remember_quiet=False).quiet is None


def test_a_quiet_process_whose_parent_runs_but_lives_keeps_its_ppid_unread_until_the_parent_exits(holders, tmp_path):
    stat_reads: list[int] = []

    class CountingProcFS(ProcFS):
        def read_pid_record(self, pid: int, name: str) -> bytes:
            if name == "stat":
                stat_reads.append(pid)
            return super().read_pid_record(pid, name)

    scanner = Scanner(CountingProcFS())
    flag = tmp_path / "exit"
    with _holding_a_pipe_end(holders, "fork-busy-parent", flag) as parent:
        orphan = int(parent.ready.split()[1])
        try:
            _settled(scanner, orphan)
            assert scanner.quiet is not None
            unread = 0
            for _ in range(4):
                ran = _run_counts(parent.pid)
                wait_until(lambda ran=ran: _run_counts(parent.pid) != ran)  # the parent ran since the last scan
                before = len(stat_reads)
                assert scanner.scan().processes[orphan].ppid == parent.pid
                assert not scanner.quiet.quiet(parent.pid)  # it runs every 20 ms
                if scanner.quiet.quiet(orphan):  # not its turn to be read in full
                    assert orphan not in stat_reads[before:]
                    unread += 1
            assert unread >= 3
            flag.touch()
            new_parent = wait_until(lambda: _ppid(orphan) != parent.pid and _ppid(orphan))
            assert scanner.scan().processes[orphan].ppid == new_parent  # its old parent is a zombie, or gone
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(orphan, signal.SIGKILL)
            wait_until(lambda: not _alive(orphan))


def test_a_command_line_written_into_a_quiet_process_shows_at_its_turn_without_its_stat_read_again(holders):
    """Another process may write into a process's argv memory (/proc/PID/mem, as a debugger does) while it
    sleeps: no run count moves, so the command line is read again at the process's turn.  Its stat and
    wchan change only when it runs itself, and are not read again then."""
    reads: list[tuple[int, str]] = []

    class CountingProcFS(ProcFS):
        def read_pid_record(self, pid: int, name: str) -> bytes:
            reads.append((pid, name))
            return super().read_pid_record(pid, name)

    scanner = Scanner(CountingProcFS())
    with _holding_a_pipe_end(holders, "hold") as holder:
        _settled(scanner, holder.pid)
        before = scanner.scan().processes[holder.pid]
        assert before.cmdline.endswith(" hold")
        ran = _run_counts(holder.pid)
        _rewrite_argv(holder.pid, b"hold\0", b"HOLD\0")
        assert scanner.quiet is not None
        for _ in range(scanner.quiet.every + 1):
            start = len(reads)
            now = scanner.scan().processes[holder.pid]
            if now.cmdline != before.cmdline:
                break
        assert now.cmdline.endswith(" HOLD")
        assert _run_counts(holder.pid) == ran  # it never ran: its turn showed the change
        assert now.state == before.state and now.wchan == before.wchan
        read_at_its_turn = {name for pid, name in reads[start:] if pid == holder.pid}
        assert "cmdline" in read_at_its_turn
        assert not read_at_its_turn & {"stat", "wchan"}


def _rewrite_argv(pid: int, old: bytes, new: bytes) -> None:
    """Write `new` over `old` in the argument area of `pid` (arg_start and arg_end: fields 48 and 49 of stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    arg_start, arg_end = int(fields[45]), int(fields[46])
    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
        mem.seek(arg_start)
        at = mem.read(arg_end - arg_start).index(old)
        mem.seek(arg_start + at)
        mem.write(new)


def _run_counts(pid: int) -> str:
    with open(f"/proc/{pid}/schedstat") as f:
        return f.read()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone; or reaped between the open and the read (ESRCH)
        return False


def test_as_nobody_scans_from_memory_agree_with_full_reads(holders):
    """An unprivileged monitor may read the run counts of every process but the fds of its own only."""
    from tests.support.unprivileged import run_as_nobody

    holder = holders.spawn("hold")

    def scans() -> list[object]:
        scanner = Scanner()
        for _ in range(3):
            scanner.scan()
        remembered, full = scanner.scan(), take_snapshot()
        return [
            holder.pid in {u.pid for u in full.uninspectable},
            holder.pid in {u.pid for u in remembered.uninspectable},
            len(scanner.quiet.now) > 0 if scanner.quiet else False,
        ]

    assert run_as_nobody(scans) == [True, True, True]


def test_a_process_forked_as_another_is_reaped_between_two_scans_is_listed(holders, scanner):
    """The listing of /proc is kept while /proc's link count (the machine's processes) is unchanged and
    none of those listed is gone; one reaped and one forked leave the count as it was."""
    if not ProcFS().shows_every_process():
        pytest.skip("not the initial pid namespace's /proc: every scan lists /proc")
    with _holding_a_pipe_end(holders, "hold") as first:
        quiet = scanner.quiet
        assert quiet is not None
        skipped = quiet.lists_skipped
        wait_until(lambda: scanner.scan() and first.pid in scanner.quiet.listed and quiet.lists_skipped > skipped,
                   timeout=10)
        holders.end(first, signal.SIGKILL)  # reaped
        with _holding_a_pipe_end(holders, "hold") as second:
            snapshot = scanner.scan()
            assert second.pid in snapshot.processes and first.pid not in snapshot.processes
            assert second.pid in snapshot.live_pids and first.pid not in snapshot.live_pids


def test_in_a_pid_namespace_of_its_own_every_scan_lists_proc(tmp_path):
    """There /proc's link count also counts processes it cannot see, whose exits no held file reports."""
    if subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True).returncode:
        pytest.skip("unshare --pid is not allowed here")
    code = "from ipctop.collectors.procfs import ProcFS; print(ProcFS().shows_every_process())"
    inside = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=60, check=True)
    assert inside.stdout.strip() == "False"


def test_a_monitors_pace_sets_how_many_scans_a_turn_lasts():
    """Every process is read in full once a minute at a monitor's pace, and at least every FULL_EVERY scans;
    on a large machine the turn doubles until a scan reads about TURN_PROCESSES for it."""
    assert [turn_length(interval) for interval in (None, 0.1, 1, 2, 10, 60)] == [FULL_EVERY, 600, 60, 30, 30, 30]
    by_count = [turn_length(1, processes) for processes in (1_000, 6_000, 6_001, 10_000, 100_000)]
    assert by_count == [60, 60, 120, 120, 1920]
    assert turn_length(10, 10_000) == 120 and turn_length(0.1, 10_000) == 600
    scanner = Scanner()
    scanner.pace(1)
    scanner.scan()
    assert scanner.quiet is not None and scanner.quiet.full_every == 60
