"""However a demo ends — stop() mid-step, a gate that never returns, a callback that
raises, its process killed, Ctrl-C or SIGTERM to `ipctop demo` — nothing is left."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from ipctop.demos import DemoRun
from tests.demos.helpers import DemoTraces, assert_nothing_left, sysvipc, wait_for, wchan


def test_stop_from_another_thread_while_a_process_is_blocked():
    before = DemoTraces.now()
    run = DemoRun("msgq-full", speed=20)
    run.start()
    try:
        wait_for(lambda: "sender" in run.current.pids.values(), what="the sender forked")
        sender = run.made.pid_of("sender")
        wait_for(lambda: wchan(sender) == "do_msgsnd", what="the sender blocked")
        assert run.current.msg
    finally:
        run.stop()
    assert run.wait(10) and run.outcome == "stopped"
    assert_nothing_left(run, before)


def test_stop_while_the_gate_never_returns():
    before = DemoTraces.now()
    release = threading.Event()
    reached = threading.Event()

    def gate() -> None:
        if run.current_step.slug == "client-attach":
            reached.set()
            release.wait(30)

    run = DemoRun("shm", speed=20, step_gate=gate)
    run.start()
    try:
        assert reached.wait(30)
        assert run.current.shm and run.current.paths and len(run.current.pids) == 2
        started = time.monotonic()
        run.stop()
        assert time.monotonic() - started < 10
    finally:
        release.set()
        run.stop()
    assert run.wait(10) and run.outcome == "stopped"
    assert_nothing_left(run, before)


def test_a_callback_that_raises_stops_the_demo_and_is_raised_by_wait():
    before = DemoTraces.now()

    def gate() -> None:
        if run.current_step.slug == "blocked":
            raise LookupError("the test's check failed")

    run = DemoRun("msgq", speed=20, step_gate=gate)
    with pytest.raises(LookupError), run:
        run.wait(30)
    assert run.outcome == "stopped"
    assert_nothing_left(run, before)


@pytest.mark.parametrize("name, step", [("msgq", "type-0"), ("fifo", "read"), ("shm-dest", "owner-detach"),
                                        ("posix-shm", "exchange"), ("posix-mq", "nonblock"), ("posix-sem", "race")])
def test_the_runner_cleans_up_when_the_demo_process_is_killed(name, step):
    """SIGKILL leaves the demo no chance: the runner removes what it was told about."""
    before = DemoTraces.now()

    def gate() -> None:
        if run.current_step.slug == step:
            assert run.current.pids.keys() - {run.pid}, "a child to orphan"
            os.kill(run.pid, signal.SIGKILL)

    run = DemoRun(name, speed=20, step_gate=gate)
    with run:
        assert run.wait(30)
    assert run.outcome == "failed" and "status -9" in run.error
    assert_nothing_left(run, before)


def test_shm_leak_stopped_before_its_end_leaves_nothing():
    before = DemoTraces.now()

    def gate() -> None:
        if run.current_step.slug == "left":
            threading.Thread(target=run.stop).start()

    run = DemoRun("shm-leak", speed=20, step_gate=gate)
    with run:
        assert run.wait(30)
    assert run.outcome == "stopped" and not run.kept
    assert_nothing_left(run, before)


def _read_until(process: subprocess.Popen, pattern: str, timeout: float = 30) -> str:
    """Read the CLI's output until a line matches `pattern`; return all read so far."""
    text = ""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, text):
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {pattern!r} in:\n{text}"
        chunk = os.read(process.stdout.fileno(), 65536).decode()
        assert chunk, f"the demo ended before {pattern!r}:\n{text}"
        text += chunk
    return text


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_ipctop_demo_shm_leaves_nothing(sig, code):
    """The lecturer's Ctrl-C (or a SIGTERM) in the middle of the demo."""
    # SIGINT as a terminal gives it: a suite started in the background (`pytest &`) ignores SIGINT, and
    # an ignored signal stays ignored across exec, so the demo would run to its end
    process = subprocess.Popen([sys.executable, "-m", "ipctop", "demo", "shm", "--speed", "2"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        text = _read_until(process, r"strcpy\(0x[0-9a-f]+, \"AB\"\)")
    except BaseException:
        process.kill()
        process.wait()
        raise
    shmid = int(re.search(r"IPC_CREAT\|IPC_EXCL\|0666\) = (\d+)", text).group(1))
    pids = {int(pid) for pid in re.findall(r"^  \w+ (\d+): ", text, re.MULTILINE)}
    directory = re.search(r'creat\("(/[^"]+)/shm.key"', text).group(1)
    assert len(pids) == 2 and os.path.isdir(directory)
    assert any(row["shmid"] == shmid and row["nattch"] == 2 for row in sysvipc("shm"))
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == code, err
    assert "Stopped." in out.decode() and err == b""
    assert all(row["shmid"] != shmid for row in sysvipc("shm"))
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)
    assert not os.path.exists(directory)
