"""The POSIX leak rules, removal, backup and restore, against real objects and real processes.

The judging runs as pid 1 of a pid namespace of its own (tests/support/mounts.py):
there every process ipctop sees is one the test made and can inspect, so "no
process of its owner that was alive when it was made" is in the test's hands.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time

from ipctop.cleanup import LeakFilters, find_leaks, remove_candidates
from ipctop.cleanup.leaks import CLOCK_SLACK
from ipctop.kernel import posix
from ipctop.snapshot import take_snapshot
from tests.cleanup.helpers import run_as_nobody, run_cli, wait_for_clock
from tests.support.holders import wait_until
from tests.support.mounts import in_own_pid_namespace
from tests.support.scratch import scratch_dir, scratch_file


def _leaks(*names: str, older_than: float | None = None, grace: float | None = 0) -> dict[str, tuple[bool, str]]:
    """What the rules say of the objects named; without a grace period (its own test says what it does)."""
    filters = LeakFilters(names=frozenset(names), older_than=older_than, grace=grace)
    return {c.name: (c.removable, c.reason) for c in find_leaks(take_snapshot(), filters, time.time())}


def _make_all(shm: str, sem: str, queue: str) -> None:
    fd = posix.shm_open(shm, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, 8192)
    os.pwrite(fd, b"kept in the backup", 100)
    os.close(fd)
    posix.sem_close(posix.sem_open(sem, os.O_CREAT | os.O_EXCL, 0o600, 2))
    fd = posix.mq_open(queue, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 5, 64)
    for priority, text in ((1, b"low"), (9, b"high"), (1, b"low again")):
        posix.mq_send(fd, text, priority)
    os.close(fd)


def _unlink_all(shm: str, sem: str, queue: str) -> None:
    for unlink, name in ((posix.shm_unlink, shm), (posix.sem_unlink, sem), (posix.mq_unlink, queue)):
        with contextlib.suppress(Exception):  # gone already is what the test wanted
            unlink(name)


def _drain(queue: str) -> list[list]:
    fd = posix.mq_open(queue, os.O_RDONLY | os.O_NONBLOCK)
    try:
        out = []
        while True:
            try:
                data, priority = posix.mq_receive(fd, 64)
            except Exception:  # noqa: BLE001 - EAGAIN: empty
                return out
            out.append([priority, data.decode()])
    finally:
        os.close(fd)


def test_objects_nobody_holds_with_no_process_of_their_owner_from_then_are_removed_backed_up_and_restored(
        posix_name):
    shm, sem, queue = posix_name(), posix_name(), posix_name()
    backups = scratch_dir("ipctop-test-backups-")
    try:
        _make_all(shm, sem, queue)
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)

        def judge_remove_restore() -> dict:
            found = _leaks(shm, sem, queue)
            names = f"{shm},{sem},{queue}"
            removed = run_cli("clean", "--name", names, "--older-than", "1s", "--yes", "--backup", backups)
            gone = [os.path.exists(posix.shm_path(shm)), os.path.exists(posix.sem_path(sem))]
            restored = [run_cli("restore", entry.path) for entry in sorted(os.scandir(backups), key=lambda e: e.name)]
            return {"found": found, "removed": removed, "gone": gone, "restored": restored}

        seen = in_own_pid_namespace(judge_remove_restore, mqueue=True)
        assert set(seen["found"]) == {shm, sem, queue}
        for removable, reason in seen["found"].values():
            assert removable
            assert reason.startswith("nobody holds it; no process of root alive now was alive when it was made (")
            assert reason.endswith("whatever made it has gone; untouched for " + reason.rsplit(" ", 1)[1])
        code, out, err = seen["removed"]
        assert code == 0, err
        assert f"removed pshm {shm}: nobody holds it" in out and f"removed pmsg {queue}" in out
        assert "3 removed, 0 skipped" in out
        assert seen["gone"] == [False, False]
        assert all(code == 0 for code, _, _ in seen["restored"]), seen["restored"]
        assert any(f"restored psem {sem} from" in out for _, out, _ in seen["restored"])
        # what was made again outside the namespace is what was there
        assert posix.read_noatime(posix.shm_path(shm), 18, 100) == b"kept in the backup"
        assert os.stat(posix.shm_path(shm)).st_size == 8192 and os.stat(posix.shm_path(shm)).st_mode & 0o777 == 0o600
        address = posix.sem_open(sem, 0)
        try:
            assert posix.sem_getvalue(address) == 2
        finally:
            posix.sem_close(address)
        assert _drain(queue) == [[9, "high"], [1, "low"], [1, "low again"]]
    finally:
        _unlink_all(shm, sem, queue)
        shutil.rmtree(backups)


def test_kept_while_a_process_of_its_owner_from_then_lives_and_reported_once_old(posix_name):
    name = posix_name()

    def judge() -> dict:
        sleeper = subprocess.Popen(["sleep", "1000"])
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)  # its start is well before the object's birth
        os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
        result = {"plain": _leaks(name), "old": _leaks(name, older_than=0), "sleeper": sleeper.pid}
        sleeper.kill()
        sleeper.wait()
        result["after"] = _leaks(name)
        return result

    try:
        seen = in_own_pid_namespace(judge)
        assert seen["plain"] == {}
        [(removable, reason)] = seen["old"].values()
        assert not removable
        assert f"process sleep[{seen['sleeper']}] of root was alive when it was made" in reason
        assert reason.startswith("nobody holds it, but ")
        [(removable, _)] = seen["after"].values()  # the process is gone: nothing can come back for it
        assert removable
    finally:
        posix.shm_unlink(name)


def test_python_and_postgresql_objects_are_judged_by_their_programs(posix_name):
    python_shm, python_sem, pg_shm = posix_name("psm_"), posix_name("mp-"), posix_name("PostgreSQL.")
    directory = scratch_dir("ipctop-test-postgres-")
    postgres = os.path.join(directory, "postgres")
    os.symlink(shutil.which("sleep"), postgres)  # a process named postgres (its comm is the link's name)

    def judge() -> dict:
        sleeper = subprocess.Popen(["sleep", "1000"])  # of root, but neither Python nor postgres
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
        os.close(posix.shm_open(python_shm, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        posix.sem_close(posix.sem_open(python_sem, os.O_CREAT | os.O_EXCL, 0o600, 1))
        os.close(posix.shm_open(pg_shm, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
        without = _leaks(python_shm, python_sem, pg_shm)
        sleeper.kill()
        sleeper.wait()
        python = subprocess.Popen(["python3", "-c", "import time; time.sleep(1000)"])
        server = subprocess.Popen([postgres, "1000"])
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
        for name in (python_shm, pg_shm):
            posix.shm_unlink(name)
            os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # made anew, after them
        posix.sem_unlink(python_sem)
        posix.sem_close(posix.sem_open(python_sem, os.O_CREAT | os.O_EXCL, 0o600, 1))
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
        with_programs = _leaks(python_shm, python_sem, pg_shm, older_than=0)
        for process in (python, server):
            process.kill()
            process.wait()
        return {"without": without, "with": with_programs, "python": python.pid, "server": server.pid}

    try:
        seen = in_own_pid_namespace(judge)
        assert all(removable for removable, _ in seen["without"].values()) and len(seen["without"]) == 3
        assert "no Python process of root alive now" in seen["without"][python_shm][1]
        assert "left by Python's multiprocessing after its process died" in seen["without"][python_sem][1]
        assert "no postmaster alive for it" in seen["without"][pg_shm][1]
        assert not any(removable for removable, _ in seen["with"].values()) and len(seen["with"]) == 3
        assert f"Python process python3[{seen['python']}]" in seen["with"][python_shm][1]
        assert f"postgres process postgres[{seen['server']}]" in seen["with"][pg_shm][1]
    finally:
        made = ((posix.shm_unlink, python_shm), (posix.sem_unlink, python_sem), (posix.shm_unlink, pg_shm))
        for unlink, name in made:
            with contextlib.suppress(Exception):
                unlink(name)
        shutil.rmtree(directory)


def test_held_and_unlinked_objects_are_never_candidates(posix_name, holders):
    held, unlinked = posix_name(), posix_name()
    fd = posix.shm_open(held, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, 4096)
    os.close(fd)

    def judge() -> dict:
        from tests.support.holders import Holders

        group = Holders()
        try:
            group.spawn("pshm-hold", held, 4096)
            group.spawn("pshm-hold", unlinked, 4096, "create", "close", "unlink")
            wait_for_clock(time.time() + CLOCK_SLACK + 0.2)
            return {"found": _leaks(held, unlinked, older_than=0),
                    "unlinked": [o.unlinked for o in take_snapshot().pshm.values() if o.name == unlinked]}
        finally:
            group.close()

    try:
        seen = in_own_pid_namespace(judge)
        assert seen == {"found": {}, "unlinked": [True]}
    finally:
        posix.shm_unlink(held)


def test_a_holder_that_comes_after_the_scan_keeps_it(posix_name):
    name = posix_name()
    os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    wait_for_clock(time.time() + CLOCK_SLACK + 0.2)

    def judge() -> dict:
        candidates = find_leaks(take_snapshot(), LeakFilters(names=frozenset({name}), grace=0), time.time())
        holder = os.open(posix.shm_path(name), os.O_RDONLY)  # a program opens it between scan and removal
        try:
            [result] = remove_candidates(candidates)
        finally:
            os.close(holder)
        return {"removable": [c.removable for c in candidates], "outcome": result.outcome,
                "message": result.message, "exists": os.path.exists(posix.shm_path(name))}

    try:
        seen = in_own_pid_namespace(judge)
        assert seen["removable"] == [True]
        assert seen["outcome"] == "skipped" and "a process holds it now (python" in seen["message"]
        assert seen["exists"]
    finally:
        posix.shm_unlink(name)


def test_a_failed_backup_keeps_the_queue_and_gives_its_messages_back(posix_name):
    shm, sem, queue = posix_name(), posix_name(), posix_name()
    not_a_directory = scratch_file("ipctop-test-")
    try:
        _make_all(shm, sem, queue)
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)

        def judge() -> dict:
            candidates = find_leaks(take_snapshot(), LeakFilters(names=frozenset({queue}), grace=0), time.time())
            [result] = remove_candidates(candidates, f"{not_a_directory}/backups")
            return {"outcome": result.outcome, "message": result.message}

        seen = in_own_pid_namespace(judge, mqueue=True)
        assert seen["outcome"] == "failed"
        assert "its 3 messages were sent back to it" in seen["message"]
        assert _drain(queue) == [[9, "high"], [1, "low"], [1, "low again"]]
    finally:
        _unlink_all(shm, sem, queue)
        os.unlink(not_a_directory)


def test_as_an_ordinary_user_objects_a_root_process_could_hold_are_only_reported(posix_name):
    name = posix_name()
    fd = posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchown(fd, 65534, 65534)
    os.close(fd)
    try:
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)

        def judge() -> list:
            return [[c.removable, c.reason] for c in
                    find_leaks(take_snapshot(), LeakFilters(names=frozenset({name}), grace=0), time.time())]

        [[removable, reason]] = run_as_nobody(judge)
        assert not removable
        assert reason.startswith("nobody ipctop could inspect holds it, but ")
        assert "could not be inspected and could hold it" in reason
    finally:
        posix.shm_unlink(name)


def test_dry_run_lists_posix_candidates_by_name(posix_name):
    name = posix_name()
    os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        wait_until(lambda: time.time() > os.stat(posix.shm_path(name)).st_mtime + CLOCK_SLACK + 0.2, timeout=10)
        code, out, _ = in_own_pid_namespace(lambda: run_cli("clean", "--name", name, "--older-than", "1s"))
        assert code == 0
        assert f"pshm  {name}  -    root   rw-------" in out and "remove" in out
        assert "Dry run: nothing was removed. 1 to remove" in out
        assert os.path.exists(posix.shm_path(name))
    finally:
        posix.shm_unlink(name)


def test_an_object_untouched_for_less_than_the_grace_period_is_not_proposed(posix_name):
    name = posix_name()
    os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        wait_for_clock(time.time() + CLOCK_SLACK + 0.2)

        def judge() -> dict:
            return {"default": _leaks(name, grace=None), "none": _leaks(name, grace=0)}

        seen = in_own_pid_namespace(judge)
        assert seen["default"] == {}  # a program may make an object now and open it in a minute
        assert [removable for removable, _ in seen["none"].values()] == [True]
    finally:
        posix.shm_unlink(name)
