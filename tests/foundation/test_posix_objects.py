"""The snapshot's POSIX objects and unnamed shared memory, against real objects held by real children.

Each holder is compared with what the kernel says of that process: its fd
directory and its /proc/PID/maps, matched by device and inode.
"""

from __future__ import annotations

import contextlib
import os

from ipctop.kernel import posix
from ipctop.snapshot import take_snapshot
from tests.support.holders import wait_until, wchan
from tests.support.mounts import with_mqueue_mounted
from tests.support.procfds import fds_on, maps_lines


def test_shared_memory_held_by_fd_and_mapping(posix_name, holders):
    name = posix_name()
    holder = holders.spawn("pshm-hold", name, 10000, "create")
    fd, address = holder.ready.split()[1:]
    st = os.stat(posix.shm_path(name))
    obj = take_snapshot().pshm[st.st_ino]
    assert (obj.name, obj.size, obj.perms, obj.owner, obj.unlinked) == (name, 10000, 0o640, "root", False)
    assert obj.made and obj.made <= st.st_mtime
    [(start, end, perms)] = maps_lines(holder.pid, st.st_dev, st.st_ino)
    assert start == int(address, 16)
    assert int(fd) in fds_on(holder.pid, st.st_ino)
    expected = {(holder.pid, n, 0, 0, "rw") for n in fds_on(holder.pid, st.st_ino)}
    expected.add((holder.pid, None, start, end, "rw"))
    assert {(h.pid, h.fd, h.start, h.end, h.mode) for h in obj.holders} == expected
    assert all(h.comm.startswith("python") for h in obj.holders)
    posix.shm_unlink(name)


def test_unlinked_object_lives_on_while_mapped_and_goes_with_its_holder(posix_name, holders):
    name = posix_name()
    holder = holders.spawn("pshm-hold", name, 4096, "create", "close", "unlink")
    assert not os.path.exists(posix.shm_path(name))
    snapshot = take_snapshot()
    [obj] = [o for o in snapshot.pshm.values() if o.name == name]
    assert obj.unlinked and obj.size == 4096 and obj.perms == 0o640
    kept = fds_on(holder.pid, obj.inode)  # the dup that Python's mmap keeps
    assert sorted((h.pid, h.fd) for h in obj.holders if h.fd is not None) == [(holder.pid, n) for n in sorted(kept)]
    assert [(h.pid, h.fd) for h in obj.holders if h.fd is None] == [(holder.pid, None)]
    process = snapshot.processes[holder.pid]
    assert {(p.kind, p.inode, p.fd) for p in process.posix} == {(h_kind, obj.inode, h.fd) for h_kind, h in
                                                                 (("pshm", h) for h in obj.holders)}
    holders.end(holder)
    assert obj.inode not in take_snapshot().pshm


def test_named_semaphore_value_and_holders_matched_by_inode(posix_name, holders):
    name = posix_name()
    creator = holders.spawn("psem-hold", name, 3)
    opener = holders.spawn("psem-hold", name)
    st = os.stat(posix.sem_path(name))
    # glibc builds it under a temporary name: the creator maps `sem.XXXXXX (deleted)`, the opener the real name
    with open(f"/proc/{creator.pid}/maps") as f:
        creator_line = next(line for line in f if f" {st.st_ino} " in line and "/dev/shm/sem." in line)
    assert posix.sem_path(name) not in creator_line and creator_line.rstrip().endswith("(deleted)")
    sem = take_snapshot().psem[st.st_ino]
    assert (sem.name, sem.value, sem.blocked, sem.waiters, sem.layout, sem.unlinked) == (name, 3, 0, (), "glibc", False)
    assert sorted(h.pid for h in sem.holders) == sorted([creator.pid, opener.pid])
    assert all(h.fd is None for h in sem.holders)  # glibc closes the fd once mapped
    address = posix.sem_open(name, 0)
    try:
        posix.sem_wait(address, 0)
        assert posix.sem_getvalue(address) == 2 == take_snapshot().psem[st.st_ino].value
    finally:
        posix.sem_close(address)
        posix.sem_unlink(name)


def test_semaphore_waiter_is_counted(posix_name, holders):
    name = posix_name()
    address = posix.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    try:
        waiter = holders.spawn("psem-wait", name)
        inode = os.stat(posix.sem_path(name)).st_ino
        sem = wait_until(lambda: (s := take_snapshot().psem[inode]).blocked == 1 and s)  # glibc's count
        assert sem.value == 0 and waiter.pid in {h.pid for h in sem.holders}
        posix.sem_post(address)
        holders.end(waiter)
    finally:
        posix.sem_close(address)
        posix.sem_unlink(name)


def test_queue_held_open_is_seen_without_the_mqueue_filesystem(posix_name, holders):
    name = posix_name()
    holder = holders.spawn("pmsg-hold", name, "create", 5, 128)
    fd = int(holder.ready.split()[1])
    mine = posix.mq_open(name, os.O_WRONLY)
    try:
        posix.mq_send(mine, b"twelve bytes", 3)
        snapshot = take_snapshot()
        [queue] = [q for q in snapshot.pmsg.values() if q.name == name]
        kernel = posix.mq_getattr(mine)
        found = (queue.messages, queue.max_messages, queue.message_size)
        assert found == (kernel.messages, kernel.max_messages, kernel.message_size) == (1, 5, 128)
        assert queue.perms == 0o600 and queue.owner == "root" and queue.fill == 1 / 5
        assert queue.queued_bytes is None and queue.notify_pid is None  # not read: it would move atime and ctime
        assert {(h.pid, h.fd) for h in queue.holders} >= {(holder.pid, fd), (os.getpid(), mine)}
        posix.mq_unlink(name)
        [queue] = [q for q in take_snapshot().pmsg.values() if q.inode == queue.inode]
        assert queue.unlinked and queue.name == name
    finally:
        os.close(mine)
        with contextlib.suppress(Exception):
            posix.mq_unlink(name)


def test_memfd_passed_to_a_child_is_one_object_with_both_holders(holders):
    fd = os.memfd_create("ipctop-test-memfd")
    try:
        os.ftruncate(fd, 3 * 4096)
        child = holders.spawn("memfd-map", fd, 3 * 4096, pass_fds=(fd,))
        inode = os.fstat(fd).st_ino
        obj = take_snapshot().memfd[inode]
        assert (obj.source, obj.name, obj.size, obj.owner) == ("memfd", "ipctop-test-memfd", 3 * 4096, "root")
        assert {(h.pid, h.fd is None) for h in obj.holders} >= {(os.getpid(), False), (child.pid, False),
                                                                (child.pid, True)}
        [(start, end, _)] = maps_lines(child.pid, os.fstat(fd).st_dev, inode)
        assert (child.pid, start, end) in {(h.pid, h.start, h.end) for h in obj.holders if h.fd is None}
    finally:
        os.close(fd)


def test_shared_anonymous_memory_inherited_across_fork(holders):
    parent = holders.spawn("anon-fork", 5 * 4096)  # its child dies with it (PR_SET_PDEATHSIG)
    child_pid, address = parent.ready.split()[1:]
    snapshot = take_snapshot()
    found = [o for o in snapshot.memfd.values() if o.source == "anonymous"
             and {h.pid for h in o.holders} == {parent.pid, int(child_pid)}]
    assert len(found) == 1
    obj = found[0]
    assert obj.size == 5 * 4096 and obj.allocated == 4096  # one page written, before the fork
    assert all(h.start == int(address, 16) and h.end - h.start == 5 * 4096 for h in obj.holders)
    os.kill(int(child_pid), 15)
    wait_until(lambda: not os.path.exists(f"/proc/{child_pid}") or _state(int(child_pid)) == "Z")


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def test_looking_changes_no_time_of_any_posix_object(posix_name, holders):
    shm_name, sem_name, queue_name = posix_name(), posix_name(), posix_name()
    holders.spawn("pshm-hold", shm_name, 4096, "create")
    sem = posix.sem_open(sem_name, os.O_CREAT | os.O_EXCL, 0o600, 1)
    queue = posix.mq_open(queue_name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 4, 64)
    try:
        posix.mq_send(queue, b"x", 0)
        link = f"/proc/{os.getpid()}/fd/{queue}"

        def times() -> list[tuple[int, int, int]]:
            stats = [os.stat(posix.shm_path(shm_name)), os.stat(posix.sem_path(sem_name)), os.stat(link)]
            return [(s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns) for s in stats]

        before = times()
        take_snapshot()
        take_snapshot(read_queue_files=False)
        assert times() == before
    finally:
        posix.sem_close(sem)
        posix.sem_unlink(sem_name)
        os.close(queue)
        posix.mq_unlink(queue_name)
        posix.shm_unlink(shm_name)


def test_a_blocked_receiver_is_a_holder(posix_name, holders):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 2, 32)
    try:
        receiver = holders.spawn("pmsg-receive", name)
        wait_until(lambda: wchan(receiver.pid) not in ("", "0"))
        [queue] = [q for q in take_snapshot().pmsg.values() if q.name == name]
        assert receiver.pid in {h.pid for h in queue.holders} and queue.messages == 0
        posix.mq_send(fd, b"go", 1)
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_queues_listed_from_a_mounted_mqueue_filesystem(posix_name):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o620, 6, 100)
    try:
        os.fchmod(fd, 0o620)  # the umask took bits from mq_open's mode
        posix.mq_send(fd, b"12345", 1)
        posix.mq_send(fd, b"1234567", 9)
        os.close(fd)
        fd = -1  # nobody holds it now

        def look(point: str) -> dict:
            def times() -> tuple[int, int, int]:
                st = os.stat(f"{point}{name}")
                return st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns

            before = times()
            plain = [q for q in take_snapshot().pmsg.values() if q.name == name]
            unchanged = times() == before
            with open(f"{point}{name}") as f:
                text = f.read()
            read = [q for q in take_snapshot(read_queue_files=True).pmsg.values() if q.name == name]
            return {"plain": [(q.listed, q.messages, q.max_messages, q.message_size, q.perms, q.queued_bytes,
                               len(q.holders)) for q in plain],
                    "unchanged": unchanged, "text": text,
                    "read": [(q.queued_bytes, q.notify_pid) for q in read]}

        seen = with_mqueue_mounted(look)
        assert seen["plain"] == [[True, 2, 6, 100, 0o620, None, 0]]
        assert seen["unchanged"]  # a scan opens it and calls mq_getattr: no time moves
        assert seen["text"].split()[0] == "QSIZE:12"
        assert seen["read"] == [[12, 0]]
    finally:
        if fd >= 0:
            os.close(fd)
        posix.mq_unlink(name)


def test_reading_a_queue_file_moves_its_atime_and_ctime(posix_name):
    """The kernel fact behind reading QSIZE only when asked (ipc/mqueue.c, mqueue_read_file)."""
    import time

    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 2, 16)
    try:
        link = f"/proc/{os.getpid()}/fd/{fd}"
        before = os.stat(link)
        wait_until(lambda: int(time.time()) > int(before.st_ctime) + 1, timeout=5)  # mqueue times tick in seconds
        with open(link) as f:
            f.read()
        after = os.stat(link)
        assert after.st_mtime == before.st_mtime
        assert after.st_ctime > before.st_ctime and after.st_atime > before.st_atime
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_a_monitor_sees_a_quiet_process_map_an_object_once_it_runs(posix_name, holders):
    """The parse of a quiet process's maps is kept between scans; a process that maps something has run."""
    from ipctop.snapshot import Scanner

    name = posix_name()
    holder = holders.spawn("pshm-on-usr1", name)
    fd = posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, 4096)
    os.close(fd)
    try:
        scanner = Scanner()
        inode = os.stat(posix.shm_path(name)).st_ino

        def quiet_scan():  # type: ignore[no-untyped-def]
            # from the second scan on the holder is quiet (but for the scans that read everyone in full)
            snapshot = scanner.scan()
            return scanner.quiet is not None and scanner.quiet.quiet(holder.pid) and snapshot

        snapshot = wait_until(quiet_scan, timeout=30)
        assert snapshot.pshm[inode].holders == ()
        os.kill(holder.pid, 10)  # SIGUSR1: it maps the object
        wait_until(lambda: maps_lines(holder.pid, os.stat(posix.shm_path(name)).st_dev, inode))
        expected = {(holder.pid, None)} | {(holder.pid, n) for n in fds_on(holder.pid, inode)}  # mmap's dup
        assert {(h.pid, h.fd) for h in scanner.scan().pshm[inode].holders} == expected
    finally:
        posix.shm_unlink(name)


def test_as_an_ordinary_user_root_objects_are_listed_and_what_cannot_be_read_says_so(posix_name, holders):
    from tests.support.unprivileged import run_as_nobody

    shm, queue = posix_name(), posix_name()
    holders.spawn("pshm-hold", shm, 4096, "create")
    fd = posix.mq_open(queue, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 2, 16)
    try:
        def look() -> dict:
            os.close(fd)  # the queue fd this child inherited: let root's process alone hold it
            snapshot = take_snapshot()
            [obj] = [o for o in snapshot.pshm.values() if o.name == shm]
            queues = [q for q in snapshot.pmsg.values() if q.name == queue]
            return {"holders": len(obj.holders), "size": obj.size, "queues": len(queues),
                    "uninspectable": len(snapshot.uninspectable)}

        seen = run_as_nobody(look)
        # listed from /dev/shm, but its holder (root's) cannot be read, and says so; root's queue, held
        # only by root's fd, is not seen at all without /dev/mqueue
        assert seen["size"] == 4096 and seen["holders"] == 0 and seen["uninspectable"] > 0
        assert seen["queues"] == 0
    finally:
        os.close(fd)
        posix.mq_unlink(queue)
        posix.shm_unlink(shm)
