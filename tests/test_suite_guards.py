"""The suite's own guards: against a hanging test (each says where it hung, and none lets a run hang),
against a slow machine hiding what an app showed, and against a killed run leaving things behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import animations, watchdog
from tests.support.holders import wait_until
from tests.support.leaks import existing_ids, remove_object
from tests.support.undertaker import start_time
from tests.tui.helpers import _bounded, fixture_app, notifications, run_async

REPO = Path(__file__).resolve().parent.parent

HANGING_TEST = """
import subprocess, time

def test_hangs_past_its_timeout():
    child = subprocess.Popen(["sleep", "600"])
    with open("child.pid", "w") as f:
        f.write(str(child.pid))
    while True:  # a teardown that swallows pytest-timeout's failure and waits on, as an app's shutdown can
        try:
            time.sleep(100)
        except BaseException:
            pass
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def test_a_test_that_outlives_its_timeout_ends_the_run_saying_where(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(HANGING_TEST)
    (tmp_path / "tmp").mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.support.watchdog",
         "-o", "timeout=1", "--rootdir", str(tmp_path), "test_hang.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), watchdog.GRACE_VARIABLE: "1", "TMPDIR": str(tmp_path / "tmp")},
    )
    assert run.returncode == watchdog.EXIT_STATUS, run.stdout + run.stderr
    assert "test_hang.py::test_hangs_past_its_timeout still runs 2 s after it began" in run.stderr
    assert 'in test_hangs_past_its_timeout' in run.stderr  # the main thread's Python stack
    assert "wchan" in run.stderr and "child " in run.stderr  # and where each waits in the kernel
    assert not os.listdir(tmp_path / "tmp")  # the plugins' temporary directories went too
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < deadline, f"the hanging test's child {child} was left running"
        time.sleep(0.05)


def test_an_async_test_that_hangs_fails_saying_where_it_waited() -> None:
    async def waits_for_ever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(AssertionError) as failure:
        asyncio.run(_bounded(waits_for_ever(), 0.2))
    assert "did not end within 0.2 s" in str(failure.value)
    assert f"{__file__}:" in str(failure.value) and "in waits_for_ever" in str(failure.value)


def test_a_key_press_does_not_wait_for_ever_on_the_animator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(animations, "ANIMATION_SECONDS", 0.3)
    stuck = ("never", "ends")

    @run_async
    async def press_with_an_animation_that_never_ends() -> None:
        app = fixture_app()
        async with app.run_test(size=(80, 24)) as pilot:
            app._animator._scheduled[stuck] = None  # type: ignore[assignment]  # what a lost timer leaves
            app._animator._complete_event.clear()
            try:
                with pytest.warns(animations.AnimationsDidNotEnd, match="never"):
                    await pilot.press("j")
            finally:
                del app._animator._scheduled[stuck]

    press_with_an_animation_that_never_ends()


def test_a_notification_that_has_expired_is_still_seen_by_the_test() -> None:
    @run_async
    async def notify_and_look_too_late() -> None:
        app = fixture_app()
        async with app.run_test(size=(80, 24)) as pilot:
            app.notify("Removed segment 7.", timeout=0.05)
            await pilot.pause(0.3)  # a key press on a loaded machine takes longer than a notification lasts
            assert "Removed segment 7." not in [shown.message for shown in app._notifications]  # Textual's: gone
            assert "Removed segment 7." in notifications(app)

    notify_and_look_too_late()


def test_a_test_with_a_longer_limit_of_its_own_is_left_to_run(tmp_path: Path) -> None:
    # pytest.mark.timeout(600) (the Prometheus tests): the watchdog waits for that limit, not the suite's
    (tmp_path / "test_long.py").write_text(
        "import time, pytest\n\n@pytest.mark.timeout(5)\ndef test_takes_its_time():\n    time.sleep(2)\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.support.watchdog",
         "-o", "timeout=0.5", "--rootdir", str(tmp_path), "test_long.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), watchdog.GRACE_VARIABLE: "0.5"},
    )
    assert run.returncode == 0, run.stdout + run.stderr


KILLED_RUN_CONFTEST = """
import os
from tests.support import undertaker
from tests.support.keys import SUITE_KEYS

def pytest_configure(config):
    run = os.path.join(os.getcwd(), "run")  # as tests/conftest.py makes /tmp/ipctop-tests-...
    os.mkdir(run)
    with open(os.path.join(run, ".owner"), "w") as f:
        f.write(f"{os.getpid()} {undertaker.start_time(os.getpid())}\\n")
    undertaker.start(SUITE_KEYS.slot_index, run)
"""

KILLED_RUN_TEST = """
import json, os, signal, subprocess
from ipctop.kernel import sysv
from tests.support.holders import wait_until
from tests.support.keys import SUITE_KEYS
from tests.support.posix_names import PosixNames
from tests.support.shell_children import children_of
from tests.support.undertaker import start_time

def test_killed_in_the_middle():
    child = subprocess.Popen(["sleep", "600"])
    apart = subprocess.Popen(["sh", "-c", "sleep 600 & wait"], start_new_session=True)  # its own session
    (inner,) = wait_until(lambda: children_of(apart.pid))
    shmid = sysv.shmget(SUITE_KEYS(), 4096, sysv.IPC_CREAT | 0o600)
    name = PosixNames(SUITE_KEYS)()
    open("/dev/shm" + name, "w").close()
    with open("made.json", "w") as f:
        pids = [child.pid, apart.pid, inner]
        json.dump({"pids": pids, "started": list(map(start_time, pids)), "shmid": shmid, "name": name}, f)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_run_killed_with_sigkill_leaves_no_process_object_or_file(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(KILLED_RUN_CONFTEST)
    (tmp_path / "test_killed.py").write_text(KILLED_RUN_TEST)
    (tmp_path / "tmp").mkdir()  # the killed run's plugins' temporary directories: here, not in /tmp
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "test_killed.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "tmp")},
    )
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    made = json.loads((tmp_path / "made.json").read_text())
    processes = made["pids"]  # a sleeper, and a shell in a session of its own with its own sleeper
    try:
        # gone, a zombie (its reaper may take its time), or its pid another process's by now
        wait_until(lambda: all(_gone(pid) or start_time(pid) != started
                               for pid, started in zip(processes, made["started"], strict=True)))
        wait_until(lambda: not existing_ids("shm", {made["shmid"]}))
        wait_until(lambda: not os.path.exists("/dev/shm" + made["name"]))
        wait_until(lambda: not (tmp_path / "run").exists())
    finally:  # what the undertaker did not end or remove: by pid, and only the very processes the run made
        for pid, started in zip(processes, made["started"], strict=True):
            if start_time(pid) == started:
                os.kill(pid, signal.SIGKILL)
        if existing_ids("shm", {made["shmid"]}):
            remove_object("shm", made["shmid"])
        with contextlib.suppress(FileNotFoundError):
            os.unlink("/dev/shm" + made["name"])
