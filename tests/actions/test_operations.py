"""operations: create without half-done leftovers, cancellable waits, and `perform` of each request."""

from __future__ import annotations

import re
import signal
import threading

import pytest

from ipctop.actions import operations
from ipctop.actions import requests as rq
from ipctop.actions.holdings import Holdings
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from tests.support.holders import wait_until


def test_cancellable_receive_returns_a_message_or_stops(ipc_key):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        cancel = threading.Event()
        outcome: list[object] = []
        worker = threading.Thread(target=lambda: outcome.append(operations.receive(msqid, 4, 100, cancel=cancel)))
        worker.start()
        sysv.msgsnd(msqid, 3, b"other")
        sysv.msgsnd(msqid, 4, b"mine")
        worker.join(timeout=10)
        assert outcome == [operations.Received(4, b"mine")]

        def wait_cancelled() -> None:
            try:
                operations.receive(msqid, 9, 100, cancel=cancel)
            except operations.Cancelled as error:
                outcome.append(error)

        worker = threading.Thread(target=wait_cancelled)
        worker.start()
        cancel.set()
        worker.join(timeout=10)
        assert isinstance(outcome[-1], operations.Cancelled)
        assert sysv.msg_stat(msqid).qnum == 1
    finally:
        sysv.msg_remove(msqid)


def test_cancellable_semop_counts_as_a_waiter_until_cancelled(ipc_key):
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        cancel = threading.Event()
        errors: list[Exception] = []

        def wait() -> None:
            try:
                operations.sem_op(semid, 0, -1, cancel=cancel)
            except operations.Cancelled as error:
                errors.append(error)

        worker = threading.Thread(target=wait)
        worker.start()
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        cancel.set()
        worker.join(timeout=10)
        assert len(errors) == 1 and sysv.sem_get(semid, 0, sysv.GETNCNT) == 0

        cancel.clear()
        worker = threading.Thread(target=lambda: operations.sem_op(semid, 0, -1, cancel=cancel))
        worker.start()
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        sysv.sem_setval(semid, 0, 2)
        worker.join(timeout=10)
        assert not worker.is_alive() and sysv.sem_getall(semid, 1) == (1,)
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
