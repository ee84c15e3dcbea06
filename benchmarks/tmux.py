"""Programs in a real terminal: a tmux server of the benchmark's own, at a fixed size.

Each `TerminalSession` runs its own tmux server (`tmux -L ipctop-bench-PID-N`), so
closing it kills that server and nothing else.  The command is given as argv,
which tmux execs directly, so the pane's pid is the program's pid.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import time

_counter = itertools.count()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        text = f.read()
    fields = text[text.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the largest resident set the process has had."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class TerminalSession:
    def __init__(self, argv: list[str], width: int = 200, height: int = 50, env: dict[str, str] | None = None):
        self.socket = f"ipctop-bench-{os.getpid()}-{next(_counter)}"
        self.width, self.height = width, height
        self.started = time.perf_counter()
        environment = {**(os.environ if env is None else env), "TERM": "xterm-256color"}
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "bench", "--", *argv,
                   env=environment)
        pid, self.socket_path = self._tmux("display-message", "-p", "-t", "bench", "#{pane_pid} #{socket_path}").split()
        self.pid = int(pid)

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env,
                                check=False, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def send_keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "bench", *keys)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> float:
        """Seconds since the session started until the screen matches `pattern`."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if regex.search(self.capture()):
                return time.perf_counter() - self.started
            time.sleep(0.005)
        raise TimeoutError(f"the screen did not show {pattern!r} within {timeout:.0f} s")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._tmux("kill-server")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)  # tmux leaves its socket file behind
        # tmux ends the program with SIGHUP; wait until it is gone (reaping it if it came
        # back to us as subreaper), and end it by its pid if it ignored the hangup.
        deadline = time.monotonic() + 10
        while self._running():
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            with contextlib.suppress(ChildProcessError):
                os.waitpid(-1, os.WNOHANG)
            time.sleep(0.02)

    def _running(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                return f.read().rsplit(b") ", 1)[1][:1] != b"Z"
        except OSError:
            return False

    def __enter__(self) -> TerminalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
