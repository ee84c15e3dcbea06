"""Pipe chains and end states: rules on made-up pipes, then on real pipes held by real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from ipctop.model import Pipe, PipeEnd, Snapshot, Wait
from ipctop.pipelines import Chain, chains, pipe_state
from ipctop.snapshot import take_snapshot
from tests.support.fixture_snapshot import fixture_snapshot
from tests.support.holders import wait_until, wchan
from tests.support.shell_children import children_of, execed_children

# Where a process sleeps when blocked on a pipe: anon_pipe_* on Linux 6.18, pipe_* before.
WRITE_WAITS = frozenset({"pipe_write", "anon_pipe_write"})
READ_WAITS = frozenset({"pipe_read", "anon_pipe_read"})


def pipe(
    inode: int, *ends: tuple[int, str], fill: int | None = 0, capacity: int | None = 65536, waiters: tuple = ()
) -> Pipe:
    return Pipe(inode, fill, capacity, tuple(PipeEnd(pid, "x", 3, mode) for pid, mode in ends), waiters)  # type: ignore[arg-type]


def wait(pid: int, call: str, mode: str, exact: bool = True) -> Wait:
    return Wait(pid, pid, "x", call, "pipe", 1, "fd 3", mode, exact)


def test_chains_from_the_fixture():
    assert chains(fixture_snapshot(0)) == [
        Chain((2101, 2102, 2103), (50001, 50002)),
        Chain((4001, 4002), (50003,)),
        Chain((4102, 4101), (50004,)),
    ]


def test_a_branch_splits_chains_and_a_cycle_is_none():
    branch = {1: pipe(1, (10, "w"), (11, "r")), 2: pipe(2, (10, "w"), (12, "r")), 3: pipe(3, (11, "w"), (13, "r"))}
    assert chains(Snapshot(0.0, "", pipes=branch)) == [Chain((10, 11, 13), (1, 3)), Chain((10, 12), (2,))]
    cycle = {1: pipe(1, (10, "w"), (11, "r")), 2: pipe(2, (11, "w"), (10, "r"))}
    assert chains(Snapshot(0.0, "", pipes=cycle)) == []
    shared = {1: pipe(1, (10, "w"), (11, "w"), (12, "r"))}  # two writers: not a link of a chain
    assert chains(Snapshot(0.0, "", pipes=shared)) == []


def test_end_states():
    writer, reader = (wait(1, "write", "w"),), (wait(2, "read", "r"),)
    assert pipe_state(pipe(1, (1, "w"), (3, "r"), fill=65536, waiters=writer)).code == "writer-blocked"
    assert pipe_state(pipe(1, (3, "w"), (2, "r"), waiters=reader)).code == "reader-blocked"
    assert pipe_state(pipe(1, (3, "w"), (2, "r"), waiters=(wait(2, "poll", "r"),))).code == "reader-blocked"
    assert pipe_state(pipe(1, (3, "w"), (3, "r"))).code == "idle"
    assert pipe_state(pipe(1, (3, "w"), (3, "r"), fill=10)).code == "data"
    no_reader = pipe_state(pipe(1, (3, "w")))
    assert no_reader.code == "no-reader" and no_reader.alert and "SIGPIPE" in no_reader.text
    assert pipe_state(pipe(1, (3, "r"))).code == "no-writer"
    guessed = pipe_state(pipe(1, (3, "w"), (2, "r"), waiters=(wait(2, "read", "r", exact=False),)))
    assert guessed.code == "reader-blocked" and guessed.text.endswith("?") and "guess" in guessed.explanation


# --- real pipes -----------------------------------------------------------------------------


def end_all(*pids: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_shell_pipeline_reads_as_a_chain_of_three():
    shell = subprocess.Popen(["sh", "-c", "sleep 1000 | sleep 2000 | sleep 3000"])
    kids: list[int] = []
    try:
        kids = list(execed_children(shell.pid, ("sleep", "sleep", "sleep")))

        def chain_of_kids() -> Chain | None:
            return next((c for c in chains(take_snapshot()) if set(c.pids) == set(kids)), None)

        chain = wait_until(chain_of_kids)
        assert len(chain.pids) == 3 and len(chain.inodes) == 2
        snapshot = take_snapshot()
        commands = [snapshot.processes[pid].cmdline for pid in chain.pids]
        assert commands == ["sleep 1000", "sleep 2000", "sleep 3000"]
    finally:
        end_all(*kids, *children_of(shell.pid), shell.pid)  # the shell's children even if they never settled
        shell.wait(timeout=10)


def _state_of_pipe_held_by(pid: int) -> str | None:
    snapshot = take_snapshot()
    for candidate in snapshot.pipes.values():
        if any(end.pid == pid for end in candidate.ends):
            return pipe_state(candidate, snapshot.processes).code
    return None


def test_a_writer_blocked_on_a_full_pipe():
    read_end, write_end = os.pipe()
    writer = subprocess.Popen([sys.executable, "-c", "import os; os.write(1, b'x' * 70000)"], stdout=write_end)
    os.close(write_end)
    try:
        wait_until(lambda: wchan(writer.pid) in WRITE_WAITS)
        assert wait_until(lambda: _state_of_pipe_held_by(writer.pid) == "writer-blocked")
    finally:
        end_all(writer.pid)
        writer.wait(timeout=10)
        os.close(read_end)


def test_a_reader_blocked_on_an_empty_pipe():
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    try:
        wait_until(lambda: wchan(reader.pid) in READ_WAITS)
        assert wait_until(lambda: _state_of_pipe_held_by(reader.pid) == "reader-blocked")
    finally:
        os.close(write_end)  # cat reads end of file and exits
        reader.wait(timeout=10)


def _state_of(pid: int):  # type: ignore[no-untyped-def]
    snapshot = take_snapshot()
    for candidate in snapshot.pipes.values():
        if any(end.pid == pid for end in candidate.ends):
            return pipe_state(candidate, snapshot.known_processes)
    return None


def _stat_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


def test_a_writer_held_up_by_its_stopped_reader():
    # found with `yes | gzip` and gzip stopped: "writer blocked (full)" named the victim, not the cause
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    writer = None
    try:
        os.kill(reader.pid, signal.SIGSTOP)
        wait_until(lambda: _stat_state(reader.pid) == "T")
        writer = subprocess.Popen([sys.executable, "-c", "import os; os.write(1, b'x' * 70000)"], stdout=write_end)
        os.close(write_end)
        wait_until(lambda: wchan(writer.pid) in WRITE_WAITS)
        state = wait_until(lambda: (found := _state_of(reader.pid)) and found.code == "reader-stopped" and found)
        assert (state.text, state.pid, state.alert) == ("reader stopped (full)", reader.pid, True)
        assert f"its reader cat[{reader.pid}] is stopped" in state.explanation
        assert f"kill -CONT {reader.pid}" in state.explanation
        os.kill(reader.pid, signal.SIGCONT)  # cat reads it all, and the writer finishes
        assert writer.wait(timeout=30) == 0
    finally:
        end_all(reader.pid, *([writer.pid] if writer else []))
        reader.wait(timeout=10)
        if writer:
            writer.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.close(write_end)


def test_a_reader_held_up_by_its_stopped_writer(holders):
    read_end, write_end = os.pipe()
    writer = holders.spawn("hold", pass_fds=(write_end,))
    os.close(write_end)
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    try:
        wait_until(lambda: wchan(reader.pid) in READ_WAITS)
        assert wait_until(lambda: _state_of(reader.pid).code == "reader-blocked")  # the writer is alive: sleeping
        os.kill(writer.pid, signal.SIGSTOP)
        state = wait_until(lambda: (found := _state_of(reader.pid)) and found.code == "writer-stopped" and found)
        assert (state.text, state.pid) == ("writer stopped (empty)", writer.pid)
        os.kill(writer.pid, signal.SIGCONT)
        assert wait_until(lambda: _state_of(reader.pid).code == "reader-blocked")
    finally:
        end_all(reader.pid)
        reader.wait(timeout=10)


def test_a_pipe_without_reader(holders):
    read_end, write_end = os.pipe()
    holder = holders.spawn("hold", pass_fds=(write_end,))
    os.close(write_end)
    os.close(read_end)
    assert wait_until(lambda: _state_of_pipe_held_by(holder.pid) == "no-reader")
