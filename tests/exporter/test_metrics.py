"""The exporter's metrics against real objects held by real processes (one collector, scraped in this process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ipctop.exporter.collector import IpcCollector
from ipctop.kernel import sysv
from ipctop.render.formatting import hex_key
from tests.cleanup.helpers import create_segment_and_exit
from tests.exporter.helpers import exposition, find, has_promtool, own_namespace, parse, promtool, value
from tests.support.holders import wait_until, wchan
from tests.support.unprivileged import run_as_nobody

GIB = 1 << 30
ALL = 100_000  # every object its series: other runs on this machine may hold hundreds of larger or fuller ones


def scrape(collector: IpcCollector | None = None) -> list:
    """Every object's series of this IPC namespace; an abandoned object counts as leaked at once (no grace period)."""
    return own_namespace(parse(exposition(collector or IpcCollector(max_series=ALL, leak_grace=0))))


def test_a_segment_with_two_attachers_reads_two(ipc_key, holders):
    key = ipc_key()
    shmid = sysv.shmget(key, 8192, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        holders.spawn("shm-attach", shmid)
        holders.spawn("shm-attach", shmid, "ro")
        samples = scrape()
        labels = {"shmid": str(shmid), "key": hex_key(key), "owner": "root"}
        assert value(samples, "ipctop_shm_attached_processes", **labels) == 2
        assert value(samples, "ipctop_shm_attachments", **labels) == 2
        assert value(samples, "ipctop_shm_size_bytes", **labels) == 8192
        assert value(samples, "ipctop_shm_marked_for_removal", **labels) == 0
    finally:
        sysv.shm_remove(shmid)


def test_one_process_attached_twice_is_two_attachments_and_one_process(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        holders.spawn("shm-attach", shmid, "rw", 2)
        samples = scrape()
        assert value(samples, "ipctop_shm_attachments", shmid=str(shmid)) == 2
        assert value(samples, "ipctop_shm_attached_processes", shmid=str(shmid)) == 1
    finally:
        sysv.shm_remove(shmid)


def test_a_removed_segment_is_marked_until_its_last_process_detaches(ipc_key, holders):
    key = ipc_key()
    shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | 0o600)
    holder = holders.spawn("shm-attach", shmid)
    sysv.shm_remove(shmid)
    samples = scrape()
    assert value(samples, "ipctop_shm_marked_for_removal", shmid=str(shmid), key=hex_key(key)) == 1
    holders.end(holder)
    assert find(scrape(), "ipctop_shm_size_bytes", shmid=str(shmid)) == []


def test_a_queue_with_three_messages_reads_three(ipc_key):
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    try:
        for text in (b"one", b"two", b"three"):
            sysv.msgsnd(msqid, 1, text)
        samples = scrape()
        labels = {"msqid": str(msqid), "key": hex_key(key)}
        assert value(samples, "ipctop_msgq_messages", **labels) == 3
        assert value(samples, "ipctop_msgq_bytes", **labels) == 11
        assert value(samples, "ipctop_msgq_capacity_bytes", **labels) == sysv.msg_stat(msqid).qbytes
    finally:
        sysv.msg_remove(msqid)
    assert find(scrape(), "ipctop_msgq_messages", msqid=str(msqid)) == []


def test_semaphore_waiters_by_kind_of_wait(ipc_key, holders):
    semid = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | 0o600)
    try:
        sysv.sem_setall(semid, [0, 1])
        holders.spawn("sem-wait", semid, 0, -1)  # waits for semaphore 0 to increase
        holders.spawn("sem-wait", semid, 1, 0)  # waits for semaphore 1 to reach zero
        wait_until(lambda: (sysv.sem_get(semid, 0, sysv.GETNCNT), sysv.sem_get(semid, 1, sysv.GETZCNT)) == (1, 1))
        samples = scrape()
        assert value(samples, "ipctop_sem_waiters", semid=str(semid), wait="increase") == 1
        assert value(samples, "ipctop_sem_waiters", semid=str(semid), wait="zero") == 1
        assert value(samples, "ipctop_sem_semaphores", semid=str(semid)) == 2
        assert value(samples, "ipctop_blocked_processes", wait="semop") >= 2
    finally:
        sysv.sem_remove(semid)


@pytest.fixture
def full_pipe():
    """A pipe whose writer (a child) is blocked in write because nobody reads: (writer pid, inode)."""
    read_fd, write_fd = os.pipe()
    writer = subprocess.Popen(
        [sys.executable, "-c", "import os\nwhile True: os.write(1, b'x' * 4096)"],
        stdin=subprocess.DEVNULL, stdout=write_fd,
    )
    os.close(write_fd)
    try:
        wait_until(lambda: wchan(writer.pid) in ("pipe_write", "anon_pipe_write"), timeout=30)
        yield writer.pid, os.fstat(read_fd).st_ino
    finally:
        writer.kill()
        writer.wait(timeout=10)
        os.close(read_fd)


def test_a_writer_blocked_on_a_full_pipe_and_for_how_long(full_pipe):
    pid, inode = full_pipe
    collector = IpcCollector(max_series=ALL)
    first = scrape(collector)
    assert value(first, "ipctop_pipe_waiting_bytes", inode=str(inode)) == 65536
    assert value(first, "ipctop_pipe_capacity_bytes", inode=str(inode)) == 65536
    [(_, labels, blocked)] = find(first, "ipctop_pipe_blocked_writers", inode=str(inode))
    assert blocked == 1 and labels["writers"].startswith("python") and labels["readers"].startswith("python")
    assert value(first, "ipctop_blocked_processes", wait="pipe_write") >= 1
    # the writer has not run since: the next scan knows it has been blocked all along
    later = wait_until(lambda: (s := scrape(collector)) and
                       value(s, "ipctop_pipe_writer_blocked_seconds", inode=str(inode)) > 0 and s)
    assert value(later, "ipctop_blocked_longest_seconds", wait="pipe_write") > 0


def test_an_empty_pipe_has_no_series(holders):
    read_fd, write_fd = os.pipe()
    try:
        holders.spawn("hold", pass_fds=(read_fd, write_fd))
        inode = os.fstat(read_fd).st_ino
        samples = scrape()
        assert find(samples, "ipctop_pipe_waiting_bytes", inode=str(inode)) == []
        assert value(samples, "ipctop_objects", kind="pipe") >= 1
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_leaked_segment_is_counted_with_its_bytes_and_age(ipc_key):
    key = ipc_key()
    shmid, _creator = create_segment_and_exit(key, size=12288)
    try:
        samples = scrape()
        assert value(samples, "ipctop_leaked_objects", kind="shm") >= 1
        assert value(samples, "ipctop_leaked_bytes", kind="shm") >= 12288
        idle = value(samples, "ipctop_leaked_object_idle_seconds", kind="shm", id=str(shmid), key=hex_key(key))
        assert idle is not None and idle >= 0
        # as `ipctop clean` judges: by default not before it has been idle for the grace period
        fresh = scrape(IpcCollector(max_series=ALL))
        assert find(fresh, "ipctop_leaked_object_idle_seconds", kind="shm", id=str(shmid)) == []
    finally:
        sysv.shm_remove(shmid)
    assert find(scrape(), "ipctop_leaked_object_idle_seconds", kind="shm", id=str(shmid)) == []


def test_max_series_keeps_the_largest_and_counts_the_rest(ipc_key):
    # Segments far larger than anything else on the machine (no memory is used until attached).
    shmids = [sysv.shmget(ipc_key(), GIB + n * 4096, sysv.IPC_CREAT | 0o600) for n in range(3)]
    try:
        samples = scrape(IpcCollector(max_series=2))
        listed = {s[1]["shmid"] for s in find(samples, "ipctop_shm_size_bytes")}
        assert listed == {str(shmids[2]), str(shmids[1])}
        total = value(samples, "ipctop_objects", kind="shm")
        assert total >= 3
        assert value(samples, "ipctop_objects_without_series", kind="shm") == total - 2
        assert value(samples, "ipctop_object_bytes", kind="shm") >= 3 * GIB
    finally:
        for shmid in shmids:
            sysv.shm_remove(shmid)


def test_scrapes_closer_than_the_interval_share_one_scan():
    shared = IpcCollector(min_interval=3600)
    assert value(scrape(shared), "ipctop_scans_total") == value(scrape(shared), "ipctop_scans_total") == 1
    fresh = IpcCollector(min_interval=0)
    scrape(fresh)
    assert value(scrape(fresh), "ipctop_scans_total") == 2


def test_a_scan_that_fails_is_said_and_the_scrape_still_answers():
    from ipctop.collectors.procfs import ProcFS

    samples = scrape(IpcCollector(proc=ProcFS("/nonexistent-proc")))
    assert value(samples, "ipctop_scan_success") == 0
    assert find(samples, "ipctop_objects") == []


def test_the_limits_and_their_use(ipc_key):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:
        samples = scrape()
        with open("/proc/sys/kernel/shmmni") as f:
            assert value(samples, "ipctop_limit_objects", resource="shm_segments") == int(f.read())
        with open("/proc/sysvipc/shm") as f:
            segments = len(f.readlines()) - 1
        # other test runs may make or remove segments meanwhile: ours is there, and the count is near
        assert 1 <= value(samples, "ipctop_limit_used_objects", resource="shm_segments") <= segments + 50
        assert value(samples, "ipctop_limit_used_bytes", resource="shm_memory") >= 4096
    finally:
        sysv.shm_remove(shmid)


@pytest.mark.skipif(not has_promtool(), reason="promtool is not installed (apt-get install prometheus)")
def test_promtool_accepts_the_metrics_of_every_kind(ipc_key, holders, full_pipe, tmp_path):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | 0o600)
    leaked, _ = create_segment_and_exit(ipc_key())
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    try:
        holders.spawn("shm-attach", shmid)
        sysv.msgsnd(msqid, 1, b"x")
        holders.spawn("sem-wait", semid, 0, -1)
        holders.spawn("fifo-open", fifo, "r")
        writer = os.open(fifo, os.O_WRONLY)
        os.write(writer, b"waiting")
        wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1)
        text = exposition(IpcCollector(max_series=ALL, leak_grace=0))
        names = {s[0] for s in parse(text)}
        assert {"ipctop_shm_attached_processes", "ipctop_msgq_messages", "ipctop_sem_waiters",
                "ipctop_pipe_waiting_bytes", "ipctop_fifo_waiting_bytes", "ipctop_leaked_object_idle_seconds"} <= names
        checked = promtool("check", "metrics", stdin=text)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        os.close(writer)
    finally:
        for remove, ident in ((sysv.shm_remove, shmid), (sysv.msg_remove, msqid), (sysv.sem_remove, semid),
                              (sysv.shm_remove, leaked)):
            remove(ident)


def test_a_fifo_is_measured_exactly_or_counted_as_incomplete(tmp_path):
    """Bytes left in a FIFO whose writer has gone: the scan measures them exactly where it can do so
    without opening the FIFO anew, and where it cannot, the exporter says so instead of reporting 0."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(path, os.O_WRONLY)
    os.write(writer, b"left behind")
    os.close(writer)
    try:
        samples = scrape()
        measured = value(samples, "ipctop_fifo_waiting_bytes", path=str(path))
        if measured is None:
            assert value(samples, "ipctop_incomplete_objects", kind="fifo") >= 1
        else:
            assert measured == len(b"left behind")
    finally:
        os.close(reader)


@pytest.mark.unprivileged
def test_as_nobody_it_answers_and_counts_what_it_may_not_read(holders):
    holders.spawn("hold")  # a process of root's, which nobody may not inspect
    text = run_as_nobody(lambda: exposition(IpcCollector(max_series=ALL)))
    samples = own_namespace(parse(text))
    assert value(samples, "ipctop_scan_success") == 1
    assert value(samples, "ipctop_uninspectable_processes") >= 1
    assert value(samples, "ipctop_objects", kind="shm") is not None


def test_posix_objects_have_series_and_count_in_the_totals(posix_name, holders):
    from ipctop.kernel import posix

    shm, sem = posix_name(), posix_name()
    holder = holders.spawn("pshm-hold", shm, 8192, "create")
    holders.spawn("psem-hold", sem, 3)
    fd = os.memfd_create("ipctop-test-exporter")
    try:
        os.ftruncate(fd, 12288)
        samples = scrape()
        inode = str(os.stat(posix.shm_path(shm)).st_ino)
        assert named(samples, "ipctop_pshm_size_bytes", name=shm, inode=inode, owner="root") == 8192
        assert named(samples, "ipctop_pshm_holders", name=shm) == len([h for h in posix_holders(holder.pid, inode)])
        assert named(samples, "ipctop_psem_value", name=sem) == 3
        assert named(samples, "ipctop_psem_waiters", name=sem) == 0
        assert named(samples, "ipctop_memfd_size_bytes", inode=str(os.fstat(fd).st_ino), source="memfd",
                     name="ipctop-test-exporter") == 12288
        assert value(samples, "ipctop_objects", kind="pshm") >= 1
        assert value(samples, "ipctop_object_bytes", kind="pshm") >= 8192
    finally:
        os.close(fd)
        posix.shm_unlink(shm)
        posix.sem_unlink(sem)


def posix_holders(pid: int, inode: str) -> list[str]:
    """The fds and mappings of `pid` on that inode (Python's mmap keeps a dup of its fd)."""
    from tests.support.procfds import fds_on

    with open(f"/proc/{pid}/maps") as f:
        maps = [line for line in f if f" {inode} " in line]
    return maps + [str(n) for n in fds_on(pid, int(inode))]


def named(samples: list, metric: str, **labels: str) -> float | None:
    """`value`, for metrics with a label called `name`."""
    found = [s for s in samples if s[0] == metric and all(s[1].get(k) == v for k, v in labels.items())]
    assert len(found) <= 1, f"{metric} {labels} matches {len(found)} series"
    return found[0][2] if found else None
