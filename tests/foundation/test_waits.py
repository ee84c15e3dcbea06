"""Who waits on what, from the system calls of real processes blocked on real objects."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from ipctop.cli.main import main
from ipctop.kernel import sysv
from ipctop.model import SemSet, Snapshot, Wait
from ipctop.pipelines import pipe_state
from ipctop.query import filter_snapshot
from ipctop.render.jsonout import snapshot_to_dict
from ipctop.render.tables import fifo_table, msg_table
from ipctop.render.waits import wait_words
from ipctop.snapshot import Scanner, take_snapshot
from tests.support.holders import process_state, wait_until, wchan
from tests.support.shell_children import children_of, comm_of, descendants, execed_children
from tests.support.unprivileged import CAP_SYS_PTRACE, run_as_nobody

DEADLINE = 60  # seconds: a loaded machine can take long to schedule a child into its call


def waits_of(pid: int, snapshot: Snapshot | None = None) -> tuple[Wait, ...]:
    snapshot = snapshot or take_snapshot()
    process = snapshot.processes.get(pid)
    return process.waits if process else ()


def blocked(pid: int) -> tuple[Snapshot, tuple[Wait, ...]] | None:
    """A snapshot in which `pid` is seen blocked, and its waits; None until then."""
    snapshot = take_snapshot()
    waits = waits_of(pid, snapshot)
    return (snapshot, waits) if waits else None


def test_a_receiver_waiting_for_type_99_is_named_on_its_queue(ipc_key, holders):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        receiver = holders.spawn("msg-recv", msqid, 99)
        snapshot, (wait,) = wait_until(lambda: blocked(receiver.pid), DEADLINE)
        assert (wait.pid, wait.tid, wait.call, wait.kind, wait.id, wait.detail, wait.mode, wait.exact) == (
            receiver.pid, receiver.pid, "msgrcv", "msg", msqid, "type 99", "r", True)
        assert snapshot.msg[msqid].waiters == (wait,)
        assert wait_words(snapshot.processes[receiver.pid].waits) == [f"msgrcv on queue {msqid}, type 99"]
        (queue,) = [q for q in snapshot_to_dict(snapshot)["msg"] if q["msqid"] == msqid]
        assert [(w["pid"], w["comm"], w["call"], w["detail"]) for w in queue["waiters"]] == [
            (receiver.pid, wait.comm, "msgrcv", "type 99")]
        assert f"[{receiver.pid}] msgrcv type 99" in msg_table(snapshot)
    finally:
        holders.close()
        sysv.msg_remove(msqid)


def test_a_thread_other_than_the_main_one_blocked_in_msgrcv(ipc_key, holders):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        holder = holders.spawn("msg-recv-thread", msqid, 7)
        snapshot, (wait,) = wait_until(lambda: blocked(holder.pid), DEADLINE)
        assert wait.tid != wait.pid == holder.pid
        assert (wait.call, wait.id, wait.detail) == ("msgrcv", msqid, "type 7")
        assert snapshot.msg[msqid].waiters == (wait,)
        assert wait_words((wait,)) == [f"thread {wait.tid}: msgrcv on queue {msqid}, type 7"]
    finally:
        holders.close()
        sysv.msg_remove(msqid)


def test_a_sender_blocked_on_a_full_queue_is_named_with_its_message_type(ipc_key, holders):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        sysv.msg_set(msqid, qbytes=64)
        sysv.msgsnd(msqid, 1, bytes(60))
        sender = holders.spawn("msg-send", msqid, 42, 32)
        snapshot, (wait,) = wait_until(lambda: blocked(sender.pid), DEADLINE)
        assert (wait.call, wait.id, wait.detail, wait.mode) == ("msgsnd", msqid, "type 42", "w")
        assert snapshot.msg[msqid].waiters == (wait,)
    finally:
        holders.close()
        sysv.msg_remove(msqid)


def test_semop_waiters_are_named_with_the_semaphore_and_operation(ipc_key, holders):
    semid = sysv.semget(ipc_key(), 3, sysv.IPC_CREAT | 0o600)
    try:
        sysv.sem_setall(semid, [1, 1, 0])
        decrement = holders.spawn("sem-wait", semid, 2, -1)
        for_zero = holders.spawn("sem-wait", semid, 0, 0)

        def both_found() -> SemSet | None:
            # the kernel's counts are read a moment before the system calls: wait for both to agree
            sem_set = take_snapshot().sem[semid]
            return sem_set if len(sem_set.waiters) == 2 == sem_set.blocked else None

        sem_set = wait_until(both_found, DEADLINE)
        found = {w.pid: (w.call in ("semop", "semtimedop"), w.detail, w.exact) for w in sem_set.waiters}
        assert found == {decrement.pid: (True, "sem 2 op -1", True), for_zero.pid: (True, "sem 0 op 0", True)}
    finally:
        holders.close()
        sysv.sem_remove(semid)


def test_a_waiter_stopped_by_a_signal_waits_on_nothing(ipc_key, holders):
    # found with `yes | gzip` and gzip stopped: it was named blocked in read on a full pipe.  The stop
    # interrupts the call (the kernel's ncnt leaves the process out); its syscall file still names it.
    # (Continued, a semop fails with EINTR, as msgrcv and msgsnd do: signal(7); a read is made again.)
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | 0o600)
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    scanner = Scanner()
    try:
        waiter = holders.spawn("sem-wait", semid, 0, -1)
        assert wait_until(lambda: [w.pid for w in scanner.scan().sem[semid].waiters] == [waiter.pid], DEADLINE)
        assert wait_until(lambda: [w.call for w in scanner.scan().processes[reader.pid].waits] == ["read"], DEADLINE)
        for pid in (waiter.pid, reader.pid):
            os.kill(pid, signal.SIGSTOP)
            wait_until(lambda pid=pid: process_state(pid) == "T", DEADLINE)
        with open(f"/proc/{waiter.pid}/syscall") as f:
            assert int(f.read().split()[0]) in (65, 220)  # semop or semtimedop on x86-64: still named
        for snapshot in (scanner.scan(), take_snapshot()):
            assert (snapshot.sem[semid].blocked, snapshot.sem[semid].waiters) == (0, ())
            assert snapshot.processes[waiter.pid].waits == snapshot.processes[reader.pid].waits == ()
        os.kill(reader.pid, signal.SIGCONT)  # it makes its read again, and waits again
        assert wait_until(lambda: [w.call for w in scanner.scan().processes[reader.pid].waits] == ["read"], DEADLINE)
    finally:
        holders.close()
        sysv.sem_remove(semid)
        reader.kill()
        reader.wait(timeout=10)
        os.close(write_end)


def test_of_several_pipes_held_the_one_read_is_named(holders):
    pipes = [os.pipe() for _ in range(3)]
    try:
        readers = tuple(r for r, _ in pipes)
        reader = holders.spawn("read-fd", readers[1], pass_fds=readers)
        snapshot, (wait,) = wait_until(lambda: blocked(reader.pid), DEADLINE)
        inodes = [os.fstat(r).st_ino for r in readers]
        assert (wait.call, wait.kind, wait.id, wait.detail) == ("read", "pipe", inodes[1], f"fd {readers[1]}")
        assert snapshot.pipes[inodes[1]].waiters == (wait,)
        assert snapshot.pipes[inodes[0]].waiters == () == snapshot.pipes[inodes[2]].waiters
        state = pipe_state(snapshot.pipes[inodes[1]])
        assert (state.code, state.pid) == ("reader-blocked", reader.pid)
        assert pipe_state(snapshot.pipes[inodes[0]]).code == "idle"
    finally:
        holders.close()
        for r, w in pipes:
            os.close(r)
            os.close(w)


@pytest.mark.parametrize(("how", "calls"), [
    ("poll", {"poll", "ppoll"}),
    ("select", {"select", "pselect6"}),
    ("epoll", {"epoll_wait", "epoll_pwait", "epoll_pwait2"}),
])
def test_poll_select_and_epoll_on_a_pipe(holders, how, calls):
    read_end, write_end = os.pipe()
    try:
        waiter = holders.spawn("wait-readable", how, read_end, pass_fds=(read_end,))
        snapshot, (wait,) = wait_until(lambda: blocked(waiter.pid), DEADLINE)
        inode = os.fstat(read_end).st_ino
        assert wait.call in calls and (wait.kind, wait.id, wait.mode) == ("pipe", inode, "r")
        assert wait.detail.startswith(f"fd {read_end} in")
        assert snapshot.pipes[inode].waiters == (wait,)
        assert pipe_state(snapshot.pipes[inode]).code == "reader-blocked"
    finally:
        holders.close()
        os.close(read_end)
        os.close(write_end)


def test_a_fifo_with_only_a_process_blocked_in_open_is_listed(holders, tmp_path):
    path = tmp_path / "nobody-reads-me"
    os.mkfifo(path, 0o600)
    writer = holders.spawn("fifo-open", path, "w")
    snapshot, (wait,) = wait_until(lambda: blocked(writer.pid), DEADLINE)
    inode = os.stat(path).st_ino
    assert (wait.call in ("open", "openat"), wait.kind, wait.id, wait.mode) == (True, "fifo", inode, "w")
    fifo = snapshot.fifos[inode]
    assert (fifo.path, fifo.ends, fifo.waiters, fifo.fill) == (str(path), (), (wait,), None)
    state = pipe_state(fifo)
    assert (state.code, state.pid) == ("opener-blocked", writer.pid) and "no reader" in state.text
    assert str(path) in fifo_table(snapshot)
    assert wait_words((wait,), snapshot.fifos) == [f"{wait.call} on FIFO {path} (for writing)"]


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_every_make_of_make_j4_waiting_for_a_token_is_a_waiter_on_the_jobserver(tmp_path):
    # four sub-makes of three long jobs each, four job slots: once every slot runs a job, each
    # make either waits for a child (do_wait) or for a jobserver token; which ones wait for a
    # token depends on who took the tokens first
    (tmp_path / "Makefile").write_text("all: a b c d\na b c d:\n\t+@$(MAKE) -s -f sub.mk\n")
    (tmp_path / "sub.mk").write_text("all: x1 x2 x3\nx1 x2 x3:\n\t@sleep 3600\n")
    top = subprocess.Popen(["make", "-s", "-j4"], cwd=tmp_path, start_new_session=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def settled() -> tuple[set[int], tuple[Wait, ...]] | None:
            tree = descendants(top.pid)
            makes = {top.pid, *(pid for pid in tree if comm_of(pid) == "make")}
            if sum(comm_of(pid) == "sleep" for pid in tree) != 4 or len(makes) < 2:
                return None  # not every slot is taken yet
            for_token = {pid for pid in makes if not wchan(pid).startswith(("do_wait", "0"))}
            snapshot = take_snapshot()
            kind, ident = _jobserver(next(pid for pid in makes if pid != top.pid))
            table = snapshot.pipes if kind == "pipe" else snapshot.fifos
            waiters = table[ident].waiters if ident in table else ()
            return (for_token, waiters) if for_token and {w.pid for w in waiters} == for_token else None

        for_token, waiters = wait_until(settled, DEADLINE)
        assert all(w.mode == "r" and w.exact for w in waiters)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(top.pid, signal.SIGKILL)
        top.wait(timeout=30)


def _jobserver(pid: int) -> tuple[str, int]:
    """The jobserver a sub-make was given (MAKEFLAGS): a pipe's read fd, or (make 4.4) a FIFO."""
    with open(f"/proc/{pid}/environ", "rb") as f:
        flags = next(v for v in f.read().split(b"\0") if v.startswith(b"MAKEFLAGS="))
    fifo = re.search(rb"--jobserver-auth=fifo:(\S+)", flags)
    if fifo:
        return "fifo", os.stat(fifo.group(1)).st_ino
    fds = re.search(rb"--jobserver-(?:auth|fds)=(\d+),(\d+)", flags)
    assert fds, flags
    return "pipe", os.stat(f"/proc/{pid}/fd/{int(fds.group(1))}").st_ino


def test_a_filter_hides_rows_and_never_changes_a_diagnosis():
    shell = subprocess.Popen(["sh", "-c", "sleep 100000 | cat"])
    kids: list[int] = []
    try:
        named = execed_children(shell.pid, ("sleep", "cat"), DEADLINE)
        kids = list(named)
        cat = next(pid for pid, comm in named.items() if comm == "cat")
        sleeper = next(pid for pid in kids if pid != cat)
        snapshot, (wait,) = wait_until(lambda: blocked(cat), DEADLINE)
        inode = wait.id
        for watched in (cat, sleeper):
            shown = filter_snapshot(snapshot, pids=frozenset({watched}))
            state = pipe_state(shown.pipes[inode])
            assert (state.code, state.text, state.pid) == ("reader-blocked", "reader blocked (empty)", cat)
    finally:
        for pid in (*kids, *children_of(shell.pid), shell.pid):  # the shell's children even if they never settled
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shell.wait(timeout=10)


def test_a_queue_a_watched_process_waits_on_is_listed_under_pid(ipc_key, holders):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        receiver = holders.spawn("msg-recv", msqid, 5)
        wait_until(lambda: blocked(receiver.pid), DEADLINE)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["list", "--pid", str(receiver.pid), "--json"]) == 0
        listed = json.loads(out.getvalue())
        (queue,) = listed["msg"]
        assert queue["msqid"] == msqid and [w["pid"] for w in queue["waiters"]] == [receiver.pid]
        (process,) = listed["processes"]
        assert [(w["call"], w["id"], w["detail"]) for w in process["waits"]] == [("msgrcv", msqid, "type 5")]
    finally:
        holders.close()
        sysv.msg_remove(msqid)


def test_a_quiet_waiter_is_taken_from_memory_unchanged(ipc_key, holders):
    semid = sysv.semget(ipc_key(), 1, sysv.IPC_CREAT | 0o600)
    try:
        waiter = holders.spawn("sem-wait", semid, 0, -1)
        full, _ = wait_until(lambda: blocked(waiter.pid), DEADLINE)
        scanner = Scanner()
        assert scanner.quiet is not None

        def from_memory() -> Snapshot | None:
            snapshot = scanner.scan()
            return snapshot if scanner.quiet.quiet(waiter.pid) else None  # type: ignore[union-attr]

        remembered = wait_until(from_memory, DEADLINE)
        assert remembered.sem[semid].waiters == full.sem[semid].waiters
        assert remembered.processes[waiter.pid].waits == full.processes[waiter.pid].waits
    finally:
        holders.close()
        sysv.sem_remove(semid)


def _unprivileged_view(pid: int, capabilities: tuple[int, ...]) -> dict:
    def look() -> dict:
        snapshot = take_snapshot()
        waits = [{"call": w.call, "id": w.id, "exact": w.exact} for w in waits_of(pid, snapshot)]
        return {"waits": waits, "unread": pid in snapshot.unread_waits}

    return run_as_nobody(look, capabilities)  # type: ignore[return-value]


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_where_the_system_call_cannot_be_read_wchan_is_a_guess_and_said_to_be(ipc_key, holders):
    msqid = sysv.msgget(ipc_key(), sysv.IPC_CREAT | 0o600)
    try:
        receiver = holders.spawn("msg-recv", msqid, 3)
        wait_until(lambda: blocked(receiver.pid), DEADLINE)
        # CAP_SYS_PTRACE without CAP_DAC_OVERRIDE: wchan may be read, the (mode 0400) syscall file not
        tracer = _unprivileged_view(receiver.pid, (CAP_SYS_PTRACE,))
        assert tracer == {"waits": [{"call": "msgrcv", "id": None, "exact": False}], "unread": False}
        # a plain user reads neither of root's process: no wait is invented, and that is said
        plain = _unprivileged_view(receiver.pid, ())
        assert plain == {"waits": [], "unread": True}
    finally:
        holders.close()
        sysv.msg_remove(msqid)



def test_a_wait_that_ends_while_the_scan_runs_is_not_shown(holders, monkeypatch):
    """A scan reads a process's call (blocked in read) before its stat.  A process woken in between,
    and running when its stat is read, waits no more: it is not shown blocked on the pipe (with state
    R beside the old wait, as a busy PostgreSQL backend was)."""
    from ipctop import snapshot as snapshot_module

    read_fd, write_fd = os.pipe()
    try:
        inode = os.fstat(read_fd).st_ino
        reader = holders.spawn("read-then-spin", read_fd, pass_fds=(read_fd,))
        wait_until(lambda: [w.id for w in waits_of(reader.pid)] == [inode], timeout=DEADLINE)
        real_read = snapshot_module.processes.read_process

        def woken_first(proc, pid, *args):  # type: ignore[no-untyped-def]
            if pid == reader.pid and os.getpid() == test_pid:
                os.write(write_fd, b"x")  # after its call was read, before its stat is
                wait_until(lambda: process_state(reader.pid) == "R", timeout=DEADLINE)
            return real_read(proc, pid, *args)

        test_pid = os.getpid()
        monkeypatch.setattr(snapshot_module, "worth_splitting", lambda *_: False)  # read in this process
        monkeypatch.setattr(snapshot_module.processes, "read_process", woken_first)
        snapshot = take_snapshot()
        assert snapshot.processes[reader.pid].state == "R"
        assert snapshot.processes[reader.pid].waits == ()
        assert snapshot.pipes[inode].waiters == ()
    finally:
        holders.close()
        os.close(read_fd)
        os.close(write_fd)
