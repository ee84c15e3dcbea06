"""A backup file may come from anyone, and restore often runs as root: every crafted file gets
one sentence (exit 2, no traceback, nothing made), a FIFO never blocks, a file larger than its
object could be is refused, and a backup directory someone else could write in is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipctop.cleanup.backup import Backup, BackupError, read_backup
from ipctop.kernel import sysv
from tests.cleanup.helpers import create_segment_and_exit, key_args, objects_present, run_cli

GOOD_SEM = {"format": "ipctop-backup", "version": 1, "kind": "sem", "id": 1, "key": 0, "mode": "0600", "uid": 0,
            "gid": 0, "cuid": 0, "cgid": 0, "ctime": 0, "taken_at": 0, "nsems": 2, "values": [1, 2]}
GOOD_SHM = {**GOOD_SEM, "kind": "shm", "size": 4, "data": "AAAAAA=="}
GOOD_MSG = {**GOOD_SEM, "kind": "msg", "qbytes": 16384, "messages": [{"type": 1, "data": "aGk="}]}


def as_text(doc: dict) -> str:
    return json.dumps(doc)


def crafted(key: int) -> list[tuple[str, str]]:
    """(file content, what the one sentence says) for backups of `key` crafted to break a restore."""
    sem = {**GOOD_SEM, "key": key}
    head = as_text(sem)[:-1]
    return [
        (head + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests deeper than a backup does"),
        (as_text(sem).replace('"id": 1', '"id": ' + "9" * 4400), "a number is longer than 40 characters"),
        (as_text(sem).replace('"taken_at": 0', '"taken_at": 1e400'), "a number is too large"),
        (as_text(sem).replace('"ctime": 0', '"ctime": 1' + "0" * 400), "a number is longer than 40 characters"),
        (as_text({**sem, "version": True}), "a backup of version True"),
        (as_text({**sem, "values": [True, 1]}), "its values are not 1 or more whole numbers"),
        (as_text({**sem, "values": [1.0, 1]}), "its values are not 1 or more whole numbers"),
        (as_text({**sem, "uid": False}), "the field 'uid' is not a whole number"),
        (as_text({**sem, "key": 1.5}), "the field 'key' is not a whole number"),
        (as_text({**sem, "mode": "0999"}), "the mode '0999' is not a mode"),
        (as_text({**sem, "mode": "٠٦٠٠"}), "is not a mode"),
        (as_text({**sem, "reason": "x" * 100_000}), "a text field is longer than 65536 characters"),
        (as_text(sem)[:-1] + ', "kind": "sem"}', "the field 'kind' appears twice"),
        (as_text(sem) + " []", "something follows it"),
        (as_text(sem)[:-10], "it ends in the middle"),
        (as_text({**GOOD_SHM, "key": key, "data": "AA!A"}), "a data field is not base64"),
        (as_text({**GOOD_SHM, "key": key, "data": "AAAA=AAA"}), "a data field is not base64"),
        (as_text({**GOOD_SHM, "key": key, "size": True}), "the field 'size' is not a whole number"),
        (as_text({**GOOD_MSG, "key": key, "messages": [{"type": True, "data": ""}]}), "a message's type is not"),
        (as_text({**GOOD_MSG, "key": key, "messages": [{"type": 1, "data": "", "x": 1}]}), "a message has a field"),
        (as_text({**GOOD_MSG, "key": key, "qbytes": 1}), "its messages hold 2 bytes, more than the queue's 1"),
        ('\ufeff{"format": 1}', "it is not JSON"),
        ("[1, 2]", "it is not JSON"),
    ]


def test_every_crafted_backup_gets_one_sentence_and_nothing_is_made(ipc_key, tmp_path):
    key = ipc_key()
    path = tmp_path / "crafted.json"
    for content, says in crafted(key):
        path.write_text(content, encoding="utf-8")
        code, out, err = run_cli("restore", str(path))
        assert (code, out) == (2, ""), (says, err)
        assert err.startswith("ipctop: ") and err.count("\n") == 1 and says in err, (says, err)
        assert objects_present({key}) == set()


def test_a_backup_larger_than_its_object_could_be_is_refused_before_it_is_read_through(tmp_path):
    doc = as_text(GOOD_SEM)
    path = tmp_path / "padded.json"
    path.write_text(doc[:-1] + " " * (2 << 20) + "}")
    with pytest.raises(BackupError, match=r"it is larger \(\d+ bytes\) than a backup of the object it describes"):
        read_backup(path)
    segment = {**GOOD_SHM, "size": 3, "data": "A" * (8 << 20)}  # says 3 bytes, carries 6 MiB
    path.write_text(as_text(segment))
    with pytest.raises(BackupError, match="is larger"):
        read_backup(path)


def _ipctop(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """ipctop in a process of its own: a call that blocked would be stopped at `timeout` and fail the test."""
    return subprocess.run([sys.executable, "-m", "ipctop", *argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_restore_and_shm_write_of_a_fifo_answer_at_once(ipc_key, tmp_path):
    fifo = tmp_path / "not-a-file"
    os.mkfifo(fifo)
    result = _ipctop("restore", str(fifo))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"ipctop: cannot read {fifo}: it is not a regular file but a FIFO\n"

    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        result = _ipctop("shm", "write", str(shmid), "--file", str(fifo))
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "is not a regular file but a FIFO" in result.stderr, result.stderr
        assert sysv.shm_stat(shmid).lpid == 0  # nothing was attached or written
    finally:
        sysv.shm_remove(shmid)


def test_a_path_with_a_newline_gets_a_one_line_error(tmp_path):
    path = tmp_path / "two\nlines.json"
    code, out, err = run_cli("restore", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and "two\\nlines.json" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_a_backup_directory_someone_else_could_write_in_is_refused(ipc_key, tmp_path):
    key = ipc_key()
    shmid, _ = create_segment_and_exit(key)
    theirs, shared = tmp_path / "theirs", tmp_path / "shared"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    shared.mkdir()
    shared.chmod(0o777)
    try:
        for folder, says in [(theirs, "belongs to nobody (uid 65534), not to you (uid 0)"),
                             (shared, "may be written by its group or by others (mode 0777)")]:
            code, out, err = run_cli("clean", "--yes", "--older-than", "0s", "--backup", str(folder), *key_args(key))
            assert code == 1 and out == "" and err.count("\n") == 1, err
            assert err.startswith("ipctop: --backup: ") and says in err and ("mkdir -m 700" in err or "chmod go-w"
                                                                             in err)
            assert objects_present({key}) == {("shm", key)}
        shared.chmod(0o700)
        code, out, _ = run_cli("clean", "--yes", "--older-than", "0s", "--backup", str(shared), *key_args(key))
        assert code == 0 and f"removed shm {shmid} " in out
    finally:
        if objects_present({key}):
            sysv.shm_remove(shmid)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from([GOOD_SEM, GOOD_SHM, GOOD_MSG]), name=st.sampled_from(sorted(GOOD_MSG) + ["data"]),
       value=json_values)
def test_any_value_in_any_field_is_a_backup_or_one_sentence(tmp_path, base, name, value):
    path = tmp_path / "any.json"
    path.write_text(json.dumps({**base, name: value}))
    try:
        backup = read_backup(path)
    except BackupError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(backup, Backup) and backup.kind in ("shm", "msg", "sem")
    assert all(type(getattr(backup, field)) is int for field in ("id", "key", "uid", "gid", "cuid", "cgid", "ctime"))
