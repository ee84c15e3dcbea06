"""The leak rules against real objects left by real processes (find_leaks touches nothing)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

from ipctop.cleanup import LeakFilters, find_leaks, scan_queue_waiters
from ipctop.cleanup.leaks import CLOCK_SLACK
from ipctop.kernel import sysv
from ipctop.snapshot import take_snapshot
from tests.cleanup.helpers import create_segment_and_exit, in_exited_child, wait_for_clock, with_process
from tests.support.holders import wait_until


def leaks_for(*keys: int, **options) -> dict:
    """{id: candidate} for the test's own keys, from a fresh snapshot."""
    waiters = options.pop("waiters", None)
    filters = LeakFilters(keys=frozenset(keys), **options)
    return {c.id: c for c in find_leaks(take_snapshot(), filters, time.time(), queue_waiters=waiters)}


def test_segment_whose_creator_exited_is_a_candidate(ipc_key, holders):
    key = ipc_key()
    creator = holders.spawn("shm-create-exit", key, 8192)
    shmid = int(creator.ready.split()[1])
    creator.popen.wait(timeout=10)
    try:
        found = leaks_for(key)
        assert list(found) == [shmid]
        leak = found[shmid]
        assert leak.removable and leak.kind == "shm" and leak.key == key
        assert f"creator pid {creator.pid} has exited" in leak.reason and "never attached" in leak.reason
        assert leak.users == (creator.pid, 0) and leak.detail == "8K"
    finally:
        sysv.shm_remove(shmid)


def test_segment_still_attached_is_not_a_candidate(ipc_key, holders):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    try:
        holders.spawn("shm-attach", shmid)
        assert leaks_for(key) == {}
        assert leaks_for(key, older_than=0) == {}  # in use is never even reported
    finally:
        sysv.shm_remove(shmid)


def test_segment_whose_creator_is_alive_is_kept_and_reported_only_when_idle(ipc_key):
    key = ipc_key()
    shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | 0o600)  # this test process is the live creator
    try:
        assert leaks_for(key) == {}
        idle = leaks_for(key, older_than=0)[shmid]
        assert not idle.removable
        assert idle.reason.startswith("creator python")
        assert f"[{os.getpid()}] is alive but nobody used it" in idle.reason
    finally:
        sysv.shm_remove(shmid)


def test_segment_whose_last_user_is_alive_is_kept(ipc_key):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    try:
        sysv.shmdt(sysv.shmat(shmid))  # this process becomes the last user
        assert leaks_for(key) == {}
        assert "last user python" in leaks_for(key, older_than=0)[shmid].reason
    finally:
        sysv.shm_remove(shmid)


def test_segment_marked_for_removal_and_held_is_reported_with_its_holders(ipc_key, holders):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    holder = holders.spawn("shm-attach", shmid)
    sysv.shm_remove(shmid)
    found = leaks_for(key)
    assert list(found) == [shmid]
    leak = found[shmid]
    assert not leak.removable and leak.holders == (holder.pid,) and leak.key == key
    assert leak.reason.startswith("marked for removal, kept alive by python") and f"[{holder.pid}]" in leak.reason
    holders.end(holder)


def test_a_reused_pid_is_not_taken_for_the_creator(ipc_key, holders):
    """Pid reuse cannot be forced, so the snapshot is edited to point cpid at a real
    process started after the segments existed: a live process, with its real start
    time read from /proc, which could not have made them.  `fresh` was only ever
    known by its creation; `used` was also attached at creation time by a child that
    exited; both then get an IPC_SET, which moves ctime past the process's start."""
    fresh_key, used_key, set_key = ipc_key(), ipc_key(), ipc_key()
    fresh, _ = create_segment_and_exit(fresh_key)
    used, _ = create_segment_and_exit(used_key)
    in_exited_child(lambda: sysv.shmdt(sysv.shmat(used)))
    changed, _ = create_segment_and_exit(set_key)
    try:
        # the latest time the table shows of the three (a loaded machine can put seconds between them)
        born = max(max(st.ctime, st.atime) for st in map(sysv.shm_stat, (fresh, used, changed)))
        wait_for_clock(born + CLOCK_SLACK + 1)
        later = holders.spawn("hold")
        sysv.shm_set(used, mode=0o640)
        sysv.shm_set(changed, mode=0o640)
        snapshot = with_process(take_snapshot(), later.pid)
        assert snapshot.processes[later.pid].start_time >= born + CLOCK_SLACK
        shm = {shmid: replace(snapshot.shm[shmid], cpid=later.pid) for shmid in (fresh, used, changed)}
        edited = replace(snapshot, shm={**snapshot.shm, **shm})
        found = {c.id: c for c in find_leaks(edited, LeakFilters(keys=frozenset({fresh_key, used_key, set_key})))}

        assert found[fresh].removable and "a reused pid" in found[fresh].reason
        # ctime moved with IPC_SET, but atime still shows the segment existed before the process started.
        assert found[used].removable and "a reused pid" in found[used].reason
        # Here ctime is all that is known, and it is later than the process's start: kept, the safe side.
        assert changed not in found or not found[changed].removable

        # The same edit pointing at a process that started before the segments: a live creator.
        ours = replace(snapshot, shm={**snapshot.shm, fresh: replace(snapshot.shm[fresh], cpid=os.getpid())})
        assert find_leaks(ours, LeakFilters(keys=frozenset({fresh_key}))) == []
    finally:
        for shmid in (fresh, used, changed):
            sysv.shm_remove(shmid)


def test_queue_last_used_by_an_exited_process_is_a_candidate(ipc_key):
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    try:
        sender = in_exited_child(lambda: sysv.msgsnd(msqid, 4, b"left behind"))
        leak = leaks_for(key)[msqid]
        assert leak.removable and leak.users == (sender, 0)
        assert f"last sender pid {sender} has exited" in leak.reason and "holds 1 messages" in leak.reason
    finally:
        sysv.msg_remove(msqid)


def test_queue_whose_last_receiver_is_alive_is_kept(ipc_key):
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    try:
        in_exited_child(lambda: sysv.msgsnd(msqid, 1, b"x"))
        sysv.msgrcv(msqid, 0, 64, nowait=True)
        assert leaks_for(key) == {}
    finally:
        sysv.msg_remove(msqid)


def test_queue_with_a_blocked_receiver_is_in_use(ipc_key, holders):
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    try:
        in_exited_child(lambda: sysv.msgsnd(msqid, 1, b"for type 1"))
        receiver = holders.spawn("msg-recv", msqid, 2)  # waits for a type no one sent yet
        waiters = wait_until(lambda: (w := scan_queue_waiters()).by_msqid.get(msqid) and w)
        assert waiters.by_msqid[msqid] == (receiver.pid,)
        assert leaks_for(key, waiters=waiters) == {}
        assert leaks_for(key)[msqid].removable  # without the scan the rule alone would pick it
    finally:
        sysv.msg_remove(msqid)


def test_never_used_queue_and_set_are_removable_only_with_older_than(ipc_key):
    queue_key, set_key = ipc_key(), ipc_key()
    msqid = sysv.msgget(queue_key, sysv.IPC_CREAT | 0o600)
    semid = sysv.semget(set_key, 2, sysv.IPC_CREAT | 0o600)
    try:
        assert leaks_for(queue_key, set_key) == {}  # fresh: its creator may be about to use it
        found = leaks_for(queue_key, set_key, older_than=0)
        assert found[msqid].removable and found[msqid].reason.startswith("never sent to nor received from since")
        assert found[semid].removable and found[semid].reason.startswith("never operated on since")
        assert leaks_for(queue_key, set_key, older_than=3600) == {}
    finally:
        sysv.msg_remove(msqid)
        sysv.sem_remove(semid)


def test_semaphore_set_whose_last_user_exited_is_a_candidate(ipc_key):
    key = ipc_key()
    semid = sysv.semget(key, 3, sysv.IPC_CREAT | 0o600)
    try:
        user = in_exited_child(lambda: sysv.semop(semid, 1, 2))
        leak = leaks_for(key)[semid]
        assert leak.removable and leak.users == (0, user, 0)
        assert f"last user pid {user} has exited" in leak.reason and leak.detail == "3 sems = 0,2,0"
    finally:
        sysv.sem_remove(semid)


def test_semaphore_set_in_use_is_kept(ipc_key, holders):
    alive_key, waited_key = ipc_key(), ipc_key()
    alive = sysv.semget(alive_key, 1, sysv.IPC_CREAT | 0o600)
    waited = sysv.semget(waited_key, 2, sysv.IPC_CREAT | 0o600)
    try:
        in_exited_child(lambda: sysv.semop(alive, 0, 1))
        sysv.semop(alive, 0, -1)  # this live process is now the last user
        in_exited_child(lambda: sysv.semop(waited, 0, 1))  # last user exited, but...
        holders.spawn("sem-wait", waited, 1, -1)  # ...a process waits on it
        wait_until(lambda: sysv.sem_get(waited, 1, sysv.GETNCNT) == 1)
        assert leaks_for(alive_key, waited_key) == {}
    finally:
        sysv.sem_remove(alive)
        sysv.sem_remove(waited)


def test_filters_by_type_user_key_and_age(ipc_key):
    shm_key, sem_key = ipc_key(), ipc_key()
    shmid, _ = create_segment_and_exit(shm_key)
    semid = sysv.semget(sem_key, 1, sysv.IPC_CREAT | 0o600)
    try:
        in_exited_child(lambda: sysv.semop(semid, 0, 1))
        assert set(leaks_for(shm_key, sem_key)) == {shmid, semid}
        assert set(leaks_for(shm_key, sem_key, types=frozenset({"sem"}))) == {semid}
        assert set(leaks_for(shm_key)) == {shmid}
        assert leaks_for(shm_key, sem_key, uid=65534) == {}
        assert set(leaks_for(shm_key, sem_key, uid=0)) == {shmid, semid}
        assert leaks_for(shm_key, sem_key, older_than=3600) == {}
    finally:
        sysv.shm_remove(shmid)
        sysv.sem_remove(semid)
