"""Start and end the child processes that hold IPC objects for a test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

CHILD = os.path.join(os.path.dirname(__file__), "child.py")


@dataclass
class Held:
    pid: int
    ready: str
    popen: subprocess.Popen


class Holders:
    """Spawns holder children; `close()` ends every one of them by pid."""

    def __init__(self) -> None:
        self.children: list[Held] = []

    def spawn(self, *args: object, pass_fds: tuple[int, ...] = (), wait_ready: bool = True) -> Held:
        popen = subprocess.Popen(
            [sys.executable, CHILD, *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            pass_fds=pass_fds,
            text=True,
        )
        line = popen.stdout.readline().strip() if wait_ready else ""
        if wait_ready:
            popen.stdout.read()  # to the end: the child has closed its report
            # ...and gone to sleep where it waits (pause, semop, msgrcv, open), or exited: settled.
            wait_until(lambda: _asleep_or_gone(popen.pid), timeout=30)
        held = Held(popen.pid, line, popen)
        self.children.append(held)
        if wait_ready and not line.startswith("ready"):
            raise RuntimeError(f"holder {args} failed: {line!r}")
        return held

    def end(self, held: Held, sig: int = signal.SIGTERM) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(held.pid, sig)
        code = held.popen.wait(timeout=10)
        if held.popen.stdout:
            held.popen.stdout.close()
        return code

    def close(self) -> None:
        for held in self.children:
            if held.popen.poll() is None:
                self.end(held, signal.SIGKILL)
            elif held.popen.stdout:
                held.popen.stdout.close()
        self.children.clear()


# How long a test waits for what must happen before it fails. Generous: on a loaded machine (CI beside
# other jobs, the namespaced run) a child can wait seconds for a CPU, and a wait that passes ends as soon
# as its condition holds. How fast ipctop is, the benchmark measures; no test times it.
WAIT_SECONDS = 30.0


def wait_until(predicate, timeout: float = WAIT_SECONDS, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def process_state(pid: int) -> str:
    """One letter of /proc/PID/stat (S sleeping, R running, Z zombie...); "" once the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _asleep_or_gone(pid: int) -> bool:
    """Off the CPU in a sleep (a task still switching away reads state S with wchan 0), or exited."""
    state = process_state(pid)
    if state in ("Z", ""):
        return True
    try:
        return state == "S" and wchan(pid) not in ("", "0")
    except OSError:
        return True


def wchan(pid: int) -> str:
    with open(f"/proc/{pid}/wchan") as f:
        return f.read().strip()


@contextlib.contextmanager
def woken_by_a_byte(holders, *command: object) -> Iterator[tuple[Held, int]]:  # type: ignore[no-untyped-def]
    """A child given the read end of a pipe, its fd number as the command's last argument, and the write end,
    which the test keeps (writing a byte to it wakes the child) and which is closed at the end."""
    read_end, write_end = os.pipe()
    try:
        child = holders.spawn(*command, read_end, pass_fds=(read_end,))
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    try:
        yield child, write_end
    finally:
        os.close(write_end)
