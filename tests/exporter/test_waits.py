"""How long a process has waited: the WaitClock against real processes that block, wake and block again."""

from __future__ import annotations

import os
import subprocess
import sys

from ipctop.collectors.procfs import ProcFS
from ipctop.exporter.waits import WaitClock, schedstat_reader, waits_in
from ipctop.snapshot import Scanner
from tests.support.holders import wait_until, wchan


def seconds_of(pid: int, scanner: Scanner, clock: WaitClock) -> dict[str, float]:
    """call -> seconds, for the waits of `pid` in one scan."""
    snapshot = scanner.scan()
    waits = clock.measure(waits_in(snapshot), snapshot.time)
    return {wait.call: seconds for wait, seconds in waits.items if wait.pid == pid}


def schedstat(pid: int) -> str:
    with open(f"/proc/{pid}/schedstat") as f:
        return f.read()


def test_a_reader_that_wakes_starts_again_from_zero():
    read_fd, write_fd = os.pipe()
    reader = subprocess.Popen([sys.executable, "-c", "import os\nwhile os.read(0, 1): pass"],
                              stdin=read_fd, stdout=subprocess.DEVNULL)
    os.close(read_fd)
    try:
        def asleep() -> bool:
            return wchan(reader.pid) in ("pipe_read", "anon_pipe_read")

        wait_until(asleep, timeout=30)
        scanner, clock = Scanner(), WaitClock(schedstat_reader(ProcFS()))
        assert seconds_of(reader.pid, scanner, clock) == {"pipe_read": 0.0}
        wait_until(lambda: seconds_of(reader.pid, scanner, clock)["pipe_read"] > 0, timeout=30)
        ran = schedstat(reader.pid)
        os.write(write_fd, b"x")
        wait_until(lambda: schedstat(reader.pid) != ran and asleep(), timeout=30)
        assert seconds_of(reader.pid, scanner, clock) == {"pipe_read": 0.0}  # it ran: blocked again only now
    finally:
        os.close(write_fd)
        reader.wait(timeout=30)
