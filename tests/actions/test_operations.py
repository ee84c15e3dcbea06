"""operations: create without half-done leftovers, cancellable waits, and `perform` of each request."""

from __future__ import annotations

import os
import re
import signal
import threading

import pytest

from ipctop.actions import operations
from ipctop.actions import requests as rq
from ipctop.actions.holdings import Holdings
from ipctop.actions.waiting import Waits, prepare
from ipctop.cleanup.waiters import scan_waiters
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from tests.support.holders import wait_until


def _waiting(target) -> tuple[threading.Thread, list[object]]:  # type: ignore[no-untyped-def]
    """Run `target()` in a thread; the list gets what it returned or the Cancelled it raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())
        except operations.Cancelled as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    return worker, outcome


def test_a_waiting_receive_is_a_real_blocked_msgrcv_that_cancel_stops(ipc_key):
    assert prepare()
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        waits = Waits()
        worker, outcome = _waiting(lambda: operations.receive(msqid, 4, 100, cancel=waits))
        # Blocked in msgrcv itself, where /proc (and ipctop's cleanup) see this process wait on the queue.
        wait_until(lambda: scan_waiters().by_msqid.get(msqid) == (os.getpid(),), timeout=10)
        sysv.msgsnd(msqid, 3, b"other")
        sysv.msgsnd(msqid, 4, b"mine")
        worker.join(timeout=10)
        assert outcome == [operations.Received(4, b"mine")]

        worker, outcome = _waiting(lambda: operations.receive(msqid, 9, 100, cancel=waits))
        wait_until(lambda: scan_waiters().by_msqid.get(msqid) == (os.getpid(),), timeout=10)
        assert waits.cancel()
        worker.join(timeout=10)
        assert not worker.is_alive() and isinstance(outcome[-1], operations.Cancelled)
        assert sysv.msg_stat(msqid).qnum == 1
    finally:
        sysv.msg_remove(msqid)


def test_a_waiting_send_to_a_full_queue_blocks_in_msgsnd_until_cancelled(ipc_key):
    assert prepare()
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        sysv.msg_set(msqid, qbytes=16)
        sysv.msgsnd(msqid, 1, b"x" * 16)  # full
        waits = Waits()
        worker, outcome = _waiting(lambda: operations.send(msqid, 1, b"more", cancel=waits))
        wait_until(lambda: scan_waiters().by_msqid.get(msqid) == (os.getpid(),), timeout=10)
        assert waits.cancel()
        worker.join(timeout=10)
        assert isinstance(outcome[-1], operations.Cancelled) and sysv.msg_stat(msqid).qnum == 1
    finally:
        sysv.msg_remove(msqid)


def test_a_cancel_that_comes_before_the_call_still_stops_it(ipc_key):
    assert prepare()
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        waits = Waits()
        assert waits.cancel()
        worker, outcome = _waiting(lambda: operations.receive(msqid, 0, 100, cancel=waits))
        worker.join(timeout=10)
        assert isinstance(outcome[-1], operations.Cancelled)
    finally:
        sysv.msg_remove(msqid)


def test_a_waiting_semop_counts_as_a_waiter_until_cancelled(ipc_key):
    assert prepare()
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        waits = Waits()
        worker, outcome = _waiting(lambda: operations.sem_op(semid, 0, -1, cancel=waits))
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        assert scan_waiters().by_semid.get(semid) == (os.getpid(),)
        assert waits.cancel()
        worker.join(timeout=10)
        assert isinstance(outcome[-1], operations.Cancelled) and sysv.sem_get(semid, 0, sysv.GETNCNT) == 0

        waits = Waits()
        worker, outcome = _waiting(lambda: operations.sem_op(semid, 0, -1, cancel=waits))
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        sysv.sem_setval(semid, 0, 2)
        worker.join(timeout=10)
        assert not worker.is_alive() and outcome == [None] and sysv.sem_getall(semid, 1) == (1,)
    finally:
        sysv.sem_remove(semid)


def test_send_signal_refusal_is_one_ipc_error():
    with pytest.raises(IpcError, match=r"^kill on process 4194304: ESRCH: no such process; it has exited$"):
        operations.send_signal(4194304, signal.SIGTERM)


def _ident(message: str) -> int:
    return int(re.search(r"(?:segment|queue|semaphore set) (\d+)", message).group(1))


def test_perform_every_request_on_real_objects(ipc_key, register_ipc, holders):
    holdings = Holdings()
    key = ipc_key()
    shm = operations.perform(rq.ShmCreateRequest(key, 64, 0o600, excl=True), holdings)
    shmid = _ident(shm.message)
    assert shm.message == f"created segment {shmid} (key {key:#010x})"
    assert shm.result == operations.Created("shm", shmid, key, True)
    try:
        attach = operations.perform(rq.AttachRequest(shmid, readonly=False), holdings)
        assert attach.result is holdings.get(shmid)
        operations.perform(rq.WriteRequest(shmid, 2, b"hi"), holdings)
        assert holdings.read(shmid, 0, 4) == b"\0\0hi"
        operations.perform(rq.ShmSetRequest(shmid, 0o640, None, 65534), holdings)
        stat = sysv.shm_stat(shmid)
        assert (stat.mode & 0o777, stat.uid, stat.gid) == (0o640, 0, 65534)
        assert operations.perform(rq.DetachRequest(shmid), holdings).message == f"detached segment {shmid}"
    finally:
        operations.perform(rq.RemoveRequest("shm", shmid), holdings)

    msg = operations.perform(rq.MsgCreateRequest(0, 0o600, excl=False), holdings)
    msqid = register_ipc("msg", _ident(msg.message))
    operations.perform(rq.MsgSendRequest(msqid, 2, b"two", nowait=True), holdings)
    received = operations.perform(rq.MsgReceiveRequest(msqid, -5, nowait=True), holdings)
    assert received.result == operations.Received(2, b"two")
    assert received.message == f"received a message of type 2 from queue {msqid}: 'two'"
    operations.perform(rq.RemoveRequest("msg", msqid), holdings)

    sem = operations.perform(rq.SemCreateRequest(0, (1, 2), 0o600, excl=False), holdings)
    semid = register_ipc("sem", _ident(sem.message))
    operations.perform(rq.SemOpRequest(semid, 1, -2, nowait=True), holdings)
    operations.perform(rq.SemSetRequest(semid, 0, 7), holdings)
    assert sysv.sem_getall(semid, 2) == (7, 0)
    operations.perform(rq.RemoveRequest("sem", semid), holdings)

    child = holders.spawn("hold")
    done = operations.perform(rq.KillRequest(child.pid, int(signal.SIGTERM)), holdings)
    assert done.message == f"sent SIGTERM to process {child.pid}"
    assert child.popen.wait(timeout=10) == 0
