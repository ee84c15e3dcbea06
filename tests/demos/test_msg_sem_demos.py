"""The message queue demos and sem-race, checked against /proc/sysvipc and the shared counter."""

from __future__ import annotations

import ctypes
import errno
import os

from ipctop.demos import DemoRun
from ipctop.kernel import sysv
from tests.demos.helpers import run_demo, sysvipc_row, wchan, zombie_status


def the_queue(run: DemoRun) -> int:
    (msqid,) = run.made.msg
    return msqid


def test_msgq_receives_by_type():
    seen = {}

    def queued(run: DemoRun) -> None:
        row = sysvipc_row("msg", the_queue(run))
        seen["queued"] = (row["qnum"], row["cbytes"])

    def receiver_blocked(run: DemoRun) -> None:
        assert wchan(run.made.pid_of("receiver")) == "do_msgrcv"
        seen["blocked"] = sysvipc_row("msg", the_queue(run))["qnum"]

    done = run_demo("msgq", at={"type-0": queued, "wake": receiver_blocked})
    assert seen == {"queued": (5, 24), "blocked": 1}
    received = [done.run.results[f"received_{n}"] for n in range(6)]
    assert received == ["0:3:three", "2:2:two", "-2:1:one", "-2:1:one again", "4:4:four", "0:5:five"]


def test_msgq_full_blocks_the_sender_then_eagain_then_eidrm():
    seen = {}

    def full(run: DemoRun) -> None:
        msqid = the_queue(run)
        assert wchan(run.made.pid_of("sender")) == "do_msgsnd"
        seen["cbytes"] = sysvipc_row("msg", msqid)["cbytes"]
        seen["qbytes"] = sysv.msg_stat(msqid).qbytes

    def woken(run: DemoRun) -> None:
        assert sysvipc_row("msg", the_queue(run)) is None
        seen["status"] = zombie_status(run.made.pid_of("sender"))

    done = run_demo("msgq-full", at={"nowait": full, "reap": woken})
    assert seen["cbytes"] == seen["qbytes"] > 0
    assert os.WIFEXITED(seen["status"]) and os.WEXITSTATUS(seen["status"]) == errno.EIDRM
    assert done.run.results["nowait_result"] == -errno.EAGAIN
    assert "-1 EIDRM" in done.text


def _counter(run: DemoRun) -> int:
    (shmid,) = run.made.shm
    address = sysv.shmat(shmid, readonly=True)
    try:
        return ctypes.c_long.from_address(address).value
    finally:
        sysv.shmdt(address)


def test_sem_race_loses_updates_without_the_semaphore_and_none_with_it():
    counted = {}

    def after_race(run: DemoRun) -> None:
        counted["race"] = _counter(run)

    def after_locked(run: DemoRun) -> None:
        counted["locked"] = _counter(run)

    done = run_demo("sem-race", at={"locked": after_race, "end": after_locked})
    expected = done.run.results["expected"]
    assert counted["race"] < expected, "the race lost no update"
    assert counted["locked"] == expected
    assert done.run.results["race_got"] == counted["race"]
    assert done.run.results["locked_lost"] == 0
