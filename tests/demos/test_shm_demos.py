"""The shared memory demos, checked against /proc/sysvipc/shm and /proc/PID/maps."""

from __future__ import annotations

import contextlib
import errno
import re

import psutil

from ipctop.demos import DemoRun
from ipctop.demos.syscalls import ftok
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import DEMO_KEYS
from tests.demos.helpers import DemoTraces, assert_nothing_left, maps_sysv, run_demo, stat_field, sysvipc_row


def the_segment(run: DemoRun) -> int:
    (shmid,) = run.current.shm
    return shmid


def test_shm_nattch_goes_0_1_2_1_0_with_an_ftok_key():
    nattch = []

    def record(run: DemoRun) -> None:
        row = sysvipc_row("shm", the_segment(run))
        nattch.append(row["nattch"])

    def both_mapped(run: DemoRun) -> None:
        record(run)
        row = sysvipc_row("shm", the_segment(run))
        name = f"/SYSV{row['key']:08x}"
        assert maps_sysv(run.pid) == [name]
        assert maps_sysv(run.made.pid_of("client")) == [name]

    checks = {slug: record for slug in ("server-attach", "client-attach", "client-detach", "server-detach",
                                        "remove")}
    checks["exchange"] = both_mapped
    done = run_demo("shm", at=checks)
    assert nattch == [0, 1, 2, 2, 1, 0]
    assert done.run.results["nattch"] == "0,1,2,1,0"
    (key,) = done.run.made.keys
    keyfile = next(path for path in done.run.made.paths if path.endswith("shm.key"))
    assert key not in DEMO_KEYS
    assert f"ftok(\"{keyfile}\", '{chr(key >> 24)}') = {key:#010x}" in done.text
    assert "strcpy" in done.text and re.search(r'printf\("%s\\n", \(char \*\) 0x[0-9a-f]+\) = 6   // prints ABCDE',
                                               done.text)  # fmt: skip


def test_shm_ftok_matches_glibc(tmp_path):
    path = tmp_path / "key"
    path.write_text("")
    info = path.stat()
    assert ftok(str(path), 0x41) == ((0x41 << 24) | ((info.st_dev & 0xFF) << 16) | (info.st_ino & 0xFFFF))


def test_shm_perms_mode_000_refuses_and_0666_allows():
    def mode_zero(run: DemoRun) -> None:
        assert sysvipc_row("shm", the_segment(run))["perms"] == 0

    def attached(run: DemoRun) -> None:
        row = sysvipc_row("shm", the_segment(run))
        assert row["perms"] == 0o666 and row["nattch"] == 1
        assert maps_sysv(run.made.pid_of("client")) == [f"/SYSV{row['key']:08x}"]

    done = run_demo("shm-perms", at={"attach-fails": mode_zero, "detach": attached})
    assert done.run.results["attach_errno"] == errno.EACCES
    assert "= -1 EACCES" in done.text


def test_shm_dest_keeps_the_segment_with_key_0_until_the_last_detach():
    rows = {}

    def look(run: DemoRun) -> None:
        rows[run.current_step.slug] = sysvipc_row("shm", next(iter(run.made.shm)))

    done = run_demo("shm-dest", at={"owner-detach": look, "last-detach": look})
    marked, last = rows["owner-detach"], rows["last-detach"]
    assert marked["key"] == 0 and marked["perms"] & 0o1000 and marked["nattch"] == 2
    assert marked["perms"] & 0o777 == 0o600
    assert last["key"] == 0 and last["nattch"] == 1
    assert sysvipc_row("shm", marked["shmid"]) is None
    assert "= -1 ENOENT" in done.text


def test_shm_leak_leaves_its_segment_behind():
    before = DemoTraces.now()
    run = DemoRun("shm-leak", speed=20)
    with run:
        assert run.wait(60)
    (kept,) = run.kept.items()
    (kind, shmid), key = kept
    try:
        assert run.outcome == "finished" and kind == "shm"
        row = sysvipc_row("shm", shmid)
        assert row is not None, "the leaked segment must outlive the demo"
        assert row["key"] == key and key in DEMO_KEYS and row["nattch"] == 0
        assert row["cpid"] == run.made.pid_of("leaker") and not psutil.pid_exists(row["cpid"])
    finally:
        with contextlib.suppress(IpcError):
            sysv.shm_remove(shmid)
    assert sysvipc_row("shm", shmid) is None
    assert_nothing_left(run, before)


def test_shm_fork_inherits_exec_and_exit_drop():
    seen = {}

    def after_fork(run: DemoRun) -> None:
        shmid = the_segment(run)
        seen["fork"] = sysvipc_row("shm", shmid)["nattch"]
        assert len(maps_sysv(run.made.pid_of("child"))) == 1

    def after_exec(run: DemoRun) -> None:
        child = run.made.pid_of("child")
        seen["exec"] = sysvipc_row("shm", the_segment(run))["nattch"]
        assert stat_field(child, 0) != "Z" and maps_sysv(child) == []
        with open(f"/proc/{child}/comm") as f:
            assert f.read().strip() == "sleep"

    def after_exit(run: DemoRun) -> None:
        seen["exit"] = sysvipc_row("shm", the_segment(run))["nattch"]

    run_demo("shm-fork", at={"exec": after_fork, "fork-again": after_exec, "remove": after_exit})
    assert seen == {"fork": 2, "exec": 1, "exit": 1}
