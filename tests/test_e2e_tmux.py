"""End to end: the installed `ipctop` in a real terminal (tmux), read from the screen.

Each test runs tmux on a socket of its own, types keys with send-keys, reads the
screen with capture-pane, and kills that tmux server and removes its socket file
whatever happens.  The shell in the pane prints ipctop's exit code after it, so
seeing `ipctop-exit=0` on the normal screen shows both the exit code and that the
terminal was given back.

Every step waits for what the screen must show after it, never for a time: on a
busy machine (a scan of a thousand processes, other test suites) a step may take
many seconds, so the deadlines are generous; they only bound a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("ipctop") is None, reason="ipctop is not installed on PATH"),
]


DEADLINE = 60.0  # seconds: what a step may take on a loaded machine before the test fails


class Terminal:
    """A tmux server of our own with one 120x40 window running `command`."""

    def __init__(self, command: str) -> None:
        # A socket in a directory of our own (-S), removed with it: `-L` would leave /tmp/tmux-UID behind.
        self.directory = tempfile.mkdtemp(prefix="ipctop-test-tmux-")
        self.socket = os.path.join(self.directory, f"ipctop-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            self.tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", command)
        except BaseException:
            self.close()
            raise

    def tmux(self, *args: str) -> str:
        command = ["tmux", "-S", self.socket, "-f", "/dev/null", *args]  # no user configuration
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        """Type keys in order; a test waits for what each must show before relying on it."""
        for key in keys:
            self.tmux("send-keys", "-t", "e2e", key)

    def wait_for(self, text: str, timeout: float = DEADLINE) -> str:
        return self.wait_for_match(re.escape(text), timeout, shown=repr(text))

    def wait_for_match(self, pattern: str, timeout: float = DEADLINE, shown: str = "") -> str:
        """The screen, once a line of it matches `pattern`; fail after `timeout` seconds."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if any(compiled.search(line) for line in screen.splitlines()):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{shown or pattern} did not appear on the screen within {timeout:g}s:\n{screen}")
            time.sleep(0.1)

    def wait_until_gone(self, text: str, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while text in (screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} stayed on the screen for {timeout:g}s:\n{screen}")
            time.sleep(0.1)

    def shell_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", "e2e", "#{pane_pid}").strip())

    def socket_path(self) -> Path:
        return Path(self.socket)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)  # kill-server leaves the socket file behind


# The short sleep lets tmux give the pane its size before ipctop asks for it.
COMMAND = "sleep 0.3; ipctop -d 0.5; echo ipctop-exit=$?; sleep 60"


# What each pane's header line shows: its own columns, in order (a tab label alone, such as
# "6 Events", is on the screen whichever pane is shown, so it cannot prove the switch).
PANE_HEADERS = (
    ("2", r"MsqID.*Key.*Msgs"),
    ("3", r"SemID.*Key.*Values"),
    ("4", r"Pipe/FIFO.*State"),
    ("5", r"Process.*PID.*User.*Holds"),
    ("6", r"Time.*Event.*Object.*Process"),
    ("1", r"ShmID.*Key.*Owner"),
)


def test_switch_panes_and_quit():
    terminal = Terminal(COMMAND)
    try:
        terminal.wait_for("1 Shared memory")
        terminal.wait_for("0.5s")  # the interval, in the summary line
        for key, header in PANE_HEADERS:
            terminal.keys(key)
            terminal.wait_for_match(header)
        terminal.keys("?")
        terminal.wait_for("ipctop — keys")
        terminal.keys("Escape")
        # Gone from the screen: the Escape was read on its own, so the next key is not taken as Alt+key.
        terminal.wait_until_gone("ipctop — keys")
        terminal.keys("p")
        terminal.wait_for("PAUSED")
        terminal.keys("q")
        screen = terminal.wait_for("ipctop-exit=0")
        assert "ShmID" not in screen  # the alternate screen is gone: the terminal is restored
    finally:
        terminal.close()


def test_the_socket_file_goes_with_the_terminal():
    terminal = Terminal("sleep 60")
    try:
        path = terminal.socket_path()
        assert path.is_socket()
    finally:
        terminal.close()
    assert not path.exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_exits_cleanly(signum):
    terminal = Terminal(COMMAND)
    try:
        terminal.wait_for("1 Shared memory")
        shell = terminal.shell_pid()
        with open(f"/proc/{shell}/task/{shell}/children") as children:
            (ipctop_pid,) = (int(pid) for pid in children.read().split())
        os.kill(ipctop_pid, signum)
        screen = terminal.wait_for("ipctop-exit=0")
        assert "ShmID" not in screen
    finally:
        terminal.close()
