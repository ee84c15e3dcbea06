"""Between two scans, with nobody typing, nothing in ipctop runs: no thread of it wakes up.

The installed ipctop runs in tmux with a refresh interval of an hour, so that after its
first scan nothing is due.  Its threads' context switches (/proc/PID/task/*/status) are
counted over a few seconds: Textual's own input thread used to wake ten times a second to
poll for its exit (ipctop/tui/driver.py).  A key typed afterwards is still answered, and
`q` still exits at once.
"""

from __future__ import annotations

import os
import shlex
import time

from tests.test_e2e_tmux import IPCTOP, Terminal, pytestmark  # noqa: F401 - the same tmux and ipctop requirements
from tests.tui.test_actions_exit import end_if_left, ipctop_pid

QUIET_SECONDS = 3.0
AT_MOST = 3  # wake-ups allowed in that time (Textual's polling input thread made about 30)


def wakeups(pid: int) -> int:
    """Context switches of all of the process's threads so far (each time one of them slept and woke)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                total += sum(int(line.split()[1]) for line in status if "ctxt_switches" in line)
        except OSError:
            continue  # a thread that ended in between
    return total


def test_no_thread_wakes_between_scans_and_keys_still_work():
    terminal = Terminal(f"{shlex.quote(str(IPCTOP))} -d 3600 --pid {os.getpid()}; echo ipctop-exit=$?; sleep 60")
    pid = shell = None
    try:
        terminal.wait_for("3600s")  # "every" goes first when the line is short of room
        shell = terminal.shell_pid()
        pid = ipctop_pid(terminal)
        time.sleep(1.0)  # the first screen's last layout and paint (a quiet window, not a wait for a result)
        before = wakeups(pid)
        time.sleep(QUIET_SECONDS)
        woke = wakeups(pid) - before
        assert woke <= AT_MOST, f"ipctop's threads woke {woke} times in {QUIET_SECONDS:g} s with nothing to do"

        terminal.keys("5")
        terminal.wait_for_match(r"Process.\s+PID")
        terminal.keys("q")
        terminal.wait_for("ipctop-exit=0")
    finally:
        terminal.close()
        if pid is not None and shell is not None:
            end_if_left(pid, shell)


def test_another_major_textual_keeps_its_own_driver():
    import textual

    from ipctop.tui.driver import fits

    assert fits(textual.__version__)  # the installed one: the quiet driver runs (the test above counts it)
    assert not fits("9.0.0") and not fits("0.80.0")
