"""Looking changes nothing: scrapes of the exporter leave every IPC_STAT field of every object as it was."""

from __future__ import annotations

import os

from ipctop.kernel import sysv
from tests.cleanup.helpers import create_segment_and_exit
from tests.support.holders import wait_until


def kernel_state(shmids: list[int], msqid: int, semid: int) -> dict:
    """Every IPC_STAT field of each object, and each semaphore's value, last pid and waiter counts."""
    semaphores = sysv.sem_stat(semid).nsems
    return {
        "shm": [sysv.shm_stat(shmid) for shmid in shmids],
        "msg": sysv.msg_stat(msqid),
        "sem": sysv.sem_stat(semid),
        "semaphores": [
            tuple(sysv.sem_get(semid, i, command) for command in (sysv.GETVAL, sysv.GETPID, sysv.GETNCNT, sysv.GETZCNT))
            for i in range(semaphores)
        ],
    }


def test_scrapes_change_no_field_of_any_object(ipc_key, holders, start_exporter):
    attached = sysv.shmget(ipc_key(), 8192, sysv.IPC_CREAT | 0o600)
    leaked, _ = create_segment_and_exit(ipc_key(), data=b"left behind")  # nattch 0: judged by the leak finder
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    semid = sysv.semget(ipc_key(), 3, sysv.IPC_CREAT | 0o600)
    read_fd, write_fd = os.pipe()
    try:
        holders.spawn("shm-attach", attached)
        for text in (b"one", b"two"):
            sysv.msgsnd(msqid, 5, text)
        sysv.sem_setall(semid, [2, 0, 1])
        holders.spawn("sem-wait", semid, 1, -1)
        wait_until(lambda: sysv.sem_get(semid, 1, sysv.GETNCNT) == 1)
        os.write(write_fd, b"bytes in a pipe")
        holders.spawn("hold", pass_fds=(read_fd, write_fd))
        before = kernel_state([attached, leaked], msqid, semid)
        exporter = start_exporter("--interval", "0")
        for _ in range(4):
            assert f'msqid="{msqid}"' in exporter.scrape()
        after = kernel_state([attached, leaked], msqid, semid)
        assert after == before
        assert after["shm"][0].nattch == 1 and after["msg"].qnum == 2
    finally:
        os.close(read_fd)
        os.close(write_fd)
        for remove, ident in ((sysv.shm_remove, attached), (sysv.shm_remove, leaked), (sysv.msg_remove, msqid),
                              (sysv.sem_remove, semid)):
            remove(ident)
