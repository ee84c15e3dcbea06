"""Events of POSIX objects from two real scans: created, opened, mapped, unlinked, closed, drained."""

from __future__ import annotations

import os

from ipctop.collectors.mappings import MapsPass
from ipctop.diff import EventKind, diff
from ipctop.kernel import posix
from ipctop.snapshot import Scanner
from tests.support.holders import wait_until
from tests.support.procfds import fds_on


def _mine(events, kind: str, inode: int) -> list[tuple[EventKind, int | None]]:  # type: ignore[no-untyped-def]
    return sorted(((e.kind, e.pid) for e in events if e.object_kind == kind and e.object_id == inode),
                  key=lambda item: (item[0].value, item[1] or 0))


def test_shared_memory_lifetime_as_events(posix_name, holders):
    scanner = Scanner()
    name = posix_name()
    first = scanner.scan()
    holder = holders.spawn("pshm-hold", name, 4096, "create", "close")
    second = scanner.scan()
    inode = os.stat(posix.shm_path(name)).st_ino
    opened = [(EventKind.OPENED, holder.pid)] * len(fds_on(holder.pid, inode))  # Python's mmap keeps a dup
    assert _mine(diff(first, second), "pshm", inode) == [
        (EventKind.CREATED, holder.pid), (EventKind.MAPPED, holder.pid), *opened]
    third = scanner.scan()
    assert _mine(diff(second, third), "pshm", inode) == []  # nothing happened: nothing said
    posix.shm_unlink(name)
    fourth = scanner.scan()
    events = [e for e in diff(third, fourth) if e.object_kind == "pshm" and e.object_id == inode]
    assert [e.kind for e in events] == [EventKind.UNLINKED]
    assert events[0].detail == f"{name}: still held by 1 process"
    holders.end(holder)
    fifth = scanner.scan()
    assert _mine(diff(fourth, fifth), "pshm", inode) == [(EventKind.REMOVED, None)]


def test_queue_grows_and_drains(posix_name, holders):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 4, 32)
    try:
        scanner = Scanner()
        first = scanner.scan()
        inode = next(q.inode for q in first.pmsg.values() if q.name == name)
        posix.mq_send(fd, b"one", 1)
        posix.mq_send(fd, b"two", 2)
        second = scanner.scan()
        [grew] = [e for e in diff(first, second) if e.object_id == inode]
        assert (grew.kind, grew.detail) == (EventKind.QUEUE_GREW, f"{name}: 0 → 2 messages")
        posix.mq_receive(fd, 32)
        third = scanner.scan()
        assert [e.kind for e in diff(second, third) if e.object_id == inode] == [EventKind.QUEUE_DRAINED]
        other = os.dup(fd)
        fourth = scanner.scan()
        assert _mine(diff(third, fourth), "pmsg", inode) == [(EventKind.OPENED, os.getpid())]
        os.close(other)
        fifth = scanner.scan()
        assert _mine(diff(fourth, fifth), "pmsg", inode) == [(EventKind.CLOSED, os.getpid())]
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_semaphore_value_change(posix_name, holders):
    name = posix_name()
    holders.spawn("psem-hold", name, 1)
    scanner = Scanner()
    first = scanner.scan()
    inode = os.stat(posix.sem_path(name)).st_ino
    address = posix.sem_open(name, 0)
    try:
        posix.sem_post(address)
        second = scanner.scan()
        changed = [e for e in diff(first, second) if e.object_id == inode and e.kind == EventKind.SEM_CHANGED]
        assert [e.detail for e in changed] == [f"{name}: 1 → 2"]
    finally:
        posix.sem_close(address)
        posix.sem_unlink(name)


def test_holders_whose_maps_come_in_another_order_keep_their_records(posix_name, holders, monkeypatch):
    # a monitor's scan has the maps of quiet processes from memory and reads the others' after them, so
    # the order they come in changes from scan to scan; what is made of them must not (on 700 workers of
    # a multiprocessing pool, each of its semaphores' 700 holders was made again every scan)
    name = posix_name()
    made = [holders.spawn("pshm-hold", name, 4096, "create", "close")]
    try:
        made += [holders.spawn("pshm-hold", name, 4096, "close") for _ in range(2)]
        inode = os.stat(posix.shm_path(name)).st_ino
        scanner = Scanner()
        assert scanner.quiet is not None
        scanner.quiet.full_every = 1_000_000  # no holder read in full for its turn in the scans below
        # until every holder is found quiet: one still running between the two scans below has its maps
        # read again, rightly, and a new raw record (the test failed so on a loaded machine)
        pids = [held.pid for held in made]
        wait_until(lambda: scanner.scan() and scanner.quiet is not None and all(map(scanner.quiet.quiet, pids)),
                   timeout=10)
        first = scanner.scan()
        memo = scanner.memory.posix
        holders_made = memo.holders[("pshm", inode)][2]
        assert sorted({h.pid for h in holders_made}) == sorted(held.pid for held in made)
        mapped = memo.mapped
        real = MapsPass.scan
        monkeypatch.setattr(MapsPass, "scan", lambda self, pids: dict(reversed(real(self, pids).items())))
        second = scanner.scan()
        assert second.pshm[inode] is first.pshm[inode]
        assert memo.holders[("pshm", inode)][2] is holders_made  # not made again
        assert all(memo.mapped[held.pid][1] is mapped[held.pid][1] for held in made)  # nor their raw holders
    finally:
        posix.shm_unlink(name)


def test_unnamed_memory_is_named_memfd_or_anon_in_the_event_log(holders):
    """A memfd and shared anonymous memory are one kind (`--type memfd`), but the log names each as it is:
    a database's MAP_SHARED|MAP_ANONYMOUS buffers are not a memfd."""
    scanner = Scanner()
    first = scanner.scan()
    fd = os.memfd_create("ipctop-test-memfd")
    try:
        os.ftruncate(fd, 4096)
        memfd_holder = holders.spawn("memfd-map", fd, 4096, pass_fds=(fd,))
        anon_holder = holders.spawn("anon-fork", 3 * 4096)
        anon_child = int(anon_holder.ready.split()[1])
        second = scanner.scan()
        memfd_inode = os.fstat(fd).st_ino
        [anon] = [o for o in second.memfd.values() if o.source == "anonymous"
                  and {h.pid for h in o.holders} == {anon_holder.pid, anon_child}]
        events = diff(first, second)
        labels = {(e.kind, e.pid, e.object_label) for e in events if e.object_id in (memfd_inode, anon.inode)}
        assert (EventKind.CREATED, anon_holder.pid, f"anon {anon.inode}") in labels
        assert (EventKind.MAPPED, anon_child, f"anon {anon.inode}") in labels
        assert (EventKind.MAPPED, memfd_holder.pid, f"memfd {memfd_inode}") in labels
        assert {e.object_kind for e in events if e.object_id in (memfd_inode, anon.inode)} == {"memfd"}
        holders.end(anon_holder)
        wait_until(lambda: not os.path.exists(f"/proc/{anon_child}"))
        third = scanner.scan()
        assert (EventKind.REMOVED, None, f"anon {anon.inode}") in {
            (e.kind, e.pid, e.object_label) for e in diff(second, third) if e.object_id == anon.inode}
    finally:
        os.close(fd)
