"""diff() over real changes: an object's life seen as events."""

from __future__ import annotations

import os
import signal

from ipctop.diff import EventKind, diff
from ipctop.kernel import sysv
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import wait_until


def _events(before, after, object_kind, object_id):
    return [(e.kind, e.pid) for e in diff(before, after) if e.object_kind == object_kind and e.object_id == object_id]


def test_a_segment_lifetime(ipc_key, holders):
    s0 = take_snapshot()
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    s1 = take_snapshot()
    assert _events(s0, s1, "shm", shmid) == [(EventKind.CREATED, os.getpid())]
    holder = holders.spawn("shm-attach", shmid)
    s2 = take_snapshot()
    assert _events(s1, s2, "shm", shmid) == [(EventKind.ATTACHED, holder.pid)]
    sysv.shm_remove(shmid)
    s3 = take_snapshot()
    assert _events(s2, s3, "shm", shmid) == [(EventKind.MARKED_FOR_REMOVAL, None)]
    holders.end(holder)
    s4 = take_snapshot()
    assert _events(s3, s4, "shm", shmid) == [(EventKind.REMOVED, None)]
    assert (EventKind.PROCESS_EXITED, holder.pid) in _events(s3, s4, "process", holder.pid)


def test_a_detach_while_another_stays(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        first = holders.spawn("shm-attach", shmid)
        second = holders.spawn("shm-attach", shmid)
        before = take_snapshot()
        holders.end(first)
        after = take_snapshot()
        assert _events(before, after, "shm", shmid) == [(EventKind.DETACHED, first.pid)]
        assert [a.pid for a in after.shm[shmid].attachers] == [second.pid]
    finally:
        sysv.shm_remove(shmid)


def test_a_queue_grows_and_drains(ipc_key):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        s0 = take_snapshot()
        sysv.msgsnd(msqid, 1, b"abc")
        s1 = take_snapshot()
        sysv.msgrcv(msqid, 0, 100)
        s2 = take_snapshot()
        assert [e.kind for e in diff(s0, s1) if e.object_id == msqid and e.object_kind == "msg"] == [
            EventKind.QUEUE_GREW
        ]
        assert [e.kind for e in diff(s1, s2) if e.object_id == msqid and e.object_kind == "msg"] == [
            EventKind.QUEUE_DRAINED
        ]
    finally:
        sysv.msg_remove(msqid)
    assert [e.kind for e in diff(s2, take_snapshot()) if e.object_id == msqid and e.object_kind == "msg"] == [
        EventKind.REMOVED
    ]


def test_semaphore_values_change(ipc_key):
    semid = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | 0o600)
    try:
        before = take_snapshot()
        sysv.semop(semid, 1, 3)
        events = [e for e in diff(before, take_snapshot()) if e.object_kind == "sem" and e.object_id == semid]
        assert [(e.kind, e.pid, e.detail) for e in events] == [(EventKind.SEM_CHANGED, os.getpid(), "[0, 0] → [0, 3]")]
    finally:
        sysv.sem_remove(semid)


def test_pipe_ends_open_and_close(holders):
    read_fd, write_fd = os.pipe()
    inode = os.fstat(read_fd).st_ino
    try:
        before = take_snapshot()
        reader = holders.spawn("hold", pass_fds=(read_fd,))
        after_open = take_snapshot()
        opened = [(e.kind, e.pid) for e in diff(before, after_open) if e.object_id == inode]
        assert opened == [(EventKind.END_OPENED, reader.pid)]
        holders.end(reader)
        closed = [(e.kind, e.pid) for e in diff(after_open, take_snapshot()) if e.object_id == inode]
        assert closed == [(EventKind.END_CLOSED, reader.pid)]
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_new_pipe_names_each_holder_once_with_its_count_of_fds(holders):
    before = take_snapshot()
    read_fd, write_fd = os.pipe()
    second_write = os.dup(write_fd)
    inode = os.fstat(read_fd).st_ino
    try:
        writer = holders.spawn("hold", pass_fds=(write_fd, second_write))
        created = [e for e in diff(before, take_snapshot()) if e.object_id == inode]
        assert [e.kind for e in created] == [EventKind.CREATED]
        me = os.getpid()
        holders_named = {part.split("[")[1] for part in created[0].detail.split(", ")}
        assert holders_named == {f"{me}] r", f"{me}] w×2", f"{writer.pid}] w×2"}
    finally:
        for fd in (read_fd, write_fd, second_write):
            os.close(fd)


def test_an_end_moved_to_another_fd_is_one_event_not_a_close_and_an_open(holders):
    read_fd, write_fd = os.pipe()
    inode = os.fstat(read_fd).st_ino
    try:
        mover = holders.spawn("move-fd-on-usr1", write_fd, 40, pass_fds=(write_fd,))
        before = take_snapshot()
        os.kill(mover.pid, signal.SIGUSR1)
        wait_until(lambda: not os.path.exists(f"/proc/{mover.pid}/fd/{write_fd}"), 10)
        after = take_snapshot()
        found = [(e.kind, e.pid, e.detail.split(" ", 1)[1]) for e in diff(before, after) if e.object_id == inode]
        assert found == [(EventKind.END_MOVED, mover.pid, f"fd {write_fd} → fd 40 (w)")]
    finally:
        os.close(read_fd)
        os.close(write_fd)


def _state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


def test_a_holder_that_dies_unreaped_is_logged_as_exited_once(holders):
    # Found with Apache: a killed worker holding only pipes dropped out of the listing as a zombie (it
    # holds nothing), so its exit was never logged, not when it died nor when it was reaped.
    read_fd, write_fd = os.pipe()
    inode = os.fstat(read_fd).st_ino
    scanner = Scanner()
    try:
        worker = holders.spawn("hold", pass_fds=(write_fd,))
        before = scanner.scan()
        assert worker.pid in before.processes
        os.kill(worker.pid, signal.SIGKILL)
        wait_until(lambda: _state(worker.pid) == "Z")  # Popen reaps only when asked: a zombie till then
        died = scanner.scan()
        events = [(e.kind, e.pid) for e in diff(before, died) if e.pid == worker.pid]
        assert (EventKind.END_CLOSED, worker.pid) in events
        assert (EventKind.PROCESS_EXITED, worker.pid) in events
        assert died.processes[worker.pid].state == "Z"
        assert not died.is_alive(worker.pid)
        assert not [p for p in died.pipes[inode].ends if p.pid == worker.pid]
        still = scanner.scan()  # a zombie stays listed, and its exit is not logged again
        assert still.processes[worker.pid].state == "Z"
        assert [e for e in diff(died, still) if e.pid == worker.pid] == []
        worker.popen.wait(timeout=10)
        reaped = scanner.scan()
        assert worker.pid not in reaped.processes
        assert [e for e in diff(still, reaped) if e.pid == worker.pid] == []
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_holder_that_closes_its_last_pipe_and_lives_is_not_logged_as_exited(holders):
    read_fd, write_fd = os.pipe()
    try:
        closer = holders.spawn("close-on-usr1", write_fd, pass_fds=(write_fd,))
        scanner = Scanner()
        before = scanner.scan()
        assert closer.pid in before.processes
        os.kill(closer.pid, signal.SIGUSR1)
        wait_until(lambda: not os.path.exists(f"/proc/{closer.pid}/fd/{write_fd}"))
        after = scanner.scan()
        assert closer.pid not in after.processes  # it holds nothing now: not listed, and alive
        assert [(e.kind, e.pid) for e in diff(before, after) if e.pid == closer.pid] == [
            (EventKind.END_CLOSED, closer.pid)]
    finally:
        os.close(read_fd)
        os.close(write_fd)
