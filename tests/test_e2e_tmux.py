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

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from ipctop.kernel import sysv
from tests.support.installed import installed_ipctop
from tests.support.scratch import scratch_dir
from tests.support.shell_children import descendants

IPCTOP = installed_ipctop()
pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(IPCTOP is None, reason="ipctop is not installed (scripts/install --test)"),
]


DEADLINE = 60.0  # seconds: what a step may take on a loaded machine before the test fails


class Terminal:
    """A tmux server of our own with one window (120x40 unless told) running `command`."""

    def __init__(self, command: str, size: tuple[int, int] = (120, 40)) -> None:
        # A socket in a directory of our own (-S), removed with it: `-L` would leave /tmp/tmux-UID behind.
        self.directory = scratch_dir("ipctop-test-tmux-")
        self.socket = os.path.join(self.directory, f"ipctop-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            self.tmux("new-session", "-d", "-s", "e2e", "-x", str(size[0]), "-y", str(size[1]), command)
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

    def type_at_once(self, *keys: str) -> None:
        """Type keys in one go, as quickly as a terminal passes them on (one send-keys)."""
        self.tmux("send-keys", "-t", "e2e", *keys)

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
        """Kill the terminal, as closing a window does; whatever ran in it must go too (an ipctop
        whose terminal went away gets SIGHUP and exits): what outlives it is killed and reported."""
        try:
            inside = descendants(self.shell_pid())
        except (RuntimeError, ValueError, OSError, subprocess.SubprocessError):
            inside = []
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)  # kill-server leaves the socket file behind
        deadline = time.monotonic() + 20
        while (left := [pid for pid in inside if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if any("ipctop" in command for command in map(_command, left)):
            raise AssertionError(f"ipctop outlived its terminal (pids {left}, killed now)")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# The short sleep lets tmux give the pane its size before ipctop asks for it; --no-config: whatever
# settings the machine's user saved, the tests see the defaults.
COMMAND = f"sleep 0.3; {shlex.quote(IPCTOP or 'ipctop')} -d 0.5 --no-config; echo ipctop-exit=$?; sleep 60"


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


def test_keys_typed_at_once_take_effect_in_order():
    terminal = Terminal(COMMAND)
    try:
        terminal.wait_for("1 Shared memory")
        terminal.keys("6")
        terminal.wait_for_match(r"Time.*Event.*Object.*Process")
        # From pane 6, `1` then `/` then text: pane 1, filtered (not pane 6's filter).
        terminal.type_at_once("1", "/", *"zqx")
        screen = terminal.wait_for("filter / zqx")
        assert re.search(r"ShmID.*Key", screen), screen
        # Escape then `3` at once: the filter is cleared and pane 3 shown (not Alt+3, not `£`).
        terminal.type_at_once("Escape", "3")
        screen = terminal.wait_for_match(r"SemID.*Key.*Values")
        terminal.wait_until_gone("filter / zqx")
        # Escape then `/` at once: Escape is not lost; the filter opens.
        terminal.type_at_once("Escape", "/", *"abc")
        terminal.wait_for("filter / abc")
        terminal.keys("Escape", "q")
        terminal.wait_for("ipctop-exit=0")
    finally:
        terminal.close()


def test_htops_function_keys_and_the_saved_settings_in_a_real_terminal(tmp_path):
    config = tmp_path / "ipctop" / "config.toml"
    config.parent.mkdir()
    config.write_text('interval = 0.2\n\n[panes.shm]\nhidden = ["owner"]\n')
    command = (f"sleep 0.3; XDG_CONFIG_HOME={shlex.quote(str(tmp_path))} {shlex.quote(IPCTOP or 'ipctop')}; "
               "echo ipctop-exit=$?; sleep 60")  # fmt: skip
    terminal = Terminal(command)
    try:
        screen = terminal.wait_for_match(r"ShmID.*Key")
        assert "Owner" not in header(screen, r"ShmID.*Key")  # hidden, as saved
        terminal.wait_for("0.2s")  # the interval saved
        terminal.keys("F3")  # the terminal's F3: the search line
        terminal.wait_for("search F3")
        terminal.keys("Escape", "F4")
        terminal.wait_for("filter /")
        terminal.keys("Escape", "F5")  # the tree is the processes pane's: said so
        terminal.wait_for("only in 5 Processes")
        terminal.keys("5", "j", "F1")
        terminal.wait_for("ipctop — keys")
        terminal.keys("Escape")
        terminal.wait_until_gone("ipctop — keys")
        terminal.keys("F10")
        terminal.wait_for("ipctop-exit=0")
    finally:
        terminal.close()


def header(screen: str, pattern: str) -> str:
    return next(line for line in screen.splitlines() if re.search(pattern, line))


def test_at_80x24_each_pane_keeps_the_columns_that_matter(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 65536, sysv.IPC_CREAT | 0o640)
    read_end, write_end = os.pipe()
    try:
        holder = holders.spawn("shm-attach", shmid, pass_fds=(write_end,))
        command = f"sleep 0.3; {shlex.quote(IPCTOP or 'ipctop')} -d 0.5 -p {holder.pid}; sleep 60"
        terminal = Terminal(command, size=(80, 24))
        try:
            # attached by, named briefly when it is narrow (how narrow depends on what the other columns need
            # on this machine: with nine-digit shmids there was room for the script's name too)
            screen = terminal.wait_for_match(rf"python( child\.py)?\[{holder.pid}\]")
            line = header(screen, r"ShmID")
            # Status (dest, locked) is empty for every row here: it is the first to give its room away
            assert re.search(r"ShmID.*Key.*Size.*Att.*Attached by", line) and "Status" not in line, line
            terminal.keys("4")
            line = header(terminal.wait_for_match(r"Pipe/FIFO.*State"), r"Pipe/FIFO")
            assert "Fill" in line, line
            terminal.keys("5")
            screen = terminal.wait_for_match(r"Process.*PID.*Holds")
            assert re.search(rf"python child\S* +{holder.pid} .*shm {shmid}", screen), screen  # the name may be cut
        finally:
            terminal.close()
    finally:
        os.close(read_end)
        os.close(write_end)
        sysv.shm_remove(shmid)


def test_at_200x60_the_room_goes_to_the_text_columns(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 65536, sysv.IPC_CREAT | 0o640)
    try:
        holders_of = [holders.spawn("shm-attach", shmid) for _ in range(4)]
        pids = ",".join(str(h.pid) for h in holders_of)
        command = f"sleep 0.3; {shlex.quote(IPCTOP or 'ipctop')} -d 0.5 -p {pids}; sleep 60"
        terminal = Terminal(command, size=(200, 60))
        try:
            screen = terminal.wait_for(f"python child.py[{holders_of[-1].pid}]")  # every attacher, by its script
            assert all(f"python child.py[{h.pid}]" in screen for h in holders_of), screen
            assert re.search(r"ShmID.*Attached by.*Status.*Changed.*Creator.*Perms", header(screen, "ShmID"))
            assert "rw-r-----" in screen  # Perms whole
            terminal.keys("5")
            # The whole command line of a holder: the room the tables left empty before.
            screen = terminal.wait_for(f"child.py shm-attach {shmid}")
            assert re.search(r"Process.*PID.*User.*State.*Holds.*Age.*Command", header(screen, r"Process.*PID"))
        finally:
            terminal.close()
    finally:
        sysv.shm_remove(shmid)


def test_list_on_an_80_column_terminal_fits_it(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o640)
    try:
        pids = ",".join(str(holders.spawn("shm-attach", shmid).pid) for _ in range(8))
        command = f"{shlex.quote(IPCTOP or 'ipctop')} list --type shm,pipe --pid {pids}; echo list-done; sleep 60"
        terminal = Terminal(command, size=(80, 24))
        try:
            terminal.wait_for("list-done")
            # wrapped lines joined again, and from the scrollback's start: on a machine with many IPC
            # namespaces (containers) the table of them at the end scrolls the segment out of the screen
            joined = terminal.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "e2e")
            lines = joined.splitlines()
            assert max(len(line) for line in lines) <= 80, joined
            row = next((line for line in lines if line.startswith("0x")), None)
            assert row is not None, joined
            assert re.search(r"python(?: child\.py)?\[\d+\].* \+\d+$", row), row  # what fits, then how many more
        finally:
            terminal.close()
    finally:
        sysv.shm_remove(shmid)
