"""Who waits on a POSIX object: sem_wait on a named semaphore, mq_receive and mq_send on a queue, a futex
in shared memory, read from each thread's system call and matched to the object it maps or has open."""

from __future__ import annotations

import os
import subprocess
import sys

from ipctop.kernel import posix
from ipctop.render.waits import wait_words
from ipctop.snapshot import take_snapshot
from tests.support.holders import wait_until


def _waits_of(pid: int, kind: str):  # type: ignore[no-untyped-def]
    """A snapshot in which `pid` is seen waiting on an object of `kind`, and those waits."""

    def seen():  # type: ignore[no-untyped-def]
        snapshot = take_snapshot()
        process = snapshot.processes.get(pid)
        found = [w for w in process.waits if w.kind == kind] if process else []
        return (snapshot, found) if found else None

    return wait_until(seen)


def test_a_thread_in_sem_wait_waits_on_its_semaphore(posix_name, holders):
    name = posix_name()
    address = posix.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    try:
        waiter = holders.spawn("psem-wait", name)
        inode = os.stat(posix.sem_path(name)).st_ino
        snapshot, [wait] = _waits_of(waiter.pid, "psem")
        assert (wait.call, wait.id, wait.detail, wait.exact) == ("futex", inode, f"{name} (sem_wait)", True)
        sem = snapshot.psem[inode]
        assert [w.pid for w in sem.waiters] == [waiter.pid] and sem.blocked == 1  # seen, and glibc's count
        assert wait_words(snapshot.processes[waiter.pid].waits) == [f"futex on semaphore {name} (sem_wait)"]
        # `ipctop list` names who waits, as for a queue (it said `1`: who it is took the JSON or the monitor)
        listed = subprocess.run([sys.executable, "-m", "ipctop", "list", "--type", "psem"], capture_output=True,
                                text=True, timeout=60).stdout
        row = next(line for line in listed.splitlines() if line.startswith(f"{name} "))
        assert row.split()[1:3] == ["0", f"{wait.comm}[{waiter.pid}]"], listed  # VALUE, WAITERS
        posix.sem_post(address)
        holders.end(waiter)
    finally:
        posix.sem_close(address)
        posix.sem_unlink(name)


def test_a_receiver_and_a_sender_wait_on_their_queue(posix_name, holders):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 2, 16)
    try:
        receiver = holders.spawn("pmsg-receive", name)
        receiver_fd = int(receiver.ready.split()[1])
        snapshot, [wait] = _waits_of(receiver.pid, "pmsg")
        queue = snapshot.pmsg[wait.id]
        assert (queue.name, wait.call, wait.mode, wait.detail) == (name, "mq_timedreceive", "r",
                                                                    f"{name} (fd {receiver_fd})")
        assert [w.pid for w in queue.waiters] == [receiver.pid]
        posix.mq_send(fd, b"go", 0)
        holders.end(receiver)
        sender = holders.spawn("pmsg-send", name)  # fills the queue (2 messages), then blocks
        snapshot, [wait] = _waits_of(sender.pid, "pmsg")
        assert (wait.call, wait.mode) == ("mq_timedsend", "w")
        assert snapshot.pmsg[wait.id].messages == 2
        assert wait_words([wait]) == [f"mq_timedsend on POSIX queue {name} (fd {sender.ready.split()[1]})"]
        holders.end(sender)
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_a_futex_in_shared_memory_is_a_wait_on_that_memory(posix_name, holders):
    name = posix_name()
    fd = posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, 4096)
        sleeper = holders.spawn("pshm-futex", name, "0x40")
        snapshot, [wait] = _waits_of(sleeper.pid, "pshm")
        assert (wait.id, wait.detail) == (os.fstat(fd).st_ino, f"{name}, a futex at offset 0x40")
        holders.end(sleeper)
    finally:
        os.close(fd)
        posix.shm_unlink(name)


def _call_number(pid: int) -> str:
    with open(f"/proc/{pid}/syscall") as f:
        return f.read().split()[0]


def test_a_lock_in_private_memory_is_no_wait_on_ipc(holders):
    sleeper = holders.spawn("private-futex")
    wait_until(lambda: _call_number(sleeper.pid) == {"x86_64": "202", "aarch64": "98"}[os.uname().machine])
    process = take_snapshot().processes.get(sleeper.pid)
    assert process is None or not process.waits
