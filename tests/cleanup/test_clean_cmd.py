"""`ipctop clean` and `ipctop restore` on the command line, always confined to the
test's own keys with --key (the machine holds other users' and other tests' objects).

`--older-than 0s` (NO_GRACE) lets objects this fresh be judged: without it the grace
period keeps every object used in the last minutes out of the list."""

from __future__ import annotations

import ctypes
import json
import os

from ipctop.kernel import sysv
from tests.cleanup.helpers import (
    create_segment_and_exit,
    in_exited_child,
    key_args,
    objects_present,
    queue_left_behind,
    run_cli,
    set_left_behind,
)
from tests.support.holders import wait_until, wchan

NO_GRACE = ("--older-than", "0s")


def make_a_mixed_machine(ipc_key, holders) -> tuple[dict[str, int], dict[str, int]]:
    """Objects of every sort, each with its own key: ({name: key}, {name: id})."""
    keys = {name: ipc_key() for name in (
        "shm_creator_exited", "shm_attached", "shm_creator_alive", "shm_marked_held",
        "msg_sender_exited", "msg_receiver_blocked", "sem_user_exited", "sem_user_alive",
    )}
    ids = {}
    ids["shm_creator_exited"], _ = create_segment_and_exit(keys["shm_creator_exited"])
    ids["shm_attached"], _ = create_segment_and_exit(keys["shm_attached"])
    holders.spawn("shm-attach", ids["shm_attached"])
    ids["shm_creator_alive"] = sysv.shmget(keys["shm_creator_alive"], 4096, sysv.IPC_CREAT | 0o600)
    ids["shm_marked_held"], _ = create_segment_and_exit(keys["shm_marked_held"])
    holders.spawn("shm-attach", ids["shm_marked_held"])
    sysv.shm_remove(ids["shm_marked_held"])
    for name in ("msg_sender_exited", "msg_receiver_blocked"):
        ids[name] = queue_left_behind(keys[name], messages=(b"x",))  # made by a user now gone
    holders.spawn("msg-recv", ids["msg_receiver_blocked"], 9)
    wait_until(lambda: "msg" in wchan(holders.children[-1].pid))
    for name in ("sem_user_exited", "sem_user_alive"):
        semid = ids[name] = set_left_behind(keys[name], values=(0,))
        in_exited_child(lambda semid=semid: sysv.semop(semid, 0, 1))
    sysv.semop(ids["sem_user_alive"], 0, 1)
    return keys, ids


def remove_what_is_left(keys: dict[str, int], ids: dict[str, int], holders) -> None:
    holders.close()  # first, so that the blocked receiver does not see its queue go
    for name, ident in ids.items():
        if (name[:3], keys[name]) in objects_present(set(keys.values())):
            {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[name[:3]](ident)


CANDIDATES = {"shm_creator_exited", "msg_sender_exited", "sem_user_exited"}
REPORTED = {"shm_marked_held", "shm_creator_alive", "sem_user_alive"}  # with no grace, idle objects are reported


def test_dry_run_lists_candidates_with_reasons_and_removes_nothing(ipc_key, holders):
    keys, ids = make_a_mixed_machine(ipc_key, holders)
    try:
        before = objects_present(set(keys.values()))
        code, out, _ = run_cli("clean", *key_args(*keys.values()))
        assert code == 0
        assert "Objects used in the last 10m00s are not proposed (the grace period" in out
        assert all(f" {ids[name]} " not in out for name in CANDIDATES)  # the grace period: all are fresh
        code, out, _ = run_cli("clean", *NO_GRACE, *key_args(*keys.values()))
        assert code == 0
        assert objects_present(set(keys.values())) == before
        # by kind and id: a segment, a queue and a set may have the same id (each kind counts its own)
        rows = {(line.split()[0], int(line.split()[1])): line for line in out.splitlines()[1:]
                if line.split()[:1] in (["shm"], ["msg"], ["sem"])}

        def row(name: str) -> str:
            return rows[(name.split("_")[0], ids[name])]

        assert set(rows) == {(n.split("_")[0], ids[n]) for n in CANDIDATES | REPORTED}
        for name in CANDIDATES:
            assert " remove " in row(name) and "has exited" in row(name)
        for name in REPORTED:
            assert " report " in row(name)
        assert "kept alive by python" in row("shm_marked_held")
        assert "creator gone: no live process of uid" in row("msg_sender_exited")
        assert "Dry run: nothing was removed. 3 to remove, 3 reported only" in out
    finally:
        remove_what_is_left(keys, ids, holders)


def test_yes_removes_exactly_the_candidates_and_prints_each(ipc_key, holders):
    keys, ids = make_a_mixed_machine(ipc_key, holders)
    try:
        code, out, err = run_cli("clean", "--yes", *NO_GRACE, *key_args(*keys.values()))
        assert code == 0
        # Where some process may not be inspected (a sandbox's init), a note says so on stderr.
        assert err == "" or (err.startswith("ipctop: note: ") and err.count("\n") == 1), err
        left = {name for name in keys if (name[:3], keys[name]) in objects_present(set(keys.values()))}
        # the marked segment's key reads 0 in the table now, so it is not found by key: check it by id
        assert left == set(keys) - CANDIDATES - {"shm_marked_held"}
        with open("/proc/sysvipc/shm") as table:
            assert ids["shm_marked_held"] in {int(line.split()[1]) for line in table.readlines()[1:]}
        for name in CANDIDATES:
            assert f"removed {name[:3]} {ids[name]} (key {keys[name]:#010x}):" in out
        assert f"kept shm {ids['shm_marked_held']}" in out
        summary = "3 removed, 0 skipped (changed or in use since the scan), 0 failed, 3 reported only."
        assert out.rstrip().endswith(summary)
    finally:
        remove_what_is_left(keys, ids, holders)


def test_json_lists_candidates_then_removals(ipc_key):
    key = ipc_key()
    shmid, creator = create_segment_and_exit(key)
    try:
        code, out, _ = run_cli("clean", "--json", *NO_GRACE, *key_args(key))
        [candidate] = json.loads(out)
        assert code == 0 and candidate["id"] == shmid and candidate["action"] == "remove"
        assert candidate["key_hex"] == f"{key:#010x}" and candidate["users"] == [creator, 0]
        code, out, _ = run_cli("clean", "--json", "--yes", *NO_GRACE, *key_args(key))
        [removal] = json.loads(out)
        assert code == 0 and removal["outcome"] == "removed" and removal["id"] == shmid
        assert removal["message"].startswith(f"removed shm {shmid}") and removal["backup_path"] is None
        assert objects_present({key}) == set()
    finally:
        if objects_present({key}):
            sysv.shm_remove(shmid)


def test_bad_input_is_one_sentence_and_exit_2():
    for args, start in [
        (["--older-than", "5x"], "ipctop: --older-than: '5x' is not a duration"),
        (["--older-than=-3d"], "ipctop: --older-than: '-3d' is not a duration"),
        (["--key", "0xZZ"], "ipctop: --key: '0xZZ' is not a key"),
        (["--key", "0x1ffffffff"], "ipctop: --key: '0x1ffffffff' is not a key"),
        (["--type", "pipe"], "ipctop: --type: unknown type pipe"),
        (["--user", "no-such-user-here"], "ipctop: --user: no user is named"),
    ]:
        code, out, err = run_cli("clean", *args, "--key", "0x49500000")
        assert (code, out) == (2, ""), args
        assert err.startswith(start) and err.count("\n") == 1, err


def test_readonly_refuses_yes_and_removes_nothing(ipc_key):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    try:
        for argv in (["--readonly", "clean", "--yes"], ["clean", "--readonly", "--yes"]):
            code, _, err = run_cli(*argv, *key_args(key))
            assert code == 2 and err == "ipctop: clean --yes changes the system and --readonly is set\n"
        assert objects_present({key}) == {("shm", key)}
        assert run_cli("--readonly", "clean", *key_args(key))[0] == 0  # a dry run changes nothing
    finally:
        sysv.shm_remove(shmid)


def test_backup_dir_that_cannot_be_made_removes_nothing(ipc_key, tmp_path):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    try:
        code, out, err = run_cli("clean", "--yes", "--backup", str(blocker / "sub"), *key_args(key))
        assert code == 1 and out == "" and err.startswith("ipctop: --backup: cannot use")
        assert objects_present({key}) == {("shm", key)}
    finally:
        sysv.shm_remove(shmid)


def test_backup_then_restore_from_the_command_line(ipc_key, tmp_path):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key, data=b"state of a crashed program", mode=0o640)
    restored = None
    try:
        code, out, _ = run_cli("clean", "--yes", "--backup", str(tmp_path), *NO_GRACE, *key_args(key))
        assert code == 0 and objects_present({key}) == set()
        [path] = tmp_path.glob("shm-*.json")
        assert f"backup in {path}" in out
        assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(tmp_path).st_mode & 0o077 == 0

        code, out, _ = run_cli("restore", str(path))
        assert code == 0 and out.startswith(f"restored shm key {key:#010x} from {path} as id ")
        restored = int(out.split()[-1])
        assert sysv.shm_stat(restored).key == key

        code, out, err = run_cli("restore", str(path))  # the key exists now
        assert code == 1 and out == ""
        assert err == f"ipctop: {path}: a segment with key {key:#010x} exists (id {restored}); restore never " \
                      "replaces an object, so remove that one first if it is the one to replace, or restore " \
                      "under another key\n"
        assert run_cli("--readonly", "restore", str(path))[0] == 2
    finally:
        sysv.shm_remove(restored if restored is not None else shmid)


def test_restore_under_another_key_when_the_saved_one_is_taken(ipc_key, tmp_path):
    key, other = ipc_key(), ipc_key()
    shmid, _ = create_segment_and_exit(key, data=b"state of a crashed program", mode=0o640)
    taken = restored = None
    try:
        assert run_cli("clean", "--yes", "--backup", str(tmp_path), *NO_GRACE, *key_args(key))[0] == 0
        [path] = tmp_path.glob("shm-*.json")
        taken = sysv.shmget(key, 64, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)  # a new program took the key

        for argv, says in [
            (["--key", "0"], "--key: 0 is IPC_PRIVATE, not a key; ask for a private object instead"),
            (["--key", "0x1_0000_0000"], "--key: '0x1_0000_0000' is not a key in hex (0x1234) or decimal"),
            (["--key", "0x100000000"], "--key: '0x100000000' does not fit in 32 bits (0x1..0xffffffff)"),
            ([str(path), "--key", hex(other)], "--key: one key cannot serve several objects; restore one FILE "
                                               "with --key at a time"),
        ]:  # fmt: skip
            code, out, err = run_cli("restore", str(path), *argv)
            assert (code, out, err) == (2, "", f"ipctop: {says}\n"), argv
        assert objects_present({other}) == set()
        assert run_cli("--readonly", "restore", str(path), "--key", hex(other))[0] == 2

        code, out, err = run_cli("restore", str(path), "--key", hex(other))
        assert (code, err) == (0, "")
        assert out.startswith(f"restored shm key {other:#010x} (saved with key {key:#010x}) from {path} as id ")
        restored = int(out.split()[-1])
        stat = sysv.shm_stat(restored)
        assert (stat.key, stat.mode & 0o777, stat.size) == (other, 0o640, 4096)
        address = sysv.shmat(restored, readonly=True)
        try:
            assert ctypes.string_at(address, 26) == b"state of a crashed program"
        finally:
            sysv.shmdt(address)
        assert sysv.shm_stat(taken).size == 64  # the one that has the saved key is untouched
    finally:
        for ident in (taken, restored):
            if ident is not None:
                sysv.shm_remove(ident)
        if taken is None and objects_present({key}):
            sysv.shm_remove(shmid)


def test_restore_of_a_file_that_is_not_a_backup(tmp_path):
    for content, says in [("not json", "it is not JSON"), ('{"a": 1}', 'it has no "format"'),
                          ('{"format": "ipctop-backup", "version": 1, "kind": "shm"}', "the field 'mode' is missing")]:
        path = tmp_path / "file.json"
        path.write_text(content)
        code, out, err = run_cli("restore", str(path))
        assert (code, out) == (2, "") and says in err and err.count("\n") == 1, err
    code, _, err = run_cli("restore", str(tmp_path / "missing.json"))
    assert code == 2 and "No such file or directory" in err
