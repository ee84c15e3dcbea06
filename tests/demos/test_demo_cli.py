"""`ipctop demo` on the command line: the list, bad input, a run, --step, shm-leak's notice."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys

import pytest

from ipctop.demos import DEMOS, NAMES
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from tests.demos.helpers import DemoTraces, sysvipc_row, temp_dirs


def ipctop(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ipctop", *args], input=stdin, capture_output=True,
                          timeout=60, stdin=None if stdin is not None else subprocess.DEVNULL)


def test_demo_list_names_every_demo_with_its_description():
    result = ipctop("demo", "list")
    assert result.returncode == 0 and result.stderr == b""
    lines = result.stdout.decode().splitlines()
    for info in DEMOS:
        assert any(line.split(None, 1) == [info.name, info.description] for line in lines), info.name
    assert len(NAMES) == 20


@pytest.mark.parametrize("args, complaint", [
    (("demo", "pipes"), "no demo is named 'pipes'; the demos are: pipe, pipe-full"),
    (("demo", "pipe", "--speed", "0"), "--speed: '0' is not a number from 0.1 to 10"),
    (("demo", "pipe", "--speed", "eleven"), "--speed: 'eleven' is not a number"),
    (("demo", "pipe", "--speed", "nan"), "--speed: 'nan' is not a number"),
    (("demo", "pipe", "--speed", "11"), "--speed: '11' is not a number from 0.1 to 10"),
    (("--readonly", "demo", "pipe"), "ipctop demo changes the system and --readonly is set"),
])
def test_bad_input_is_one_sentence_and_exit_2(args, complaint):
    result = ipctop(*args)
    assert result.returncode == 2
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1 and complaint in err and "Traceback" not in err


def test_a_run_prints_each_call_with_its_result_and_a_blocked_one_pending_as_strace_does():
    before = DemoTraces.now()
    for _ in range(3):  # the order of the lines was a race before: 2 runs of 3 printed the write first
        result = ipctop("demo", "pipe-full", "--speed", "10")
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr
        assert re.search(r"^  reader \d+: fcntl\(\d+, F_GETPIPE_SZ\) = 65536$", out, re.MULTILINE)
        # The blocked write is shown pending when it starts, and its result after the read that woke it.
        pending = re.search(r'^  writer (\d+): write\(\d+, "y", 1 <unfinished \.\.\.>$', out, re.MULTILINE)
        assert pending, out
        woke = re.search(r"^  reader \d+: read\(\d+, buf, 4096( <unfinished \.\.\.>|\) = 4096)$",
                         out[out.index("[4/5]"):], re.MULTILINE)  # fmt: skip
        resumed = re.search(rf"^  writer {pending.group(1)}: <\.\.\. write resumed>\) = 1$", out, re.MULTILINE)
        assert woke and resumed, out
        assert pending.start() < out.index("[4/5]") + woke.start() < resumed.start(), out
        assert "[5/5] " in out and "Everything the demo made is gone." in out
    assert temp_dirs() <= before.dirs


def test_step_waits_for_enter_and_goes_on_at_the_end_of_stdin():
    result = ipctop("demo", "sigpipe", "--speed", "10", "--step", stdin=b"\n\n")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert out.count("-- Enter for step") == 3, "two Enters, then the end of stdin lets the rest go"
    assert out.index("-- Enter for step 1/7") < out.index("[1/7]") < out.index("-- Enter for step 2/7")
    assert "[7/7]" in out and "WTERMSIG = 13 (SIGPIPE)" in out


def test_shm_leak_says_what_it_left_and_how_to_remove_it():
    result = ipctop("demo", "shm-leak", "--speed", "10")
    out = result.stdout.decode()
    match = re.search(r"Left behind on purpose: shm (\d+) \(key (0x[0-9a-f]{8})\)", out)
    shmid = int(match.group(1)) if match else None
    try:
        assert result.returncode == 0, result.stderr
        assert match and sysvipc_row("shm", shmid)["key"] == int(match.group(2), 16)
        assert f"ipctop clean --key {match.group(2)} --older-than 0s --yes" in out and f"ipctop shm rm {shmid}" in out
        listed = ipctop("clean", "--key", match.group(2), "--json")
        assert listed.returncode == 0 and str(shmid) not in listed.stdout.decode(), "not within the grace period"
        removed = ipctop("clean", "--key", match.group(2), "--older-than", "0s", "--yes")
        assert removed.returncode == 0 and f"removed shm {shmid} " in removed.stdout.decode(), "the command it gave"
        assert sysvipc_row("shm", shmid) is None
    finally:
        if shmid is not None:
            with contextlib.suppress(IpcError):
                sysv.shm_remove(shmid)
