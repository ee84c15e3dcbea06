"""What ipctop holds is released when it exits: the installed ipctop in tmux attaches a real segment
with `a`, waits in a receive with `r`, and is then ended by SIGTERM.

While it waits, ipctop is blocked in msgrcv itself, so that other tools (and its own
cleanup) see a waiter on the queue.  It must still exit at once (a receive still
waiting in a worker thread would otherwise keep the process alive), with exit code 0
and the terminal given back, and the segment's nattch must be back to 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from ipctop.cleanup.waiters import scan_waiters
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from tests.support.holders import wait_until
from tests.test_e2e_tmux import Terminal, pytestmark  # noqa: F401 - the same tmux and ipctop requirements


def ipctop_pid(terminal: Terminal) -> int:
    shell = terminal.shell_pid()
    with open(f"/proc/{shell}/task/{shell}/children") as children:
        (pid,) = (int(pid) for pid in children.read().split())
    return pid


def end_if_left(pid: int, parent: int) -> None:
    """SIGKILL `pid` if it is still the child of `parent` (an ipctop that did not exit ignores the hangup)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            still_ours = int(stat.read().rpartition(")")[2].split()[1]) == parent
    except OSError:
        return
    if still_ours:
        os.kill(pid, signal.SIGKILL)


def test_sigterm_releases_the_attached_segment_and_stops_a_waiting_receive(ipc_key):
    key = ipc_key()
    shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    msqid = sysv.msgget(key, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    terminal = None
    pid = shell = None
    try:
        sysv.msgsnd(msqid, 1, b"x")
        sysv.msgrcv(msqid, 0, 16)  # now empty, with this process as its last sender and receiver (for --pid)
        terminal = Terminal(f"sleep 0.3; ipctop -d 0.5 --pid {os.getpid()}; echo ipctop-exit=$?; sleep 60")
        terminal.wait_for(str(shmid))
        shell = terminal.shell_pid()
        pid = ipctop_pid(terminal)

        terminal.keys("a")
        terminal.wait_for(f"Attach segment {shmid}")
        terminal.keys("Tab", "Enter")  # to OK: read-write
        wait_until(lambda: sysv.shm_stat(shmid).nattch == 1, timeout=10)
        with open(f"/proc/{pid}/maps") as maps:
            assert f"/SYSV{key:08x}" in maps.read()

        terminal.keys("2")
        terminal.wait_for(str(msqid))
        terminal.keys("r")
        terminal.wait_for(f"Receive a message from queue {msqid}")
        terminal.keys("Enter")  # type 0, waiting
        terminal.wait_for(f"Waiting for a message on queue {msqid}")
        wait_until(lambda: scan_waiters().by_msqid.get(msqid) == (pid,), timeout=10)  # a real blocked msgrcv

        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        screen = terminal.wait_for("ipctop-exit=0", timeout=10)
        assert time.monotonic() - started < 5
        assert "ShmID" not in screen  # the terminal was given back
        assert sysv.shm_stat(shmid).nattch == 0
        assert sysv.msg_stat(msqid).qnum == 0
    finally:
        if pid is not None and shell is not None:
            end_if_left(pid, shell)
        if terminal is not None:
            terminal.close()
        for remove, ident in ((sysv.shm_remove, shmid), (sysv.msg_remove, msqid)):
            with contextlib.suppress(IpcError):
                remove(ident)
