"""Backups written before removal and restores from them, on real objects."""

from __future__ import annotations

import ctypes
import json
import os
import time
from pathlib import Path

import pytest

from ipctop.cleanup import LeakFilters, find_leaks, gather, remove_candidates
from ipctop.cleanup.backup import Backup, BackupError, capture, put_back, read_backup
from ipctop.cleanup.restore import RestoreError, restore
from ipctop.kernel import sysv
from ipctop.snapshot import take_snapshot
from tests.cleanup.helpers import (
    create_segment_and_exit,
    objects_present,
    queue_left_behind,
    set_left_behind,
)


def leaked(key: int) -> list:
    snapshot = take_snapshot()
    found = find_leaks(snapshot, LeakFilters(keys=frozenset({key}), older_than=0), time.time(),
                       evidence=gather(snapshot))
    assert [c.removable for c in found] == [True], found
    return found


def remove_with_backup(key: int, folder) -> tuple[str, Backup]:
    [result] = remove_candidates(leaked(key), folder)
    assert result.outcome == "removed", result.message
    assert objects_present({key}) == set()
    return result.backup_path, read_backup(result.backup_path)


def test_segment_round_trip_gives_back_key_mode_and_bytes(ipc_key, tmp_path):
    key = ipc_key()
    data = os.urandom(5000)
    shmid, _ = create_segment_and_exit(key, data=data, size=8192, mode=0o640)
    new_id = None
    try:
        path, backup = remove_with_backup(key, tmp_path)
        doc = json.loads(Path(path).read_text())
        assert (doc["kind"], doc["key"], doc["mode"], doc["size"], doc["id"]) == ("shm", key, "0640", 8192, shmid)
        assert b"".join(backup.segment_chunks()) == data + bytes(8192 - 5000)

        new_id = restore(backup).id
        stat = sysv.shm_stat(new_id)
        assert (stat.key, stat.mode & 0o777, stat.size, stat.nattch) == (key, 0o640, 8192, 0)
        address = sysv.shmat(new_id, readonly=True)
        try:
            assert ctypes.string_at(address, 8192) == data + bytes(8192 - 5000)
        finally:
            sysv.shmdt(address)
    finally:
        if new_id is not None:
            sysv.shm_remove(new_id)
        elif objects_present({key}):
            sysv.shm_remove(shmid)


def test_queue_round_trip_gives_back_messages_with_their_types(ipc_key, tmp_path):
    key = ipc_key()
    messages = [(3, b"first"), (1, b"\x00binary\xff"), (3, b""), (70000, b"x" * 3000)]
    msqid = queue_left_behind(key, messages=tuple(messages), mode=0o620)
    new_id = None
    try:
        stat_before = sysv.msg_stat(msqid)
        path, backup = remove_with_backup(key, tmp_path)
        read: list[tuple[int, bytes]] = []
        backup.each_message(lambda t, d: read.append((t, d)))
        assert read == messages and backup.qbytes == stat_before.qbytes
        assert not backup.received  # copied with MSG_COPY: the queue was left as it was until removed
        assert "MSG_COPY" in json.loads(Path(path).read_text())["read_by"]

        new_id = restore(backup).id
        stat = sysv.msg_stat(new_id)
        assert (stat.key, stat.mode & 0o777, stat.qnum, stat.cbytes) == (key, 0o620, 4, stat_before.cbytes)
        assert [sysv.msgrcv(new_id, 0, 8192, nowait=True) for _ in messages] == messages
    finally:
        sysv.msg_remove(new_id if new_id is not None else msqid)


def test_semaphore_round_trip_gives_back_the_values(ipc_key, tmp_path):
    key = ipc_key()
    # read-only: restore must fill it before setting the mode
    semid = set_left_behind(key, values=(7, 0, 32767, 1), mode=0o400)
    new_id = None
    try:
        _, backup = remove_with_backup(key, tmp_path)
        assert backup.values == (7, 0, 32767, 1)
        new_id = restore(backup).id
        stat = sysv.sem_stat(new_id)
        assert (stat.key, stat.mode & 0o777, stat.nsems) == (key, 0o400, 4)
        assert sysv.sem_getall(new_id, 4) == (7, 0, 32767, 1)
    finally:
        sysv.sem_remove(new_id if new_id is not None else semid)


def test_restore_refuses_a_key_in_use_and_changes_nothing(ipc_key, tmp_path):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key, data=b"old")
    try:
        _, backup = remove_with_backup(key, tmp_path)
        shmid = sysv.shmget(key, 4096, sysv.IPC_CREAT | 0o600)  # someone made a new one with the key
        with pytest.raises(RestoreError, match=f"a segment with key {key:#010x} exists \\(id {shmid}\\)"):
            restore(backup)
        assert objects_present({key}) == {("shm", key)} and sysv.shm_stat(shmid).size == 4096
    finally:
        if objects_present({key}):
            sysv.shm_remove(shmid)


def test_a_restore_that_fails_halfway_leaves_nothing(ipc_key):
    key = ipc_key()
    with open("/proc/sys/kernel/msgmax") as f:
        too_long = int(f.read()) + 1
    backup = Backup(kind="msg", id=1, key=key, mode=0o600, uid=0, gid=0, cuid=0, cgid=0, ctime=0, taken_at=0,
                    qbytes=0, messages=((1, b"fits"), (2, b"x" * too_long)))
    with pytest.raises(RestoreError, match="so it was removed again: msgsnd on queue .*EINVAL"):
        restore(backup)
    assert objects_present({key}) == set()


def test_an_object_whose_backup_cannot_be_written_is_kept(ipc_key, tmp_path):
    key = ipc_key()
    msqid = queue_left_behind(key, messages=((5, b"precious"),))
    try:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        [result] = remove_candidates(leaked(key), blocker)
        assert result.outcome == "failed" and result.backup_path is None
        assert result.message.startswith(f"kept msg {msqid} (key {key:#010x}): cannot write a backup of msg {msqid}")
        assert sysv.msgrcv(msqid, 0, 64, nowait=True) == (5, b"precious")  # the message is still there
    finally:
        sysv.msg_remove(msqid)


def test_damaged_backups_are_refused_with_a_sentence(tmp_path):
    good = {"format": "ipctop-backup", "version": 1, "kind": "sem", "id": 1, "key": 5, "mode": "0600", "uid": 0,
            "gid": 0, "cuid": 0, "cgid": 0, "ctime": 0, "taken_at": 0, "nsems": 1, "values": [1]}
    for change, says in [({"values": [40000]}, "its values are not"), ({"kind": "pipe"}, "the kind 'pipe'"),
                         ({"version": 2}, "version 2"), ({"key": -1}, "the field 'key' is not a whole number"),
                         ({"kind": "shm", "size": 4, "data": "AAAA"}, "its data holds 3 bytes, not the 4")]:
        path = tmp_path / "b.json"
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(BackupError, match=says):
            read_backup(path)
    path.write_text(json.dumps(good))
    assert read_backup(path).values == (1,)


def test_without_msg_copy_the_messages_are_received_and_can_be_put_back(ipc_key):
    """Kernels without CONFIG_CHECKPOINT_RESTORE have no MSG_COPY: the backup must
    receive the messages, which empties the queue; if the object is then kept,
    put_back sends them again in their order."""
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)
    messages = [(2, b"one"), (1, b"two"), (2, b"three")]
    try:
        for mtype, data in messages:
            sysv.msgsnd(msqid, mtype, data)
        backup = capture("msg", msqid, copy_messages=False)
        assert backup.received and list(backup.messages) == messages
        assert sysv.msg_stat(msqid).qnum == 0
        assert put_back(msqid, backup.messages) == 0
        assert [sysv.msgrcv(msqid, 0, 64, nowait=True) for _ in messages] == messages
    finally:
        sysv.msg_remove(msqid)
