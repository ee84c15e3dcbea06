"""Who waits on a queue or a set is read thread by thread: a process whose second thread is
blocked in msgrcv or semop keeps the object, from the scan to `clean --yes`.

The objects are left by a child of a user no other process runs as (suite_uid), so
that everything else about them says "leaked": only the waiting thread keeps them.
"""

from __future__ import annotations

import os

from ipctop.cleanup.waiters import scan_waiters
from ipctop.kernel import sysv
from tests.cleanup.helpers import key_args, objects_present, queue_left_behind, run_cli, set_left_behind
from tests.support.holders import wait_until


def thread_blocked_in(pid: int, number: int) -> bool:
    """Some thread of `pid` other than the main one sleeps in system call `number`."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        if int(tid) == pid:
            continue
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            if f.read().split()[0] == str(number):
                return True
    return False


def test_a_queue_whose_second_thread_waits_in_msgrcv_is_kept(ipc_key, holders):
    key = ipc_key()
    msqid = queue_left_behind(key)  # its creator and last sender are gone, a message waits in it
    try:
        receiver = holders.spawn("msg-recv-thread", msqid, 2)  # a type nobody sent: it blocks
        wait_until(lambda: thread_blocked_in(receiver.pid, 70), timeout=10)

        assert scan_waiters().by_msqid.get(msqid) == (receiver.pid,)
        code, out, _ = run_cli("clean", "--yes", "--older-than", "0s", *key_args(key))
        assert code == 0 and "removed" not in out.replace("0 removed", "")
        assert objects_present({key}) == {("msg", key)}
        with open(f"/proc/{receiver.pid}/task/{receiver.pid}/syscall") as f:
            assert f.read().split()[0] != "70"  # the main thread is not the one that waits
    finally:
        sysv.msg_remove(msqid)


def test_a_set_whose_second_thread_waits_in_semop_is_kept(ipc_key, holders):
    key = ipc_key()
    semid = set_left_behind(key, values=(0,))
    try:
        waiter = holders.spawn("sem-wait-thread", semid, 0, -1)
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1, timeout=10)

        assert scan_waiters().by_semid.get(semid) == (waiter.pid,)
        code, out, _ = run_cli("clean", "--yes", "--older-than", "0s", *key_args(key))
        assert code == 0 and "removed" not in out.replace("0 removed", "")
        assert objects_present({key}) == {("sem", key)}
    finally:
        sysv.sem_remove(semid)
