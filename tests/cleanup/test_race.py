"""The check just before removal: an object replaced or used between the scan and
the removal is left alone, and the result says why."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import time

import pytest

from ipctop import snapshot as snapshot_module
from ipctop.cleanup import LeakFilters, find_leaks, gather, remove_candidates
from ipctop.kernel import sysv
from ipctop.snapshot import take_snapshot
from tests.cleanup.helpers import (
    create_segment_and_exit,
    in_exited_child,
    objects_present,
    queue_left_behind,
    set_left_behind,
)
from tests.support.holders import process_state, wait_until, wchan

CLONE_NEWIPC = 0x08000000


def scan(*keys: int) -> list:
    """The candidates among the test's keys, with no grace period (the objects are seconds old)."""
    snapshot = take_snapshot()
    found = find_leaks(snapshot, LeakFilters(keys=frozenset(keys), older_than=0), time.time(),
                       evidence=gather(snapshot))
    assert found and all(c.removable for c in found), found
    return found


def test_an_object_removed_and_made_again_with_its_key_is_skipped(ipc_key):
    key = ipc_key()
    old_id, _ = create_segment_and_exit(key)
    candidates = scan(key)
    sysv.shm_remove(old_id)
    new_id, _ = create_segment_and_exit(key)  # also leaked, but not the object that was judged
    try:
        [result] = remove_candidates(candidates)
        assert result.outcome == "skipped"
        assert result.message == f"skipped shm {old_id} (key {key:#010x}): it no longer exists (removed since the scan)"
        assert sysv.shm_stat(new_id).key == key
    finally:
        sysv.shm_remove(new_id)


def test_objects_used_since_the_scan_are_skipped(ipc_key, holders):
    shm_key, msg_key, sem_key, held_key = ipc_key(), ipc_key(), ipc_key(), ipc_key()
    shmid, _ = create_segment_and_exit(shm_key)
    held, _ = create_segment_and_exit(held_key)
    msqid = queue_left_behind(msg_key, messages=(b"a",))
    semid = set_left_behind(sem_key, values=(0,))
    try:
        in_exited_child(lambda: sysv.semop(semid, 0, 1))
        candidates = scan(shm_key, msg_key, sem_key, held_key)
        assert len(candidates) == 4
        # Between the scan and the removal, processes use every one of them (and exit again).
        in_exited_child(lambda: sysv.shmdt(sysv.shmat(shmid)))
        in_exited_child(lambda: sysv.msgsnd(msqid, 2, b"b"))
        in_exited_child(lambda: sysv.semop(semid, 0, 1))
        holders.spawn("shm-attach", held)
        # by kind and id: a queue and a set may have the same id (each kind counts its own)
        results = {(r.candidate.kind, r.candidate.id): r for r in remove_candidates(candidates)}
        assert {r.outcome for r in results.values()} == {"skipped"}
        assert "it was used since the scan (lpid, atime, dtime" in results["shm", shmid].message
        assert "it was used since the scan (lspid, stime" in results["msg", msqid].message
        assert "it was used since the scan (" in results["sem", semid].message  # otime, or sempids within a second
        assert results["shm", held].message.endswith("a process attached it since the scan (nattch 1)")
        assert objects_present({shm_key, msg_key, sem_key, held_key}) == {
            ("shm", shm_key), ("msg", msg_key), ("sem", sem_key), ("shm", held_key)}
    finally:
        holders.close()
        sysv.shm_remove(shmid)
        sysv.shm_remove(held)
        sysv.msg_remove(msqid)
        sysv.sem_remove(semid)


def test_a_queue_someone_starts_waiting_on_is_skipped(ipc_key, holders):
    key = ipc_key()
    msqid = queue_left_behind(key, messages=(b"a",))
    try:
        candidates = scan(key)
        receiver = holders.spawn("msg-recv", msqid, 7)
        wait_until(lambda: "msg" in wchan(receiver.pid))
        [result] = remove_candidates(candidates)
        assert result.outcome == "skipped" and result.message.endswith(f"process {receiver.pid} is blocked on it")
        holders.end(receiver)
    finally:
        sysv.msg_remove(msqid)


def test_a_reused_id_naming_a_new_object_is_skipped():
    """Ids are reused.  In a private IPC namespace (so that no other test's objects
    are touched and no other test takes the id), shm_next_id makes a new segment
    with the same key get the very id of the removed one, in the same second."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWIPC) != 0:
                os.write(write_fd, json.dumps({"skip": os.strerror(ctypes.get_errno())}).encode())
                os._exit(0)
            key = 0x49501000
            time.sleep(1 - time.time() % 1)  # start of a second: the new one most likely gets the same ctime
            old_id, old_creator = create_segment_and_exit(key)
            own = frozenset({os.stat("/proc/thread-self/ns/ipc").st_ino})  # not the key in other namespaces
            candidates = find_leaks(take_snapshot(), LeakFilters(keys=frozenset({key}), namespaces=own, older_than=0))
            sysv.shm_remove(old_id)
            with open("/proc/sys/kernel/shm_next_id", "w") as f:
                f.write(str(old_id))
            new_id, new_creator = create_segment_and_exit(key)
            results = remove_candidates(candidates)
            outcome = {"old": [old_id, old_creator], "new": [new_id, new_creator],
                       "same_ctime": sysv.shm_stat(new_id).ctime == candidates[0].ctime,
                       "results": [[r.outcome, r.message] for r in results],
                       "still_there": sysv.shm_stat(new_id).key == key}
            os.write(write_fd, json.dumps(outcome).encode())
        except BaseException as error:  # the parent reports what went wrong
            os.write(write_fd, json.dumps({"error": repr(error)}).encode())
        finally:
            os._exit(0)  # the namespace, and the segment in it, go with this process
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        outcome = json.loads(f.read())
    os.waitpid(pid, 0)
    if "skip" in outcome:
        pytest.skip(f"cannot make an IPC namespace: {outcome['skip']}")
    assert "error" not in outcome, outcome
    (old_id, old_creator), (new_id, new_creator) = outcome["old"], outcome["new"]
    assert new_id == old_id and new_creator != old_creator
    [[status, message]] = outcome["results"]
    assert status == "skipped" and outcome["still_there"]
    expected = "now names another segment" if outcome["same_ctime"] else "changed or replaced since the scan"
    assert expected in message


def test_a_creator_reaped_while_the_scan_runs_is_gone_not_alive(ipc_key, monkeypatch):
    """A scan lists the pids first and reads each one's stat later.  A zombie reaped in between
    (as pid 1 reaps a killed program's orphans, at a time of its own) was once taken for a live
    process whose details were unread, and kept its leaked segment from being proposed."""
    key = ipc_key()
    read_fd, write_fd = os.pipe()
    creator = os.fork()
    if creator == 0:
        try:
            shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
            sysv.shmdt(sysv.shmat(shmid))
            os.write(write_fd, str(shmid).encode())
        finally:
            os._exit(0)  # a zombie until the scan below reaps it
    os.close(write_fd)
    shmid = int(os.read(read_fd, 64) or b"-1")
    os.close(read_fd)
    wait_until(lambda: process_state(creator) == "Z")
    real_read = snapshot_module.processes.read_process

    def reap_first(proc, pid, *args):  # type: ignore[no-untyped-def]
        if pid == creator:
            os.waitpid(creator, 0)  # after the listing, before its stat is read
        return real_read(proc, pid, *args)

    # one reading process (not two), so that the reaping happens in the creator's parent
    monkeypatch.setattr(snapshot_module, "worth_splitting", lambda *_: False)
    monkeypatch.setattr(snapshot_module.processes, "read_process", reap_first)
    try:
        assert shmid >= 0
        snapshot = take_snapshot()
        assert not snapshot.is_alive(creator)
        [candidate] = find_leaks(snapshot, LeakFilters(keys=frozenset({key}), older_than=0), time.time(),
                                 evidence=gather(snapshot))
        assert candidate.removable, candidate.reason
        assert f"creator pid {creator} has exited" in candidate.reason
    finally:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(creator, 0)
        if shmid >= 0:
            sysv.shm_remove(shmid)
