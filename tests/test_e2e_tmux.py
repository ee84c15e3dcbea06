"""End to end: the installed `ipctop` in a real terminal (tmux), read from the screen.

Each test runs tmux on a socket of its own, types keys with send-keys, reads the
screen with capture-pane, and kills that tmux server whatever happens.  The shell
in the pane prints ipctop's exit code after it, so seeing `ipctop-exit=0` on the
normal screen shows both the exit code and that the terminal was given back.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("ipctop") is None, reason="ipctop is not installed on PATH"),
]


class Terminal:
    """A tmux server of our own with one 120x40 window running `command`."""

    def __init__(self, command: str) -> None:
        self.socket = f"ipctop-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", command)

    def tmux(self, *args: str) -> str:
        command = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]  # no user configuration
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "e2e", key)
            # A key right after Escape would read as Alt+key: let each one arrive on its own.
            time.sleep(0.4 if key == "Escape" else 0.05)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear on the screen:\n{screen}")
            time.sleep(0.1)

    def wait_until_gone(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text in (screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} stayed on the screen:\n{screen}")
            time.sleep(0.1)

    def shell_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", "e2e", "#{pane_pid}").strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


# The short sleep lets tmux give the pane its size before ipctop asks for it.
COMMAND = "sleep 0.3; ipctop -d 0.5; echo ipctop-exit=$?; sleep 60"


def test_switch_panes_and_quit():
    terminal = Terminal(COMMAND)
    try:
        terminal.wait_for("1 Shared memory")
        terminal.wait_for("0.5s")  # the interval, in the summary line
        for key, header in (("2", "MsqID"), ("3", "SemID"), ("4", "Pipe/FIFO"), ("5", "Holds"), ("6", "Event")):
            terminal.keys(key)
            terminal.wait_for(header)
        terminal.keys("1")
        terminal.wait_for("ShmID")
        terminal.keys("?")
        terminal.wait_for("ipctop — keys")
        terminal.keys("Escape")
        terminal.wait_until_gone("ipctop — keys")
        terminal.keys("p")
        terminal.wait_for("PAUSED")
        terminal.keys("q")
        screen = terminal.wait_for("ipctop-exit=0")
        assert "ShmID" not in screen  # the alternate screen is gone: the terminal is restored
    finally:
        terminal.close()


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
