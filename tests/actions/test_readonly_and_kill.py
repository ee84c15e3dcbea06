"""--readonly refuses every command that changes anything (exit 2, nothing done), and
`ipctop kill` signals one process by pid, never init, itself or its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ipctop.kernel import sysv
from tests.actions.helpers import ipctop
from tests.support.holders import wait_until
from tests.support.keys import keys_in_use


@pytest.fixture
def objects(ipc_key):
    shmid = sysv.shmget(ipc_key(), 64, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    sysv.msgsnd(msqid, 1, b"keep me")
    yield shmid, msqid, semid
    sysv.shm_remove(shmid)
    sysv.msg_remove(msqid)
    sysv.sem_remove(semid)


def mutating_commands(shmid: int, msqid: int, semid: int, pid: int, key: int) -> list[list[object]]:
    return [
        ["shm", "create", "--key", hex(key), "--size", "64"],
        ["shm", "rm", shmid],
        ["shm", "chmod", shmid, "666"],
        ["shm", "chown", shmid, "nobody"],
        ["shm", "write", shmid, "changed"],
        ["shm", "hold", shmid],
        ["msg", "create", "--key", hex(key)],
        ["msg", "send", msqid, "more"],
        ["msg", "recv", msqid, "--nowait"],
        ["msg", "rm", msqid],
        ["sem", "create", "--key", hex(key), "--values", "1"],
        ["sem", "set", semid, 0, 5],
        ["sem", "op", semid, 0, "1", "--nowait"],
        ["sem", "rm", semid],
        ["kill", pid],
    ]


def test_readonly_refuses_every_mutating_command_before_or_after_the_subcommand(objects, ipc_key, holders):
    shmid, msqid, semid = objects
    child = holders.spawn("hold")
    key = ipc_key()
    for argv in mutating_commands(shmid, msqid, semid, child.pid, key):
        for placed in (["--readonly", *argv], [*argv[:2], "--readonly", *argv[2:]] if argv[0] != "kill" else
                       [argv[0], "--readonly", *argv[1:]]):
            if argv[:2] == ["shm", "hold"] and placed[0] != "--readonly":
                placed = [argv[0], "--readonly", *argv[1:]]  # after `hold`, --readonly means SHM_RDONLY
            result = ipctop(*placed)
            assert result.code == 2, (placed, result)
            assert len(result.error_lines) == 1 and "--readonly is set" in result.err, (placed, result.err)
    assert key not in keys_in_use()
    assert sysv.shm_stat(shmid).mode & 0o777 == 0o600 and sysv.shm_stat(shmid).uid == 0
    unmapped = ipctop("shm", "read", shmid, "--raw", "--readonly")  # it would have to attach: refused
    assert unmapped.code == 2 and "--readonly is set" in unmapped.err and len(unmapped.error_lines) == 1
    mapper = holders.spawn("shm-attach", shmid)
    before = sysv.shm_stat(shmid)
    assert ipctop("shm", "read", shmid, "--raw", "--readonly").raw == bytes(64)  # through its mapping
    assert sysv.shm_stat(shmid) == before  # which changed nothing
    holders.end(mapper)
    assert sysv.msg_stat(msqid).qnum == 1
    assert sysv.sem_getall(semid, 1) == (0,)
    assert child.popen.poll() is None


def test_kill_sends_term_by_default_and_a_named_signal(holders):
    first = holders.spawn("hold")
    assert ipctop("kill", first.pid).code == 0
    assert first.popen.wait(timeout=10) == 0  # the holder exits 0 on SIGTERM
    second = holders.spawn("hold")
    assert ipctop("kill", second.pid, "--signal", "sigusr1").code == 0
    assert second.popen.wait(timeout=10) == -signal.SIGUSR1


def test_kill_of_a_stopped_process_says_the_signal_waits(holders):
    # a stopped process acts on no signal but KILL and CONT until continued: TERM "worked" and did nothing
    child = holders.spawn("hold")
    os.kill(child.pid, signal.SIGSTOP)
    wait_until(lambda: _state(child.pid) == "T")
    sent = ipctop("kill", child.pid)
    assert sent.code == 0
    assert sent.err == (f"ipctop kill: process {child.pid} is stopped: SIGTERM waits until it is continued "
                        "(SIGCONT); SIGKILL would end it at once.\n")
    assert _state(child.pid) == "T"  # still there: the TERM waits
    assert ipctop("kill", child.pid, "--signal", "CONT").err == ""
    assert child.popen.wait(timeout=10) == 0  # continued, it took the TERM (the holder exits 0 on it)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


def test_kill_checks_pid_and_signal_first(holders):
    child = holders.spawn("hold")
    for argv, message in [
        ([child.pid, "--signal", "NOPE"], "--signal: 'NOPE' is not a signal name"),
        ([child.pid, "--signal", "0"], "--signal: '0' is outside 1..64"),
        (["-5"], "PID: '-5' is outside 1..4194304"),  # a pid, never a process group
        (["abc"], "PID: 'abc' is not a process id"),
        (["4194305"], "PID: '4194305' is outside 1..4194304"),
    ]:
        result = ipctop("kill", *argv)
        assert result.code == 2 and message in result.err, (argv, result.err)
    assert child.popen.poll() is None
    holders.end(child)
    gone = ipctop("kill", child.pid)
    assert gone.code == 2 and gone.error_lines == [f"ipctop: PID: no process has pid {child.pid}"]


def test_kill_refuses_init_itself_and_its_parent():
    # CONT: were one of them signalled after all, it would do no harm, and the exit code would show it.
    cases = [
        (1, "1 is init, the first process, which ipctop never signals"),
        (os.getpid(), f"{os.getpid()} is this ipctop itself, which ipctop never signals"),  # in-process: ipctop is us
        (os.getppid(), f"{os.getppid()} is ipctop's parent (the shell or program that started it), which ipctop "
                       "never signals"),
    ]  # fmt: skip
    if os.getppid() == 1:  # in a pid namespace of its own the suite's parent is that namespace's init
        cases.pop()
    for pid, problem in cases:
        result = ipctop("kill", pid, "--signal", "CONT")
        assert result.code == 2 and result.error_lines == [f"ipctop: PID: {problem}"], (pid, result.err)


def test_kill_as_a_process_refuses_the_process_that_started_it():
    command = [sys.executable, "-m", "ipctop", "kill", str(os.getpid()), "--signal", "CONT"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"ipctop: PID: {os.getpid()} is ipctop's parent (the shell or program that started it), " \
                          "which ipctop never signals\n"  # fmt: skip
