"""PosixIndex: a blocked process's futex address resolved to the named semaphore it waits on, an fd to a queue."""

from __future__ import annotations

import os

from ipctop.kernel import posix
from ipctop.posix_lookup import PosixIndex
from ipctop.snapshot import take_snapshot
from tests.support.holders import wait_until


def _syscall(pid: int) -> list[str]:
    with open(f"/proc/{pid}/syscall") as f:
        return f.read().split()


def test_a_process_in_sem_wait_is_found_waiting_on_its_semaphore(posix_name, holders):
    name = posix_name()
    address = posix.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    try:
        waiter = holders.spawn("psem-wait", name)
        mapped_at = int(waiter.ready.split()[1], 16)
        fields = wait_until(lambda: (f := _syscall(waiter.pid)) and f[0] == "202" and f)  # futex
        index = PosixIndex(take_snapshot())
        kind, sem = index.at(waiter.pid, int(fields[1], 16))
        assert (kind, sem.name) == ("psem", name)
        assert int(fields[1], 16) in range(mapped_at, mapped_at + 32)
        assert index.at(waiter.pid, 0x10) is None and index.at(os.getpid() + 10**6, mapped_at) is None
        posix.sem_post(address)
        holders.end(waiter)
    finally:
        posix.sem_close(address)
        posix.sem_unlink(name)


def test_a_process_in_mq_receive_is_found_waiting_on_its_queue(posix_name, holders):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 2, 16)
    try:
        receiver = holders.spawn("pmsg-receive", name)
        fields = wait_until(lambda: (f := _syscall(receiver.pid)) and f[0] == "243" and f)  # mq_timedreceive
        kind, queue = PosixIndex(take_snapshot()).fd(receiver.pid, int(fields[1], 16))
        assert (kind, queue.name) == ("pmsg", name)
        posix.mq_send(fd, b"go", 0)
    finally:
        os.close(fd)
        posix.mq_unlink(name)
