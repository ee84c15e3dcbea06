"""A monitor whose terminal goes away without a SIGHUP reaching it ends, and spins no core meanwhile.

Run through `runuser` or `sudo`, or in a session of its own, ipctop is not told by the kernel when
its terminal closes: its input then reads end of file at once, every time.  Textual's input loop
left only its inner loop there and went straight back to select(), which said "readable" again:
a thread at 100% of a core for as long as the monitor lived (found with `runuser -u nobody` in a
tmux that was killed).  Here the installed ipctop runs on a pseudo-terminal that is not its
controlling terminal (a session of its own), and the test closes the terminal's master side.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

from tests.test_e2e_tmux import IPCTOP, pytestmark  # noqa: F401 - the same requirements as the end-to-end tests

EXIT_WITHIN = 15.0  # seconds: the app's own exit on SIGHUP, on a loaded machine


def _read_until(master: int, text: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{text!r} not on the terminal within {timeout:g} s: {seen[-400:]!r}")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            seen += os.read(master, 65536)
    return seen


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_monitor_ends_when_its_terminal_goes_away_without_a_hangup_signal():
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        [str(IPCTOP), "-d", "3600", "--pid", str(os.getpid())],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,  # the pty is not its controlling tty
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        _read_until(master, b"3600s", 60)
        os.close(master)
        master = -1
        deadline = time.monotonic() + EXIT_WITHIN
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        cpu = _cpu_seconds(process.pid) if process.poll() is None else 0.0
        assert process.poll() is not None, f"ipctop still runs {EXIT_WITHIN:g} s after its terminal went away " \
                                           f"({cpu:.1f} s of CPU)"
    finally:
        if master >= 0:
            os.close(master)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
