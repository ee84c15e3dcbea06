"""The pipe demos make what they teach: checked in /proc while they run."""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import re
import signal
import termios

from ipctop.demos import DemoRun
from tests.demos.helpers import pipe_ends, run_demo, wait_for, wchan, zombie_status

F_GETPIPE_SZ = 1032


class BlockedSeen:
    """Called with each narration line: when the demo says a process is about to block,
    wait for the kernel to show it sleeping in `function` and remember that it did."""

    def __init__(self, trigger: str, function: str, pid_of=lambda run: run.pid) -> None:  # noqa: ANN001
        self.trigger, self.function, self.pid_of = trigger, function, pid_of
        self.seen: list[str] = []

    def __call__(self, run: DemoRun, line: str) -> None:
        if self.trigger in line:
            pid = self.pid_of(run)
            # A miss is allowed (the process may be through before the test looks); the test wants one hit.
            with contextlib.suppress(AssertionError):
                self.seen.append(wait_for(lambda: wchan(pid) if wchan(pid).endswith(self.function) else "",
                                          timeout=2.0))


def test_pipe_shows_the_two_ends_and_a_reader_blocked_on_an_empty_pipe():
    def ends_split(run: DemoRun) -> None:
        parent, child = run.pid, run.made.pid_of("child")
        parent_ends, child_ends = pipe_ends(parent), pipe_ends(child)
        assert [mode for _inode, mode in parent_ends.values()] == ["r"]
        assert [mode for _inode, mode in child_ends.values()] == ["w"]
        assert {inode for inode, _ in parent_ends.values()} == {inode for inode, _ in child_ends.values()}

    blocked = BlockedSeen("read blocks", "pipe_read")
    done = run_demo("pipe", speed=4, at={"talk": ends_split}, on_line=blocked)
    assert blocked.seen, "the parent was never seen blocked in read"
    assert sum(") = 8 \"hello " in line for line in done.lines) == 5
    assert "0 (end of file)" in done.text
    assert "WEXITSTATUS = 0" in done.text


def _read_end(pid: int) -> int:
    return next(fd for fd, (_inode, mode) in pipe_ends(pid).items() if mode == "r")


def _fill(pid: int) -> tuple[int, int]:
    """(bytes waiting, capacity) of the pipe `pid` reads, through /proc/PID/fd."""
    fd = os.open(f"/proc/{pid}/fd/{_read_end(pid)}", os.O_RDONLY | os.O_NONBLOCK)
    try:
        waiting = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, waiting)
        return waiting[0], fcntl.fcntl(fd, F_GETPIPE_SZ)
    finally:
        os.close(fd)


def test_pipe_full_blocks_the_writer_at_exactly_the_capacity():
    seen = {}

    def full(run: DemoRun) -> None:
        writer = run.made.pid_of("writer")
        assert wchan(writer).endswith("pipe_write")
        seen["full"] = _fill(run.pid)

    def after_drain(run: DemoRun) -> None:
        seen["drained"] = _fill(run.pid)

    done = run_demo("pipe-full", at={"drain": full, "atomic": after_drain})
    waiting, capacity = seen["full"]
    assert capacity == 65536 and waiting == capacity
    assert seen["drained"][0] == capacity - 4096 + 1
    assert done.run.results["pipe_capacity"] == capacity
    assert done.run.results["filled_bytes"] == capacity
    assert done.run.results["partial_write"] == 4096
    assert "4096) = -1 EAGAIN" in done.text


def test_sigpipe_kills_the_writer_and_ignoring_it_gives_epipe():
    statuses = {}

    def killed(run: DemoRun) -> None:
        statuses["killed"] = zombie_status(run.made.pid_of("writer"))

    def exited(run: DemoRun) -> None:
        statuses["exited"] = zombie_status(run.made.pid_of("writer"))

    done = run_demo("sigpipe", at={"reap": killed, "reap-epipe": exited})
    assert os.WIFSIGNALED(statuses["killed"]) and os.WTERMSIG(statuses["killed"]) == signal.SIGPIPE
    assert os.WIFEXITED(statuses["exited"]) and os.WEXITSTATUS(statuses["exited"]) == 32  # EPIPE
    assert done.run.results["sigpipe_status"] == statuses["killed"]
    assert "-1 EPIPE" in done.text


def test_pipe_eof_needs_every_write_end_closed():
    def own_end_open(run: DemoRun) -> None:
        ends = pipe_ends(run.pid)
        assert sorted(mode for _inode, mode in ends.values()) == ["r", "w"]
        assert len({inode for inode, _ in ends.values()}) == 1
        assert set(run.current.pids) == {run.pid}, "the writer is gone, the reader alone holds both ends"

    blocked = BlockedSeen("read blocks", "pipe_read")
    done = run_demo("pipe-eof", speed=4, at={"close": own_end_open}, on_line=blocked)
    assert blocked.seen
    assert done.run.results == {"eof_read": 0, "forgotten_end_poll": 0, "eof_after_close": 0}


def test_pipeline_joins_three_siblings_like_a_shell():
    def plumbed(run: DemoRun) -> None:
        a, b, c = (pipe_ends(run.made.pid_of(name)) for name in "abc")
        assert pipe_ends(run.pid) == {}, "the shell closed all four ends"
        assert set(a) == {1} and a[1][1] == "w"
        assert set(b) == {0, 1} and b[0] == (a[1][0], "r") and b[1][1] == "w"
        assert set(c) == {0} and c[0] == (b[1][0], "r")
        assert a[1][0] != b[1][0]

    done = run_demo("pipeline", at={"run": plumbed})
    assert done.run.results["lines"] == 5
    assert [done.run.results[f"status_{name}"] for name in "abc"] == [0, 0, 0]
    assert re.search(r'(read\(0, buf, 64|<\.\.\. read resumed>\)) = 7 "BANANA\\n"', done.text)
