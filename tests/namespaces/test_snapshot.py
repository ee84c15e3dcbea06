"""Snapshots of a machine with several real IPC namespaces: every object with its namespace, never confused."""

from __future__ import annotations

import os

import pytest

from ipctop.namespace_scan import NOT_ROOT_NOTE
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import wait_until, woken_by_a_byte
from tests.support.unprivileged import run_as_nobody

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def test_the_same_shmid_and_key_in_two_namespaces_keep_their_own_attachers(ipc_namespaces):
    key = 0x49501401
    one = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "attach": 1, "forks": 1}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 8192, "attach": 2}])
    snapshot = take_snapshot()
    first, second = snapshot.namespace(one.inode), snapshot.namespace(two.inode)
    (a,), (b,) = first.shm.values(), second.shm.values()
    assert a.shmid == b.shmid and a.key == b.key == key
    assert (a.size, a.ipc_ns, a.container) == (4096, one.inode, first.name)
    assert (b.size, b.ipc_ns, b.container) == (8192, two.inode, second.name)
    assert sorted(x.pid for x in a.attachers) == sorted([one.pid, *one.children]) and a.attachers_complete
    assert [x.pid for x in b.attachers] == [two.pid, two.pid] and b.attachers_complete
    # each attacher is a process of the snapshot, in its namespace, mapping its namespace's shmid
    for member in (one, two):
        process = snapshot.processes[member.pid]
        assert process.ipc_ns == member.link and process.shm == (a.shmid,)
    # ipctop's own tables are its own namespace's: neither of those is in them
    assert all(s.key != key for s in snapshot.shm.values())
    assert all(s.ipc_ns == snapshot.namespaces[0].inode and s.container == "host" for s in snapshot.shm.values())
    assert snapshot.namespaces[0].own and snapshot.namespaces[0].shm is snapshot.shm


def test_queues_and_sets_of_another_namespace_with_their_users_and_limits(ipc_namespaces):
    member = ipc_namespaces.spawn([
        {"kind": "sysctl", "name": "kernel/msgmnb", "value": 30000},
        {"kind": "msg", "key": 0x49501402, "messages": [[5, "hello"]]},
        {"kind": "sem", "key": 0x49501403, "values": [1, 4]},
    ])
    msqid, semid = member.ids
    snapshot = take_snapshot()
    namespace = snapshot.namespace(member.inode)
    queue, sem_set = namespace.msg[msqid], namespace.sem[semid]
    assert (queue.qnum, queue.cbytes, queue.qbytes, queue.lspid) == (1, 5, 30000, member.pid)
    assert (sem_set.values, sem_set.pids, sem_set.ipc_ns) == ((1, 4), (member.pid, member.pid), member.inode)
    assert namespace.limits.msgmnb == 30000 and snapshot.limits.msgmnb != 30000
    process = snapshot.processes[member.pid]
    assert (process.msg, process.sem) == ((msqid,), (semid,))
    assert namespace.members == (member.pid,) and namespace.leader == member.pid and not namespace.error


def test_a_scanner_follows_changes_inside_a_namespace_and_reuses_what_did_not_change(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501404, "attach": 1}])
    scanner = Scanner()
    first = scanner.scan().namespace(member.inode)
    again = scanner.scan().namespace(member.inode)
    (shmid,) = member.ids
    assert again.shm[shmid] is first.shm[shmid]  # unchanged: the very same record
    other = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501405}])
    later = scanner.scan()
    assert later.namespace(other.inode) is not None and later.namespace(member.inode).shm[shmid] is first.shm[shmid]
    ipc_namespaces.end(other)
    wait_until(lambda: scanner.scan().namespace(other.inode) is None, timeout=10)


@pytest.mark.unprivileged
def test_as_nobody_the_snapshot_is_ipctops_own_namespace_and_says_so(ipc_namespaces):
    ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501406}])

    def look() -> dict:
        snapshot = take_snapshot()
        return {"namespaces": len(snapshot.namespaces), "note": snapshot.namespace_note,
                "keys": [s.key for s in snapshot.all_shm()]}

    seen = run_as_nobody(look)
    assert seen["namespaces"] == 0 and seen["note"] == NOT_ROOT_NOTE and 0x49501406 not in seen["keys"]


def test_a_process_that_moves_to_a_namespace_of_its_own_without_a_fork_is_found_there(holders):
    """A monitor's scan takes its last discovery of namespaces while no process came or went and those
    that ran are where they were: one that unshared its IPC namespace ran, and is read again."""
    with woken_by_a_byte(holders, "unshare-ipc-on-read") as (mover, write_end):
        scanner = Scanner()
        own = scanner.scan().namespaces[0].inode
        wait_until(lambda: scanner.scan() and scanner.quiet is not None and scanner.quiet.quiet(mover.pid),
                   timeout=10)
        assert mover.pid in scanner.scan().namespaces[0].members
        before = os.readlink(f"/proc/{mover.pid}/ns/ipc")
        os.write(write_end, b"x")
        wait_until(lambda: os.readlink(f"/proc/{mover.pid}/ns/ipc") != before)
        snapshot = scanner.scan()
        (moved,) = [ns for ns in snapshot.namespaces if mover.pid in ns.members]
        assert moved.inode != own and moved.members == (mover.pid,)
        assert mover.pid not in snapshot.namespaces[0].members
