"""A stopped process named by an object reads `stopped`: the usual cause of a set or queue that is stuck.

Apache's accept mutex is a System V semaphore: a worker that took it (op -1) and was then stopped
(Ctrl-Z on a foreground server, a debugger) holds up every other worker, and the set named it as its
last user without a word.  Real processes, stopped with SIGSTOP.
"""

from __future__ import annotations

import os
import signal

from ipctop.kernel import sysv
from ipctop.tui.app import IpctopApp
from tests.support.holders import wait_until
from tests.tui.helpers import cell_text, run_async, wait_for

DEADLINE = 60.0


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


@run_async
async def test_the_stopped_last_user_of_a_set_and_receiver_of_a_queue_read_stopped(ipc_key, holders):
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | 0o600)
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        taker = holders.spawn("sem-wait", semid, 0, 1)  # takes at once, then waits forever
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETPID) == taker.pid)
        sysv.msgsnd(msqid, 1, b"x")
        receiver = holders.spawn("msg-recv", msqid, 1)  # receives it, then waits forever
        wait_until(lambda: not sysv.msg_stat(msqid).qnum)
        app = IpctopApp(interval=3600.0)
        async with app.run_test(size=(200, 50)) as pilot:
            await wait_for(pilot, lambda: app.state.scans >= 1, timeout=DEADLINE)
            await pilot.press("3")
            last = await wait_for(pilot, lambda: cell_text(app, "sem", str(semid), "last"), timeout=DEADLINE)
            assert last == f"python child.py[{taker.pid}]"
            os.kill(taker.pid, signal.SIGSTOP)
            os.kill(receiver.pid, signal.SIGSTOP)
            wait_until(lambda: _state(taker.pid) == "T" and _state(receiver.pid) == "T")
            app.request_refresh()
            assert await wait_for(
                pilot, lambda: cell_text(app, "sem", str(semid), "last") == f"python child.py[{taker.pid}] stopped",
                timeout=DEADLINE)
            await pilot.press("2")
            assert await wait_for(
                pilot, lambda: (cell_text(app, "msg", str(msqid), "receiver") or "").endswith("stopped"),
                timeout=DEADLINE)
            os.kill(taker.pid, signal.SIGCONT)
            wait_until(lambda: _state(taker.pid) == "S")
            await pilot.press("3")
            app.request_refresh()
            assert await wait_for(
                pilot, lambda: cell_text(app, "sem", str(semid), "last") == f"python child.py[{taker.pid}]",
                timeout=DEADLINE)
    finally:
        for held in holders.children:
            os.kill(held.pid, signal.SIGCONT)
        sysv.sem_remove(semid)
        sysv.msg_remove(msqid)
