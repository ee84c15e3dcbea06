"""Helpers for the cleanup tests: real processes that use an object and exit, and
runs of the CLI confined to the tests' own keys."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import time
from collections.abc import Callable

from ipctop.cli.main import main
from ipctop.collectors import processes
from ipctop.collectors.procfs import ProcFS
from ipctop.frozen import replace
from ipctop.kernel import sysv
from ipctop.model import Process, Snapshot
from tests.support.keys import suite_uid
from tests.support.unprivileged import NOBODY, run_as_nobody  # noqa: F401 - re-exported for the tests


def in_exited_child(action: Callable[[], object], uid: int | None = None) -> int:
    """Run `action` in a forked child that then exits; return the child's (now dead) pid.

    The kernel records that child as the object's creator or last user, which is
    what a crashed program leaves behind.  With `uid` the child runs as that user
    (suite_uid(): one no live process has), so that an object it creates has no
    live possible creator once it exits.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if uid is not None:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            action()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"child {pid} failed"
    return pid


def create_segment_and_exit(key: int, data: bytes = b"", size: int = 4096, mode: int = 0o600) -> tuple[int, int]:
    """(shmid, dead creator pid) of a segment a child created, filled with `data` and left."""
    read_fd, write_fd = os.pipe()

    def create() -> None:
        shmid = sysv.shmget(key, size, sysv.IPC_CREAT | sysv.IPC_EXCL | mode)
        if data:
            address = sysv.shmat(shmid)
            ctypes.memmove(address, data, len(data))
            sysv.shmdt(address)
        os.write(write_fd, str(shmid).encode())

    try:
        creator = in_exited_child(create)
        return int(os.read(read_fd, 64)), creator
    finally:
        os.close(read_fd)
        os.close(write_fd)


def objects_present(keys: set[int]) -> set[tuple[str, int]]:
    """(kind, key) of each object in /proc/sysvipc whose key is in `keys`."""
    found = set()
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields and int(fields[0]) & 0xFFFFFFFF in keys:
                    found.add((kind, int(fields[0]) & 0xFFFFFFFF))
    return found


def run_cli(*argv: str) -> tuple[int, str, str]:
    """ipctop ARGV in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def key_args(*keys: int) -> list[str]:
    """`--key` confining a run to the test's own objects: never run clean without it."""
    assert keys, "a clean run in the tests must be confined to the test's keys"
    return ["--key", ",".join(hex(k) for k in keys)]


def with_process(snapshot: Snapshot, pid: int) -> Snapshot:
    """`snapshot` with the real process `pid` read from /proc added to its processes."""
    proc = ProcFS()
    info = processes.read_process(proc, pid, processes.boot_time(proc))
    assert info is not None, f"process {pid} is not running"
    process = Process(pid=info.pid, ppid=info.ppid, comm=info.comm, cmdline=info.cmdline, uid=info.uid,
                      user=info.user, state=info.state, wchan=info.wchan, start_time=info.start_time,
                      ipc_ns=info.ipc_ns)
    return replace(snapshot, processes={**snapshot.processes, pid: process},
                   live_pids=snapshot.live_pids | {pid})


def wait_for_clock(target: float) -> None:
    """Sleep until the wall clock reaches `target` (a few seconds at most)."""
    delay = target - time.time()
    assert delay < 10
    if delay > 0:
        time.sleep(delay)



def _made_in_exited_child(make: Callable[[], int], uid: int | None) -> tuple[int, int]:
    """(id, dead maker pid) of an object `make` creates in a child that then exits."""
    read_fd, write_fd = os.pipe()
    try:
        maker = in_exited_child(lambda: os.write(write_fd, str(make()).encode()), uid=uid)
        return int(os.read(read_fd, 64)), maker
    finally:
        os.close(read_fd)
        os.close(write_fd)


def queue_left_behind(key: int, messages: tuple[bytes | tuple[int, bytes], ...] = (b"left behind",),
                      uid: int | None = None, mode: int = 0o600) -> int:
    """A queue a child made and sent `messages` to (of type 1, or (type, data)), then exited (as `uid`,
    suite_uid() by default)."""

    def make() -> int:
        msqid = sysv.msgget(key, sysv.IPC_CREAT | sysv.IPC_EXCL | mode)
        for message in messages:
            mtype, data = message if isinstance(message, tuple) else (1, message)
            sysv.msgsnd(msqid, mtype, data)
        return msqid

    return _made_in_exited_child(make, suite_uid() if uid is None else uid)[0]


def set_left_behind(key: int, values: tuple[int, ...] = (1,), uid: int | None = None, mode: int = 0o600) -> int:
    """A semaphore set a child made and set with SETALL, then exited (as `uid`, suite_uid() by default)."""

    def make() -> int:
        semid = sysv.semget(key, len(values), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        sysv.sem_setall(semid, list(values))
        if mode != 0o600:
            sysv.sem_set(semid, mode=mode)  # after SETALL, which a read-only mode would forbid its creator
        return semid

    return _made_in_exited_child(make, suite_uid() if uid is None else uid)[0]
