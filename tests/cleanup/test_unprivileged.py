"""`ipctop clean` as a user who may not stat or remove root's objects: it reports,
it never crashes, and it removes nothing it may not."""

from __future__ import annotations

import json
import os

import pytest

import ipctop.cleanup.backup  # noqa: F401  (imported before dropping to nobody, who cannot read /root)
import ipctop.cleanup.restore  # noqa: F401
import ipctop.cli.clean_cmd  # noqa: F401
import ipctop.render.escape  # noqa: F401
import ipctop.render.tables  # noqa: F401
import ipctop.snapshot  # noqa: F401
from ipctop.kernel import sysv
from tests.cleanup.helpers import (
    create_segment_and_exit,
    in_exited_child,
    key_args,
    objects_present,
    queue_left_behind,
    run_as_nobody,
)
from tests.cleanup.helpers import run_cli as run_cli_here


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_clean_as_nobody_reports_what_it_cannot_stat_or_remove(ipc_key):
    private_key, readable_key, msg_key, sem_key = ipc_key(), ipc_key(), ipc_key(), ipc_key()
    private, _ = create_segment_and_exit(private_key, mode=0o600)  # nobody may not even IPC_STAT it
    readable, _ = create_segment_and_exit(readable_key, mode=0o644)  # may stat, may not remove
    msqid = queue_left_behind(msg_key, messages=(b"another user's",))  # made by a user now gone
    semid = sysv.semget(sem_key, 1, sysv.IPC_CREAT | 0o600)
    keys = (private_key, readable_key, msg_key, sem_key)
    try:
        in_exited_child(lambda: sysv.semop(semid, 0, 1))

        def clean() -> dict:
            dry = run_cli_here("clean", "--json", "--older-than", "0s", *key_args(*keys))
            yes = run_cli_here("clean", "--yes", "--older-than", "0s", *key_args(*keys))
            return {"dry": dry, "yes": yes}

        seen = run_as_nobody(clean)
        assert "error" not in seen, seen
        code, out, err = seen["dry"]
        assert code == 0, err
        listed = {c["id"]: c for c in json.loads(out)}
        assert {listed[i]["action"] for i in (private, readable, msqid)} == {"remove"}  # the tables are public
        assert not listed[semid]["removable"]
        assert listed[semid]["reason"].startswith("ipctop may not read its semaphores (semctl refused)")

        code, out, err = seen["yes"]
        assert code == 1 and "Traceback" not in out + err
        lines = out.splitlines()
        assert f"kept shm {private} (key {private_key:#010x}): cannot check it again before removing " \
               f"(shmctl(IPC_STAT) on segment {private}: EACCES: its mode does not let you)" in lines
        assert f"kept shm {readable} (key {readable_key:#010x}): shmctl(IPC_RMID) on segment {readable}: EPERM: " \
               "you are neither its owner nor its creator nor privileged" in lines
        assert any(line.startswith(f"kept msg {msqid}") and "EACCES" in line for line in lines)
        assert lines[-1] == "0 removed, 0 skipped (changed or in use since the scan), 3 failed, 1 reported only."
        assert objects_present(set(keys)) == {("shm", private_key), ("shm", readable_key), ("msg", msg_key),
                                              ("sem", sem_key)}
    finally:
        sysv.shm_remove(private)
        sysv.shm_remove(readable)
        sysv.msg_remove(msqid)
        sysv.sem_remove(semid)
