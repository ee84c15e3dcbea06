"""The snapshot against real kernel objects held by real child processes."""

from __future__ import annotations

import os
import signal
import time

from ipctop.collectors import fds, ipcstate
from ipctop.kernel import sysv
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import wait_until, wchan


def test_segment_attached_by_two_children(ipc_key, holders):
    key = ipc_key()
    shmid = sysv.shmget(key, 8192, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o640)
    try:
        rw = holders.spawn("shm-attach", shmid)
        ro = holders.spawn("shm-attach", shmid, "ro")
        segment = take_snapshot().shm[shmid]
        assert (segment.key, segment.perms, segment.size, segment.nattch) == (key, 0o640, 8192, 2)
        assert segment.cpid == os.getpid() and segment.lpid in (rw.pid, ro.pid)
        found = {(a.pid, a.mode, a.start) for a in segment.attachers}
        assert found == {(rw.pid, "rw", int(rw.ready.split()[1], 16)), (ro.pid, "r", int(ro.ready.split()[1], 16))}
        assert all(a.comm.startswith("python") and a.end - a.start == 8192 for a in segment.attachers)
        assert segment.status == () and segment.original_key is None
        assert segment.owner == "root" and segment.ctime > 0 and segment.atime > 0
    finally:
        sysv.shm_remove(shmid)


def test_two_attaches_in_one_process_count_twice(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holder = holders.spawn("shm-attach", shmid, "rw", 2)
        segment = take_snapshot().shm[shmid]
        assert segment.nattch == 2
        assert [a.pid for a in segment.attachers] == [holder.pid, holder.pid]
    finally:
        sysv.shm_remove(shmid)


def test_segment_marked_for_removal_keeps_its_original_key(ipc_key, holders):
    key = ipc_key()
    shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | 0o600)
    holder = holders.spawn("shm-attach", shmid)
    sysv.shm_remove(shmid)
    segment = take_snapshot().shm[shmid]
    assert segment.status == ("dest",)
    assert segment.key == 0 and segment.original_key == key and segment.display_key == key
    assert [a.pid for a in segment.attachers] == [holder.pid]
    holders.end(holder)
    assert shmid not in take_snapshot().shm


def test_private_segment_marked_for_removal_has_no_original_key(holders):
    """X11's MIT-SHM pattern: IPC_PRIVATE, attached by client and server, then IPC_RMID. The maps name
    says key 0 as the table does, so there is nothing to recover (`ipctop list` said `0x00000000 (was
    0x00000000)` for Xvfb's clients)."""
    shmid = sysv.shmget(sysv.IPC_PRIVATE, 4096, sysv.IPC_CREAT | 0o600)
    holder = holders.spawn("shm-attach", shmid)
    sysv.shm_remove(shmid)
    segment = take_snapshot().shm[shmid]
    assert segment.status == ("dest",) and [a.pid for a in segment.attachers] == [holder.pid]
    assert segment.key == 0 and segment.original_key is None and segment.display_key == 0
    holders.end(holder)


def test_segment_whose_creator_exited(ipc_key, holders):
    key = ipc_key()
    creator = holders.spawn("shm-create-exit", key, 4096)
    shmid = int(creator.ready.split()[1])
    creator.popen.wait(timeout=10)
    try:
        snapshot = take_snapshot()
        segment = snapshot.shm[shmid]
        assert segment.cpid == creator.pid and segment.nattch == 0 and segment.attachers == ()
        assert not snapshot.is_alive(creator.pid)
    finally:
        sysv.shm_remove(shmid)


def test_queue_holding_messages(ipc_key):
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o620)
    try:
        sysv.msgsnd(msqid, 1, b"hello")
        sysv.msgsnd(msqid, 7, b"world!!")
        queue = take_snapshot().msg[msqid]
        kernel = sysv.msg_stat(msqid)
        assert (queue.key, queue.perms, queue.qnum, queue.cbytes) == (key, 0o620, 2, 12)
        assert queue.qbytes == kernel.qbytes > 0 and queue.fill == 12 / kernel.qbytes
        assert queue.lspid == os.getpid() and queue.lrpid == 0 and queue.stime > 0
    finally:
        sysv.msg_remove(msqid)


def test_a_monitor_shows_each_change_of_a_queues_capacity_even_two_in_one_second(ipc_key, monkeypatch):
    """A monitor keeps a queue's capacity while its ctime (whole seconds) stands still
    (ipcstate.QueueCapacities); two msgctl(IPC_SET)s in one second leave the same ctime, and the
    second must still show."""
    asked: list[int] = []
    real = ipcstate.queue_capacity
    monkeypatch.setattr(ipcstate, "queue_capacity", lambda msqid: asked.append(msqid) or real(msqid))
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        scanner = Scanner()
        default = sysv.msg_stat(msqid).qbytes
        assert scanner.scan().msg[msqid].qbytes == default
        for _attempt in range(20):
            while time.time() % 1 > 0.5:  # room for both changes and the scans between in one second
                time.sleep(0.05)
            second = int(time.time())
            sysv.msg_set(msqid, qbytes=default - 1)
            first = scanner.scan().msg[msqid].qbytes
            sysv.msg_set(msqid, qbytes=default - 2)
            then = scanner.scan().msg[msqid].qbytes
            if int(time.time()) == second and sysv.msg_stat(msqid).ctime == second:
                break
            sysv.msg_set(msqid, qbytes=default)  # a second boundary fell between: again
            scanner.scan()
        else:
            raise AssertionError("no two changes within one second in 20 tries")
        assert (first, then) == (default - 1, default - 2)
        wait_until(lambda: int(time.time()) > second)
        assert scanner.scan().msg[msqid].qbytes == default - 2
        asked.clear()
        assert [scanner.scan().msg[msqid].qbytes for _ in range(3)] == [default - 2] * 3
        assert msqid not in asked  # kept: its ctime is of a second before the reading
        sysv.msg_set(msqid, qbytes=default - 3)
        assert scanner.scan().msg[msqid].qbytes == default - 3
    finally:
        sysv.msg_remove(msqid)


def test_three_semaphores_with_a_process_blocked_on_one(ipc_key, holders):
    key = ipc_key()
    semid = sysv.semget(key, 3, sysv.IPC_CREAT | 0o600)
    try:
        sysv.sem_setall(semid, [5, 0, 2])
        waiter = holders.spawn("sem-wait", semid, 1, -1)
        wait_until(lambda: sysv.sem_get(semid, 1, sysv.GETNCNT) == 1)
        snapshot = take_snapshot()
        sem_set = snapshot.sem[semid]
        assert (sem_set.key, sem_set.nsems, sem_set.values) == (key, 3, (5, 0, 2))
        assert sem_set.ncnt == (0, 1, 0) and sem_set.zcnt == (0, 0, 0)
        assert sem_set.pids == tuple(sysv.sem_get(semid, i, sysv.GETPID) for i in range(3))
        assert snapshot.processes.get(waiter.pid) is None or "sem" in snapshot.processes[waiter.pid].wchan
        assert "sem" in wchan(waiter.pid)
        sysv.semop(semid, 1, 1)  # wakes the waiter
        wait_until(lambda: take_snapshot().sem[semid].ncnt == (0, 0, 0))
    finally:
        sysv.sem_remove(semid)


def test_pipe_with_bytes_between_two_processes(holders):
    read_fd, write_fd = os.pipe()
    inode = os.fstat(read_fd).st_ino
    writer = holders.spawn("hold", pass_fds=(write_fd,))
    reader = holders.spawn("hold", pass_fds=(read_fd,))
    os.write(write_fd, b"x" * 1000)
    os.close(read_fd)
    os.close(write_fd)
    snapshot = take_snapshot()
    pipe = snapshot.pipes[inode]
    assert (pipe.fill, pipe.capacity) == (1000, 65536)
    assert {(e.pid, e.fd, e.mode) for e in pipe.ends} == {(writer.pid, write_fd, "w"), (reader.pid, read_fd, "r")}
    held = snapshot.processes[writer.pid].pipes
    assert any(h.inode == inode and h.mode == "w" and h.fd == write_fd for h in held)


def test_fifo_with_a_reader_and_a_writer(tmp_path, holders):
    path = tmp_path / "chan"
    os.mkfifo(path)
    reader = holders.spawn("fifo-open", path, "r")
    writer = holders.spawn("fifo-open", path, "w")
    wait_until(lambda: len(take_snapshot().fifos.get(os.stat(path).st_ino, _NoFifo).ends) == 2)
    fifo = take_snapshot().fifos[os.stat(path).st_ino]
    assert fifo.path == str(path) and fifo.fill == 0 and fifo.capacity == 65536
    assert {(e.pid, e.mode) for e in fifo.ends} == {(reader.pid, "r"), (writer.pid, "w")}
    assert os.stat(path).st_size == 0


def test_a_fifo_with_only_a_reader_is_measured_without_opening_it(tmp_path, holders):
    path = tmp_path / "half"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    reader = holders.spawn("hold", pass_fds=(fd,))
    os.close(fd)
    snapshot = take_snapshot()
    fifo = snapshot.fifos[os.stat(path).st_ino]
    assert [e.pid for e in fifo.ends] == [reader.pid]
    assert (fifo.fill, fifo.capacity) == (0, 65536)  # through a duplicate of the reader's own open file
    # A writer now opening would not block (a reader exists); with no reader a writer blocks in open():
    holders.end(reader)
    writer = holders.spawn("fifo-open", path, "w")
    wait_until(lambda: "fifo" in wchan(writer.pid) or "wait_for_partner" in wchan(writer.pid))
    take_snapshot()
    assert writer.popen.poll() is None and ("fifo" in wchan(writer.pid) or "partner" in wchan(writer.pid))


def test_processes_show_what_they_hold_and_block_in(holders):
    read_fd, write_fd = os.pipe()
    reader = holders.spawn("hold", pass_fds=(read_fd,))
    os.close(read_fd)
    try:
        process = take_snapshot().processes[reader.pid]
        assert process.ppid == os.getpid() and process.user == "root" and process.state in "SR"
        assert "child.py hold" in process.cmdline and process.ipc_ns.startswith("ipc:[")
        assert process.start_time > 0
    finally:
        os.close(write_fd)


def test_a_process_that_exits_mid_scan_is_not_an_error(holders):
    children = [holders.spawn("hold") for _ in range(3)]
    for child in children:
        os.kill(child.pid, signal.SIGKILL)
    take_snapshot()


class _NoFifo:
    ends = ()


def test_pipes_held_by_more_processes_than_pidfds_kept_are_each_measured(holders, monkeypatch):
    # a one-off look keeps only the latest KEPT_PIDFDS pidfds open (past 256 fds the kernel grows the
    # fd table, and with the watchdog thread sharing it each growth waited 13-19 ms): every pipe must
    # still be measured through its own holder, the older pidfds closed
    monkeypatch.setattr(fds, "KEPT_PIDFDS", 2)
    kept: list[int] = []
    real = fds.PipeMeter.measure

    def counted(self, ends):  # type: ignore[no-untyped-def]
        found = real(self, ends)
        kept.append(len(self._pidfds))
        return found

    monkeypatch.setattr(fds.PipeMeter, "measure", counted)
    written = {}
    for size in (1, 2, 3, 4, 5):
        read_end, write_end = os.pipe()
        os.write(write_end, b"x" * size)
        holder = holders.spawn("hold", pass_fds=(read_end,))
        written[os.fstat(read_end).st_ino] = (size, holder.pid)
        os.close(read_end)
        os.close(write_end)
    open_before = len(os.listdir("/proc/self/fd"))
    snapshot = take_snapshot()
    assert {inode: (snapshot.pipes[inode].fill, snapshot.pipes[inode].ends[0].pid) for inode in written} == written
    assert kept and max(kept) <= 2
    assert len(os.listdir("/proc/self/fd")) == open_before  # each pidfd let go was closed
