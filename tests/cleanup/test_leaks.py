"""The leak rules against real objects left by real processes (find_leaks touches nothing).

Most objects here are left by a child that ran as suite_uid(), a user no other process
runs as, and exited: then nothing alive can be their creator.  `older_than=0` removes the
grace period, which otherwise keeps every object this fresh out of the list.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ipctop.cleanup import LeakFilters, find_leaks, gather, scan_waiters
from ipctop.cleanup.evidence import Evidence
from ipctop.cleanup.leaks import CLOCK_SLACK
from ipctop.frozen import replace
from ipctop.kernel import sysv
from ipctop.snapshot import take_snapshot
from tests.cleanup.helpers import (
    create_segment_and_exit,
    in_exited_child,
    queue_left_behind,
    set_left_behind,
    wait_for_clock,
    with_process,
)
from tests.support.holders import wait_until
from tests.support.keys import suite_uid


def leaks_for(*keys: int, **options) -> dict:
    """{(kind, id): candidate} for the test's own keys, from a fresh snapshot and fresh evidence (by kind
    and id: a segment, a queue and a set may have the same id, each kind counting its own)."""
    snapshot = take_snapshot()
    evidence = gather(snapshot)
    if "waiters" in options:
        evidence = Evidence(waiters=options.pop("waiters"), residents=evidence.residents, demos=evidence.demos)
    filters = LeakFilters(keys=frozenset(keys), **options)
    return {(c.kind, c.id): c for c in find_leaks(snapshot, filters, time.time(), evidence=evidence)}


def test_segment_whose_creator_exited_is_a_candidate(ipc_key, holders):
    key = ipc_key()
    creator = holders.spawn("shm-create-exit", key, 8192)
    shmid = int(creator.ready.split()[1])
    creator.popen.wait(timeout=10)
    try:
        assert leaks_for(key) == {}  # within the grace period: its maker may be about to attach it
        found = leaks_for(key, older_than=0)
        assert list(found) == [("shm", shmid)]
        leak = found["shm", shmid]
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
        idle = leaks_for(key, older_than=0)["shm", shmid]
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
        assert not leaks_for(key, older_than=0)["shm", shmid].removable
        assert "last user python" in leaks_for(key, older_than=0)["shm", shmid].reason
    finally:
        sysv.shm_remove(shmid)


def test_segment_marked_for_removal_and_held_is_reported_with_its_holders(ipc_key, holders):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    holder = holders.spawn("shm-attach", shmid)
    sysv.shm_remove(shmid)
    found = leaks_for(key)
    assert list(found) == [("shm", shmid)]
    leak = found["shm", shmid]
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
        filters = LeakFilters(keys=frozenset({fresh_key, used_key, set_key}), older_than=0)
        found = {(c.kind, c.id): c for c in find_leaks(edited, filters)}

        assert found["shm", fresh].removable and "a reused pid" in found["shm", fresh].reason
        # ctime moved with IPC_SET, but atime still shows the segment existed before the process started.
        assert found["shm", used].removable and "a reused pid" in found["shm", used].reason
        # Here ctime is all that is known, and it is later than the process's start: kept, the safe side.
        assert ("shm", changed) not in found or not found["shm", changed].removable

        # The same edit pointing at a process that started before the segments: a live creator.
        ours = replace(snapshot, shm={**snapshot.shm, fresh: replace(snapshot.shm[fresh], cpid=os.getpid())})
        assert [c.removable for c in find_leaks(ours, LeakFilters(keys=frozenset({fresh_key}), older_than=0))] == [
            False]
    finally:
        for shmid in (fresh, used, changed):
            sysv.shm_remove(shmid)


def test_queue_whose_creator_and_last_sender_are_gone_is_a_candidate(ipc_key):
    key = ipc_key()
    msqid = queue_left_behind(key)
    try:
        sender = sysv.msg_stat(msqid).lspid
        assert leaks_for(key) == {}  # within the grace period
        leak = leaks_for(key, older_than=0)["msg", msqid]
        assert leak.removable and leak.users == (sender, 0)
        assert leak.reason.startswith(f"creator gone: no live process of uid {suite_uid()} was running when it "
                                      "was made")
        assert f"last sender pid {sender} has exited" in leak.reason and "holds 1 message (" in leak.reason
    finally:
        sysv.msg_remove(msqid)


def test_queue_whose_creator_lives_is_kept_though_its_last_sender_exited(ipc_key):
    """The kernel keeps no creator pid for queues: this process made it and may use it again."""
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    try:
        sender = in_exited_child(lambda: sysv.msgsnd(msqid, 4, b"from a worker"))
        leak = leaks_for(key, older_than=0)["msg", msqid]
        assert not leak.removable
        assert leak.reason.startswith("creator unknown: ") and "live process" in leak.reason
        assert f"last sender pid {sender} has exited" in leak.reason
    finally:
        sysv.msg_remove(msqid)


def test_queue_whose_last_receiver_is_alive_is_kept(ipc_key):
    key = ipc_key()
    msqid = queue_left_behind(key, messages=(b"x",))
    try:
        sysv.msgrcv(msqid, 0, 64, nowait=True)
        assert leaks_for(key) == {}
        assert not leaks_for(key, older_than=0)["msg", msqid].removable
    finally:
        sysv.msg_remove(msqid)


def test_queue_with_a_blocked_receiver_is_in_use(ipc_key, holders):
    key = ipc_key()
    msqid = queue_left_behind(key, messages=(b"for type 1",))
    try:
        receiver = holders.spawn("msg-recv", msqid, 2)  # waits for a type no one sent yet
        waiters = wait_until(lambda: (w := scan_waiters()).by_msqid.get(msqid) and w)
        assert waiters.by_msqid[msqid] == (receiver.pid,)
        assert leaks_for(key, waiters=waiters, older_than=0) == {}
        # the snapshot's own waits (every thread's system call) name it too, and keep it without the scan
        assert [w.pid for w in take_snapshot().msg[msqid].waiters] == [receiver.pid]
        assert leaks_for(key, waiters=None, older_than=0) == {}
    finally:
        sysv.msg_remove(msqid)


def test_never_used_queue_and_set_are_candidates_once_their_creator_is_gone_and_the_grace_is_over(ipc_key):
    queue_key, set_key, kept_key = ipc_key(), ipc_key(), ipc_key()
    msqid = queue_left_behind(queue_key, messages=())
    semid = in_exited_child_made_set(set_key)
    kept = sysv.msgget(kept_key, sysv.IPC_CREAT | 0o600)  # never used either, but its creator (this process) lives
    try:
        assert leaks_for(queue_key, set_key, kept_key) == {}  # fresh: the grace period
        found = leaks_for(queue_key, set_key, kept_key, older_than=0)
        queue = found["msg", msqid]
        assert queue.removable and "nothing ever sent; nothing ever received" in queue.reason
        assert found["sem", semid].removable and "never operated on" in found["sem", semid].reason
        assert not found["msg", kept].removable and found["msg", kept].reason.startswith("creator unknown")
        assert leaks_for(queue_key, set_key, older_than=3600) == {}
    finally:
        sysv.msg_remove(msqid)
        sysv.sem_remove(semid)
        sysv.msg_remove(kept)


def in_exited_child_made_set(key: int) -> int:
    """A set made (no SETALL, no semop) by a child of suite_uid() that exited."""
    read_fd, write_fd = os.pipe()
    try:
        in_exited_child(lambda: os.write(write_fd, str(sysv.semget(key, 2, sysv.IPC_CREAT | 0o600)).encode()),
                        uid=suite_uid())
        return int(os.read(read_fd, 64))
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_semaphore_set_whose_creator_and_last_user_exited_is_a_candidate(ipc_key):
    key = ipc_key()
    semid = set_left_behind(key, values=(0, 0, 0))
    try:
        user = in_exited_child(lambda: sysv.semop(semid, 1, 2))
        leak = leaks_for(key, older_than=0)["sem", semid]
        assert leak.removable and leak.users == (sysv.sem_get(semid, 0, sysv.GETPID), user, leak.users[2])
        assert leak.reason.startswith("creator gone")
        assert f"pid {user} has exited" in leak.reason and leak.detail == "3 sems = 0,2,0"
    finally:
        sysv.sem_remove(semid)


def test_a_set_only_touched_by_its_live_creators_setall_is_not_proposed(ipc_key, holders):
    key = ipc_key()
    creator = holders.spawn("sem-create-as", key, suite_uid(), "1,0")
    semid = int(creator.ready.split()[1])
    try:
        assert sysv.sem_get(semid, 0, sysv.GETPID) == creator.pid  # SETALL made it the last user
        assert leaks_for(key) == {}
        leak = leaks_for(key, older_than=0)["sem", semid]
        assert not leak.removable and f"[{creator.pid}] is alive" in leak.reason
    finally:
        sysv.sem_remove(semid)


def test_a_set_last_used_by_an_exited_worker_while_its_creator_lives_is_not_proposed(ipc_key, holders):
    key = ipc_key()
    creator = holders.spawn("sem-create-as", key, suite_uid(), "1")
    semid = int(creator.ready.split()[1])
    try:
        worker = in_exited_child(lambda: sysv.semop(semid, 0, -1), uid=suite_uid())
        assert sysv.sem_get(semid, 0, sysv.GETPID) == worker  # the creator is not its last user any more
        assert leaks_for(key) == {}
        leak = leaks_for(key, older_than=0)["sem", semid]
        assert not leak.removable
        # named as the panes name it: the script its interpreter runs, not only `python3`
        named = f"{os.path.basename(sys.executable)} child.py[{creator.pid}]"
        assert leak.reason.startswith(f"creator unknown: 1 live process of uid {suite_uid()} already ran when it "
                                      f"was made and may be its creator ({named})")
        assert f"[{creator.pid}]); " in leak.reason
        assert f"last user pid {worker} has exited" in leak.reason
    finally:
        sysv.sem_remove(semid)


def test_a_segment_made_by_ipctop_shm_create_and_not_yet_attached_is_not_proposed_within_the_grace(ipc_key):
    key = ipc_key()
    made = subprocess.run([sys.executable, "-m", "ipctop", "shm", "create", "--key", hex(key), "--size", "4096"],
                          capture_output=True, text=True, check=True)
    shmid = int(made.stdout.split()[-1])
    try:
        assert sysv.shm_stat(shmid).cpid not in (0, os.getpid())  # its creator, ipctop, has exited
        assert leaks_for(key) == {}
        assert leaks_for(key, older_than=0)["shm", shmid].removable  # only the grace period holds it
    finally:
        sysv.shm_remove(shmid)


def test_semaphore_set_in_use_is_kept(ipc_key, holders):
    alive_key, waited_key = ipc_key(), ipc_key()
    alive = set_left_behind(alive_key, values=(0,))
    waited = set_left_behind(waited_key, values=(0, 0))
    try:
        in_exited_child(lambda: sysv.semop(alive, 0, 1))
        sysv.semop(alive, 0, -1)  # this live process is now the last user
        in_exited_child(lambda: sysv.semop(waited, 0, 1))  # last user exited, but...
        holders.spawn("sem-wait", waited, 1, -1)  # ...a process waits on it
        wait_until(lambda: sysv.sem_get(waited, 1, sysv.GETNCNT) == 1)
        found = leaks_for(alive_key, waited_key, older_than=0)
        # reported only; the waited one not at all
        assert set(found) == {("sem", alive)} and not found["sem", alive].removable
    finally:
        sysv.sem_remove(alive)
        sysv.sem_remove(waited)


def test_filters_by_type_user_key_and_age(ipc_key):
    shm_key, sem_key = ipc_key(), ipc_key()
    shmid, _ = create_segment_and_exit(shm_key)
    semid = set_left_behind(sem_key, values=(0,))
    try:
        in_exited_child(lambda: sysv.semop(semid, 0, 1))
        assert set(leaks_for(shm_key, sem_key, older_than=0)) == {("shm", shmid), ("sem", semid)}
        assert set(leaks_for(shm_key, sem_key, types=frozenset({"sem"}), older_than=0)) == {("sem", semid)}
        assert set(leaks_for(shm_key, older_than=0)) == {("shm", shmid)}
        assert leaks_for(shm_key, sem_key, uid=65534, older_than=0) == {}
        assert set(leaks_for(shm_key, sem_key, uid=0, older_than=0)) == {("shm", shmid)}
        assert set(leaks_for(shm_key, sem_key, uid=suite_uid(), older_than=0)) == {("sem", semid)}
        assert leaks_for(shm_key, sem_key, older_than=3600) == {}
    finally:
        sysv.shm_remove(shmid)
        sysv.sem_remove(semid)
