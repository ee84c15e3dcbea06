"""Entering real IPC namespaces (`unshare --ipc`): finding them, reading them from inside, acting
in them, compared with `nsenter -t PID -i ipcs`/`lsipc` run inside."""

from __future__ import annotations

import os
import threading

import pytest

from ipctop.collectors import namespaces
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.kernel.ipcns import Target, Unenterable, own_inode, run_in, visit
from tests.namespaces.helpers import inside, lsipc_inside
from tests.support.holders import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")

PROC = ProcFS()


def tables_of(member) -> namespaces.NamespaceTables:  # type: ignore[no-untyped-def]
    found = namespaces.read_namespaces(PROC, [Target(member.inode, (member.pid,))])[member.inode]
    assert not isinstance(found, Unenterable), found
    return found


def test_each_namespace_is_found_with_its_members_and_named_after_its_leader(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501001, "forks": 0}])
    discovery = namespaces.discover(PROC, PROC.pids(), os.readlink("/proc/self/ns/ipc"))
    assert discovery.namespace_of[member.pid] == member.inode
    assert discovery.members[member.inode] == (member.pid,)
    assert discovery.namespace_of[os.getpid()] == discovery.own == own_inode()
    named = {info.inode: info for info in namespaces.name_namespaces(PROC, discovery)}
    with open(f"/proc/{member.pid}/comm") as f:
        comm = f.read().strip()
    info = named[member.inode]
    assert (info.name, info.kind, info.leader, info.own) == (f"{comm}[{member.pid}]", "process", member.pid, False)
    own = named[discovery.own]
    assert (own.name, own.own) == ("host", True)
    assert next(iter(named.values())).own  # ipctop's own first


def test_tables_limits_and_states_read_from_inside_are_what_ipcs_inside_shows(ipc_namespaces):
    member = ipc_namespaces.spawn([
        {"kind": "sysctl", "name": "kernel/shmmni", "value": 1234},
        {"kind": "sysctl", "name": "kernel/msgmnb", "value": 20000},
        {"kind": "shm", "key": 0x49501002, "size": 8192, "attach": 1, "forks": 1},
        {"kind": "msg", "key": 0x49501003, "messages": [[1, "one"], [2, "two!"], [3, "three"]]},
        {"kind": "sem", "key": 0x49501004, "values": [2, 0, 1]},
    ])
    shmid, msqid, semid = member.ids
    tables = tables_of(member)

    (segment,) = lsipc_inside(member.pid, "-m", "KEY,ID,SIZE,NATTCH,CPID,LPID")
    (row,) = tables.shm
    assert (row.key, row.shmid, row.size, row.nattch, row.cpid, row.lpid) == (
        int(segment["key"], 16), int(segment["id"]), int(segment["size"]), int(segment["nattch"]),
        int(segment["cpid"]), int(segment["lpid"]))
    assert (row.nattch, row.cpid) == (2, member.pid)  # pids come back as the host's

    (queue,) = lsipc_inside(member.pid, "-q", "KEY,ID,USEDBYTES,MSGS,LSPID")
    (row,) = tables.msg
    assert (row.key, row.msqid, row.cbytes, row.qnum, row.lspid) == (
        int(queue["key"], 16), int(queue["id"]), int(queue["usedbytes"]), int(queue["msgs"]), int(queue["lspid"]))
    assert (row.qnum, row.cbytes) == (3, 12)
    assert tables.qbytes == {msqid: 20000}  # msgmnb of that namespace, set before the queue was made

    (sem_set,) = lsipc_inside(member.pid, "-s", "KEY,ID,NSEMS")
    (row,) = tables.sem
    assert (row.key, row.semid, row.nsems) == (int(sem_set["key"], 16), int(sem_set["id"]), int(sem_set["nsems"]))
    semaphores = [line.split() for line in inside(member.pid, "ipcs", "-s", "-i", str(semid)).splitlines()
                  if line[:1].isdigit()]
    state = tables.sem_states[semid]
    assert [int(s[1]) for s in semaphores] == list(state.values) == [2, 0, 1]
    assert [int(s[4]) for s in semaphores] == list(state.pids) == [member.pid] * 3
    assert state.ncnt == state.zcnt == (0, 0, 0)

    limits = {item["resource"]: int(item["limit"]) for item in lsipc_inside(member.pid, "-g", "RESOURCE,LIMIT")}
    assert (tables.limits.shmmni, tables.limits.msgmnb) == (limits["SHMMNI"], limits["MSGMNB"]) == (1234, 20000)
    with open("/proc/sys/kernel/shmmni") as f:
        assert int(f.read()) != 1234  # ours is untouched


def test_the_same_shmid_and_key_in_two_namespaces_are_two_segments(ipc_namespaces):
    key = 0x49501005
    one = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "attach": 1}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 12288, "attach": 1, "forks": 2}])
    assert one.ids == two.ids  # both namespaces number their first segment alike
    found = namespaces.read_namespaces(PROC, [Target(one.inode, (one.pid,)), Target(two.inode, (two.pid,))])
    (first,), (second,) = found[one.inode].shm, found[two.inode].shm
    assert first.shmid == second.shmid and first.key == second.key == key
    assert (first.size, first.nattch, first.cpid) == (4096, 1, one.pid)
    assert (second.size, second.nattch, second.cpid) == (12288, 3, two.pid)


def test_operations_act_inside_the_namespace_and_nowhere_else(ipc_namespaces):
    member = ipc_namespaces.spawn([
        {"kind": "shm", "key": 0x49501006, "size": 4096},
        {"kind": "msg", "key": 0x49501007},
        {"kind": "sem", "key": 0x49501008, "values": [0, 0]},
    ])
    shmid, msqid, semid = member.ids
    target = Target(member.inode, (member.pid,))

    run_in(target, sysv.msgsnd, msqid, 7, b"hello")
    assert run_in(target, sysv.msgrcv, msqid, 0, 100, nowait=True) == (7, b"hello")
    run_in(target, sysv.msgsnd, msqid, 9, b"stays")
    run_in(target, sysv.sem_setval, semid, 1, 5)
    run_in(target, sysv.semop, semid, 1, -2)
    run_in(target, sysv.shm_set, shmid, mode=0o640)
    queue = lsipc_inside(member.pid, "-q", "ID,MSGS,LRPID")[0]
    assert int(queue["msgs"]) == 1 and int(queue["lrpid"]) == os.getpid()  # ipctop received it, by its host pid
    assert [line.split()[1] for line in inside(member.pid, "ipcs", "-s", "-i", str(semid)).splitlines()
            if line[:1].isdigit()] == ["0", "3"]
    assert lsipc_inside(member.pid, "-m", "ID,PERMS")[0]["perms"] == "rw-r-----"

    run_in(target, sysv.shm_remove, shmid)
    run_in(target, sysv.msg_remove, msqid)
    run_in(target, sysv.sem_remove, semid)
    assert lsipc_inside(member.pid, "-m", "ID") == lsipc_inside(member.pid, "-q", "ID") == []
    with pytest.raises(IpcError, match="shmctl"):
        run_in(target, sysv.shm_stat, shmid)  # the kernel's refusal comes back as it is


def test_a_namespace_whose_processes_are_all_gone_cannot_be_entered_and_says_so(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501009}])
    target = Target(member.inode, (member.pid,))
    ipc_namespaces.end(member)
    with pytest.raises(Unenterable) as refusal:
        run_in(target, sysv.msg_remove, member.ids[0])
    assert str(refusal.value) == (
        f"IPC namespace {member.inode} cannot be entered: its processes have all exited (and its objects with it)")
    assert isinstance(namespaces.read_namespaces(PROC, [target])[member.inode], Unenterable)


def test_a_reused_pid_does_not_lead_into_another_namespace(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x4950100A}])
    wrong = Target(member.inode + 1_000_000, (member.pid,))  # that pid is in another namespace than asked
    with pytest.raises(Unenterable, match="its processes have all exited"):
        run_in(wrong, sysv.msg_stat, member.ids[0])


def test_members_of_a_container_like_pid_namespace_come_back_with_host_pids(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x4950100B, "attach": 1}], pid_namespace=True)
    with open(f"/proc/{member.pid}/status") as f:
        assert next(line for line in f if line.startswith("NSpid:")).split()[1:] == [str(member.pid), "1"]
    (row,) = tables_of(member).shm
    assert row.cpid == row.lpid == member.pid
    assert inside(member.pid, "ipcs", "-m", "-p").split()[-2:] == [str(member.pid)] * 2


def test_a_visit_leaves_no_thread_of_ours_in_the_namespace(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x4950100C}])
    before = own_inode()
    seen = visit([Target(member.inode, (member.pid,))], lambda _target: (own_inode(), threading.current_thread().name))
    assert seen[member.inode] == (member.inode, "ipctop-ipcns")
    assert own_inode() == before
    # nothing of ours keeps it alive after its processes exit.  The visiting thread is joined, but the
    # kernel's task of a joined thread can outlive the join by a moment: it may still be listed, or be
    # gone between the listing and the stat; one that stays fails this after the wait
    wait_until(lambda: member.inode not in _our_threads_namespaces())
    assert not any(t.name == "ipctop-ipcns" for t in threading.enumerate())


def _our_threads_namespaces() -> set[int]:
    """The IPC namespace of each of this process's threads (those that end while they are read are left out)."""
    found = set()
    for tid in os.listdir("/proc/self/task"):
        try:
            found.add(os.stat(f"/proc/self/task/{tid}/ns/ipc").st_ino)
        except FileNotFoundError:
            continue
    return found
