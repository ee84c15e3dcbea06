"""`ipctop sem ...` against real semaphore sets: create with values, set, operations that
block and unblock a waiting process, remove."""

from __future__ import annotations

import json

from ipctop.kernel import sysv
from tests.actions.helpers import ipctop, started, sysvipc_row
from tests.support.holders import wait_until, wchan
from tests.support.keys import keys_in_use


def create_set(key: int, values: str, *extra: object) -> int:
    result = ipctop("sem", "create", "--key", hex(key), "--values", values, *extra)
    assert result.code == 0, result.err
    return int(result.out)


def test_create_sets_every_initial_value(ipc_key):
    semid = create_set(ipc_key(), "1, 0,32767", "--mode", "640")
    try:
        assert sysv.sem_getall(semid, 3) == (1, 0, 32767)
        assert sysv.sem_stat(semid).mode & 0o777 == 0o640
    finally:
        sysv.sem_remove(semid)


def test_one_bad_value_creates_nothing(ipc_key):
    key = ipc_key()
    for values, message in [
        ("1,0,x", "--values: value 3 of 3: 'x' is not a semaphore value (a whole number)"),
        ("1,32768", "--values: value 2 of 2: '32768' is outside 0..32767"),
        ("1,,2", "--values: value 2 of 3: '' is not a semaphore value"),
        ("", "--values: give one value per semaphore"),
    ]:
        result = ipctop("sem", "create", "--key", hex(key), "--values", values)
        assert result.code == 2 and len(result.error_lines) == 1 and message in result.err, (values, result.err)
    assert key not in keys_in_use()


def test_op_unblocks_a_process_waiting_in_semop(ipc_key, holders):
    semid = create_set(ipc_key(), "0,0")
    try:
        waiter = holders.spawn("sem-wait", semid, 1, -2)
        wait_until(lambda: sysv.sem_get(semid, 1, sysv.GETNCNT) == 1)
        wait_until(lambda: "sem" in wchan(waiter.pid), timeout=30)  # counted as waiting before it sleeps
        assert ipctop("sem", "op", semid, 1, "+1").code == 0
        assert sysv.sem_get(semid, 1, sysv.GETNCNT) == 1  # still one short
        assert ipctop("sem", "op", semid, 1, "1").code == 0
        wait_until(lambda: "sem" not in wchan(waiter.pid))  # past semop, now pausing
        assert sysv.sem_getall(semid, 2) == (0, 0)
        assert sysv.sem_get(semid, 1, sysv.GETNCNT) == 0
        assert sysv.sem_get(semid, 1, sysv.GETPID) == waiter.pid
        holders.end(waiter)
    finally:
        sysv.sem_remove(semid)


def test_a_waiting_op_on_the_command_line_is_released_by_set(ipc_key):
    semid = create_set(ipc_key(), "0")
    try:
        with started("sem", "op", semid, 0, "-1") as op:
            wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
            wait_until(lambda: "sem" in wchan(op.pid))  # counted in GETNCNT a moment before it is off the CPU
            assert ipctop("sem", "set", semid, 0, 3).code == 0
            assert op.wait(timeout=10) == 0
        assert sysv.sem_getall(semid, 1) == (2,)
    finally:
        sysv.sem_remove(semid)


def test_nowait_is_eagain_and_index_and_value_are_checked_first(ipc_key):
    semid = create_set(ipc_key(), "0,5")
    try:
        busy = ipctop("sem", "op", semid, 0, "-1", "--nowait")
        assert busy.code == 1
        assert busy.error_lines == [
            f"ipctop: semop on semaphore {semid}[0]: EAGAIN: the operation would block and IPC_NOWAIT was asked"
        ]
        index = ipctop("sem", "set", semid, 2, 1)
        assert index.code == 2 and index.error_lines == [
            "ipctop: INDEX: '2' is outside 0..1, the range of indexes in a set of 2"
        ]
        value = ipctop("sem", "set", semid, 1, 40000)
        assert value.code == 2 and "VALUE: '40000' is outside 0..32767" in value.err
        delta = ipctop("sem", "op", semid, 1, "--", "-40000")
        assert delta.code == 2 and "DELTA: '-40000' is outside -32767..32767" in delta.err
        overflow = ipctop("sem", "op", semid, 1, "32767", "--nowait")
        assert overflow.code == 1 and "ERANGE: the value would be outside 0..SEMVMX" in overflow.err
        assert sysv.sem_getall(semid, 2) == (0, 5)
    finally:
        sysv.sem_remove(semid)


def test_rm_wakes_waiters_with_eidrm_and_existing_set_keeps_its_values(ipc_key):
    key = ipc_key()
    semid = create_set(key, "0")
    again = ipctop("sem", "create", "--key", hex(key), "--values", "9", "--json")
    assert json.loads(again.out) == {"kind": "sem", "id": semid, "key": key, "created": False}
    assert sysv.sem_getall(semid, 1) == (0,)
    with started("sem", "op", semid, 0, "-1") as op:
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        assert ipctop("sem", "rm", semid).code == 0
        _, err = op.communicate(timeout=10)
        assert op.returncode == 1
        assert err == f"ipctop: semop on semaphore {semid}[0]: EIDRM: it was removed meanwhile\n"
    assert sysvipc_row("sem", semid) is None
