"""`ipctop msg ...` against real queues: create, send and receive by type, wait, remove."""

from __future__ import annotations

import json
import os

import pytest

from ipctop.kernel import sysv
from tests.actions.helpers import ipctop, nobody_runs, started, sysvipc_row
from tests.support.holders import wait_until, wchan


def create_queue(key: int, *extra: object) -> int:
    result = ipctop("msg", "create", "--key", hex(key), *extra)
    assert result.code == 0, result.err
    return int(result.out)


def test_receive_by_type_zero_positive_and_negative(ipc_key):
    msqid = create_queue(ipc_key())
    try:
        for mtype, text in [(3, "three"), (1, "one"), (5, "five"), (2, "two")]:
            assert ipctop("msg", "send", msqid, text, "--type", mtype).code == 0
        assert sysv.msg_stat(msqid).qnum == 4
        # < 0: the first message of the lowest type <= |t|
        assert json.loads(ipctop("msg", "recv", msqid, "--type", "-4", "--json").out) == {"type": 1, "text": "one"}
        assert json.loads(ipctop("msg", "recv", msqid, "--type", "-4", "--json").out) == {"type": 2, "text": "two"}
        # > 0: the first message of exactly that type
        assert ipctop("msg", "recv", msqid, "--type", "5").raw == b"five\n"
        # 0: the first message in the queue
        assert ipctop("msg", "recv", msqid).raw == b"three\n"
        empty = ipctop("msg", "recv", msqid, "--nowait")
        assert empty.code == 1
        assert empty.error_lines == [
            f"ipctop: msgrcv on queue {msqid}: ENOMSG: no message of that type is waiting and IPC_NOWAIT was asked"
        ]
    finally:
        sysv.msg_remove(msqid)


def test_text_is_sent_as_utf8_bytes_and_received_unchanged(ipc_key):
    msqid = create_queue(ipc_key())
    try:
        assert ipctop("msg", "send", msqid, "héllo wörld ✓").code == 0
        assert ipctop("msg", "recv", msqid).raw == "héllo wörld ✓\n".encode()
    finally:
        sysv.msg_remove(msqid)


def test_a_waiting_recv_is_woken_by_a_send(ipc_key):
    msqid = create_queue(ipc_key())
    try:
        with started("msg", "recv", msqid, "--type", "7") as receiver:
            wait_until(lambda: "msg" in wchan(receiver.pid))
            assert ipctop("msg", "send", msqid, "not for you", "--type", "6").code == 0
            assert ipctop("msg", "send", msqid, "for you", "--type", "7").code == 0
            out, err = receiver.communicate(timeout=10)
            assert (receiver.returncode, out, err) == (0, "for you\n", "")
        assert sysv.msg_stat(msqid).qnum == 1  # type 6 is still there
    finally:
        sysv.msg_remove(msqid)


def test_rm_wakes_a_waiting_receiver_with_eidrm(ipc_key):
    msqid = create_queue(ipc_key())
    with started("msg", "recv", msqid) as receiver:
        wait_until(lambda: "msg" in wchan(receiver.pid))
        assert ipctop("msg", "rm", msqid).code == 0
        _, err = receiver.communicate(timeout=10)
        assert receiver.returncode == 1
        assert err == f"ipctop: msgrcv on queue {msqid}: EIDRM: it was removed meanwhile\n"
    assert sysvipc_row("msg", msqid) is None


def test_full_queue_with_nowait_is_eagain_and_message_above_msgmax_is_refused_before(ipc_key):
    msqid = create_queue(ipc_key())
    try:
        with open("/proc/sys/kernel/msgmax") as f:
            msgmax = int(f.read())
        qbytes = sysv.msg_stat(msqid).qbytes
        chunk = "x" * msgmax
        for _ in range(qbytes // msgmax):
            assert ipctop("msg", "send", msqid, chunk, "--nowait").code == 0
        full = ipctop("msg", "send", msqid, chunk, "--nowait")
        assert full.code == 1
        assert full.error_lines == [
            f"ipctop: msgsnd on queue {msqid}: EAGAIN: the queue is full and IPC_NOWAIT was asked"
        ]
        too_big = ipctop("msg", "send", msqid, "y" * (msgmax + 1))
        assert too_big.code == 2
        assert too_big.error_lines == [f"ipctop: TEXT: the message is {msgmax + 1} bytes, more than msgmax ({msgmax})"]
    finally:
        sysv.msg_remove(msqid)


def test_create_excl_private_and_bad_type(ipc_key, register_ipc):
    key = ipc_key()
    msqid = create_queue(key, "--mode", "0620")
    try:
        assert sysv.msg_stat(msqid).mode & 0o777 == 0o620
        excl = ipctop("msg", "create", "--key", hex(key), "--excl")
        assert excl.code == 1 and "EEXIST: a queue with that key exists" in excl.err
        zero = ipctop("msg", "send", msqid, "x", "--type", "0")
        assert zero.code == 2 and zero.error_lines == [
            "ipctop: --type: '0' is not above 0; a message's type must be positive"
        ]
        assert sysv.msg_stat(msqid).qnum == 0
    finally:
        sysv.msg_remove(msqid)
    private = ipctop("msg", "create", "--private", "--json")
    created = json.loads(private.out)
    register_ipc("msg", created["id"])
    assert created["key"] == 0 and created["created"] is True
    assert ipctop("msg", "rm", created["id"]).code == 0


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_nobody_may_not_send_to_a_0600_queue(ipc_key):
    msqid = create_queue(ipc_key(), "--mode", "600")
    try:
        refused = nobody_runs("msg", "send", msqid, "hi")
        assert refused.code == 1
        assert refused.error_lines == [f"ipctop: msgsnd on queue {msqid}: EACCES: its mode does not let you"]
        assert sysv.msg_stat(msqid).qnum == 0
    finally:
        sysv.msg_remove(msqid)
