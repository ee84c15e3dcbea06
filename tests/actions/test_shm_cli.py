"""`ipctop shm ...` against real segments: create, write, read back, hold, remove, IPC_SET."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from ipctop.kernel import sysv
from tests.actions.helpers import ipctop, maps_mention, nobody_runs, started, sysvipc_row
from tests.support.holders import wait_until
from tests.support.keys import keys_in_use


def create(key: int, *extra: object) -> int:
    result = ipctop("shm", "create", "--key", hex(key), *extra)
    assert result.code == 0, result.err
    return int(result.out)


def test_create_prints_the_id_of_a_segment_with_that_key_size_and_mode(ipc_key):
    key = ipc_key()
    shmid = create(key, "--size", "8K", "--mode", "0640")
    try:
        stat = sysv.shm_stat(shmid)
        assert (stat.key, stat.size, stat.mode & 0o777) == (key, 8192, 0o640)
        row = sysvipc_row("shm", shmid)
        assert row is not None and int(row["cpid"]) == os.getpid()
    finally:
        sysv.shm_remove(shmid)


def test_create_json_private_and_decimal_key(ipc_key, register_ipc):
    result = ipctop("shm", "create", "--private", "--size", "100", "--json")
    assert result.code == 0, result.err
    created = json.loads(result.out)
    register_ipc("shm", created["id"])
    assert created == {"kind": "shm", "id": created["id"], "key": 0, "created": True}
    sysv.shm_remove(created["id"])

    key = ipc_key()
    result = ipctop("shm", "create", "--key", str(key), "--size", "100", "--mode", "600", "--json")
    created = json.loads(result.out)
    try:
        assert created["key"] == key and sysv.shm_stat(created["id"]).key == key
    finally:
        sysv.shm_remove(created["id"])


def test_create_with_ftok_uses_the_same_key_as_libc(tmp_path, ipc_key):
    import ctypes

    path = tmp_path / "anchor"
    path.write_text("x")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ftok.argtypes = [ctypes.c_char_p, ctypes.c_int]
    expected = libc.ftok(str(path).encode(), ord("A")) & 0xFFFFFFFF
    if expected in keys_in_use():
        pytest.skip("an object with that ftok key exists already")
    ipc_key.handed_out.add(expected)  # so that the leak guard watches it
    result = ipctop("shm", "create", "--ftok", path, "A", "--size", "64", "--json")
    created = json.loads(result.out)
    try:
        assert created["key"] == expected == sysv.shm_stat(created["id"]).key
    finally:
        sysv.shm_remove(created["id"])


def test_existing_key_eexist_with_excl_einval_when_larger_and_reuse_without(ipc_key):
    key = ipc_key()
    shmid = create(key, "--size", "4096")
    try:
        excl = ipctop("shm", "create", "--key", hex(key), "--size", "4096", "--excl")
        assert excl.code == 1
        assert excl.error_lines == [f"ipctop: shmget on key {key:#010x}: EEXIST: a segment with that key exists"]
        larger = ipctop("shm", "create", "--key", hex(key), "--size", "8192")
        assert larger.code == 1 and "EINVAL" in larger.err and "larger than the existing segment" in larger.err
        again = ipctop("shm", "create", "--key", hex(key), "--size", "100")
        assert again.code == 0 and int(again.out) == shmid
        assert "already existed" in again.err
    finally:
        sysv.shm_remove(shmid)


def test_write_then_read_back_as_hex_dump_and_raw(ipc_key):
    shmid = create(ipc_key(), "--size", "64")
    try:
        assert ipctop("shm", "write", shmid, "Hello, world", "--offset", "3").code == 0
        dump = ipctop("shm", "read", shmid, "--length", "20")
        assert dump.code == 0
        assert dump.out.splitlines() == [
            "00000000: 0000 0048 656c 6c6f 2c20 776f 726c 6400  ...Hello, world.",
            "00000010: 0000 0000                                ....",
        ]
        raw = ipctop("shm", "read", shmid, "--raw", "--offset", "3", "--length", "12")
        assert raw.raw == b"Hello, world"
        assert sysv.shm_stat(shmid).nattch == 0  # read and write detach again
    finally:
        sysv.shm_remove(shmid)


def test_write_from_file_and_nothing_written_when_it_does_not_fit_or_cannot_be_read(ipc_key, tmp_path):
    shmid = create(ipc_key(), "--size", "16")
    try:
        source = tmp_path / "data"
        source.write_bytes(bytes(range(200, 216)))
        assert ipctop("shm", "write", shmid, "--file", source).code == 0
        assert ipctop("shm", "read", shmid, "--raw").raw == bytes(range(200, 216))

        too_long = ipctop("shm", "write", shmid, "x" * 10, "--offset", "8")
        assert too_long.code == 2 and "would run past the end of the 16-byte segment" in too_long.err
        missing = ipctop("shm", "write", shmid, "--file", tmp_path / "missing")
        assert missing.code == 2 and "cannot be read: no such file or directory" in missing.err
        directory = ipctop("shm", "write", shmid, "--file", tmp_path)
        assert directory.code == 2 and "--file" in directory.err
        both = ipctop("shm", "write", shmid, "text", "--file", source)
        assert both.code == 2
        assert ipctop("shm", "read", shmid, "--raw").raw == bytes(range(200, 216))  # nothing half-written
    finally:
        sysv.shm_remove(shmid)


def test_hold_attaches_until_sigterm_and_rmid_on_held_segment_marks_it_until_the_holder_exits(ipc_key):
    key = ipc_key()
    shmid = create(key, "--size", "4096")
    try:
        with started("shm", "hold", shmid) as hold:
            line = hold.stdout.readline()
            assert line.startswith(f"holding segment {shmid} rw at 0x"), line + hold.stderr.read()
            assert len(maps_mention(hold.pid, shmid)) == 1
            assert maps_mention(hold.pid, shmid)[0].split()[1] == "rw-s"
            assert sysv.shm_stat(shmid).nattch == 1

            removed = ipctop("shm", "rm", shmid)
            assert removed.code == 0
            assert "marked for removal" in removed.err
            row = sysvipc_row("shm", shmid)
            assert row is not None and int(row["key"]) == 0 and int(row["perms"], 8) & 0o1000  # dest
            listing = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
            assert any(str(shmid) in line and "dest" in line for line in listing.splitlines())

            os.kill(hold.pid, signal.SIGTERM)
            assert hold.wait(timeout=10) == 0
        wait_until(lambda: sysvipc_row("shm", shmid) is None)
    finally:
        if sysvipc_row("shm", shmid) is not None:
            sysv.shm_remove(shmid)


def test_hold_readonly_maps_the_segment_read_only_and_sigint_detaches(ipc_key):
    shmid = create(ipc_key(), "--size", "4096")
    try:
        with started("shm", "hold", shmid, "--readonly") as hold:
            assert hold.stdout.readline().startswith(f"holding segment {shmid} r at")
            assert maps_mention(hold.pid, shmid)[0].split()[1] == "r--s"
            os.kill(hold.pid, signal.SIGINT)
            assert hold.wait(timeout=10) == 0
        assert sysv.shm_stat(shmid).nattch == 0
    finally:
        sysv.shm_remove(shmid)


def test_rm_several_ids_and_by_key_and_enoent(ipc_key):
    first, second, third_key = create(ipc_key(), "--size", "64"), create(ipc_key(), "--size", "64"), ipc_key()
    third = create(third_key, "--size", "64")
    assert ipctop("shm", "rm", first, second).code == 0
    assert sysvipc_row("shm", first) is None and sysvipc_row("shm", second) is None
    assert ipctop("shm", "rm", "--key", hex(third_key)).code == 0
    assert sysvipc_row("shm", third) is None
    missing = ipctop("shm", "rm", "--key", hex(third_key))
    assert missing.code == 1
    assert missing.error_lines == [f"ipctop: shmget on key {third_key:#010x}: ENOENT: no segment has that key"]


def test_rm_with_one_unknown_id_removes_nothing(ipc_key):
    shmid = create(ipc_key(), "--size", "64")
    try:
        result = ipctop("shm", "rm", shmid, "2147483000")
        assert result.code == 2 and result.error_lines == ["ipctop: ID: no segment has id 2147483000"]
        assert sysvipc_row("shm", shmid) is not None
    finally:
        sysv.shm_remove(shmid)


def test_chmod_and_chown(ipc_key):
    shmid = create(ipc_key(), "--size", "64")
    try:
        assert ipctop("shm", "chmod", shmid, "640").code == 0
        assert sysv.shm_stat(shmid).mode & 0o777 == 0o640
        assert ipctop("shm", "chown", shmid, "nobody:65534").code == 0
        stat = sysv.shm_stat(shmid)
        assert (stat.uid, stat.gid) == (65534, 65534)
        assert ipctop("shm", "chown", shmid, ":0").code == 0
        assert sysv.shm_stat(shmid).gid == 0 and sysv.shm_stat(shmid).uid == 65534
        bad = ipctop("shm", "chown", shmid, "no-such-user-here")
        assert bad.code == 2 and "no user is named 'no-such-user-here'" in bad.err
        assert ipctop("shm", "chmod", shmid, "1777").code == 2
        assert sysv.shm_stat(shmid).mode & 0o777 == 0o640
    finally:
        sysv.shm_remove(shmid)


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_nobody_is_refused_with_eacces_and_eperm(ipc_key):
    key = ipc_key()
    shmid = create(key, "--size", "64", "--mode", "600")
    try:
        read = nobody_runs("shm", "read", shmid)
        assert read.code == 1
        assert read.error_lines == [
            f"ipctop: shmctl(IPC_STAT) on segment {shmid}: EACCES: its mode does not let you"
        ]
        reuse = nobody_runs("shm", "create", "--key", hex(key), "--size", "64")
        assert reuse.code == 1
        assert reuse.error_lines == [f"ipctop: shmget on key {key:#010x}: EACCES: its mode does not let you"]
        rm = nobody_runs("shm", "rm", shmid)
        assert rm.code == 1 and "EPERM: you are neither its owner nor its creator nor privileged" in rm.err
        chmod = nobody_runs("shm", "chmod", shmid, "666")
        assert chmod.code == 1 and "EPERM" in chmod.err
        assert sysv.shm_stat(shmid).mode & 0o777 == 0o600
    finally:
        sysv.shm_remove(shmid)


def test_size_and_key_are_checked_before_any_call(ipc_key):
    key = ipc_key()
    for argv, message in [
        (("--key", hex(key), "--size", "0"), "--size: a segment must be at least 1 byte (SHMMIN)"),
        (("--key", hex(key), "--size", str(2**64)), "is larger than shmmax"),
        (("--key", "0x1ffffffff", "--size", "64"), "--key: '0x1ffffffff' does not fit in 32 bits"),
        (("--key", "0", "--size", "64"), "--key: 0 is IPC_PRIVATE"),
        (("--key", hex(key), "--size", "64", "--mode", "0800"), "--mode: '0800' is not an octal mode"),
        (("--ftok", "/no/such/file", "1", "--size", "64"), "--ftok path: '/no/such/file' cannot be used"),
        (("--ftok", "/", "300", "--size", "64"), "--ftok project id: '300' is outside 1..255"),
    ]:
        result = ipctop("shm", "create", *argv)
        assert result.code == 2, (argv, result)
        assert len(result.error_lines) == 1 and message in result.err, (argv, result.err)
