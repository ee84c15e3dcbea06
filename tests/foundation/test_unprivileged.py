"""As a user who is not root: list what may be seen, report the rest as not inspectable.

The child is forked after the imports and drops to `nobody`: that user cannot read
/root, where this Python lives, so it could not start a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import io
import os

import pytest

from ipctop.cli.main import main
from ipctop.kernel import sysv
from ipctop.snapshot import take_snapshot
from tests.support.unprivileged import run_as_nobody


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_nobody_sees_the_tables_and_is_told_what_it_cannot_inspect(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    semid = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | 0o600)
    read_fd, write_fd = os.pipe()
    try:
        holder = holders.spawn("shm-attach", shmid)
        piper = holders.spawn("hold", pass_fds=(read_fd,))

        def scan() -> dict:
            snapshot = take_snapshot()
            return {
                "shm": {str(k): [len(v.attachers), v.nattch] for k, v in snapshot.shm.items()},
                "sem_values": list(snapshot.sem[semid].values) if semid in snapshot.sem else None,
                "uninspectable": list(snapshot.uninspectable_pids),
                "reasons": sorted({u.reason for u in snapshot.uninspectable}),
                "pipe_pids": sorted({e.pid for p in snapshot.pipes.values() for e in p.ends}),
            }

        seen = run_as_nobody(scan)
        assert "error" not in seen, seen
        assert seen["shm"][str(shmid)] == [0, 1]  # the table is world-readable; the attacher's maps are not
        assert seen["sem_values"] == []  # mode 0600: semctl refused, values left empty
        assert holder.pid in seen["uninspectable"] and piper.pid in seen["uninspectable"]
        assert seen["reasons"] == ["permission denied"]
        assert piper.pid not in seen["pipe_pids"]
    finally:
        os.close(read_fd)
        os.close(write_fd)
        sysv.shm_remove(shmid)
        sysv.sem_remove(semid)


def _kernel_threads() -> list[int]:
    """The kernel threads this /proc lists (none in a pid namespace of its own): kthreadd and its children."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[6]) & 0x00200000:  # PF_KTHREAD
                found.append(int(name))
    return found


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_nobody_is_not_told_that_kernel_threads_went_uninspected(holders):
    # a kernel thread holds no fd, no program's memory, and waits in no call of a program: nobody is
    # refused its fd directory and system call, but there is nothing to inspect (before: 59 of the
    # 77 processes said to be uninspected on an idle machine were kernel threads)
    kernel_threads = _kernel_threads()
    if not kernel_threads:
        pytest.skip("this /proc lists no kernel thread (a pid namespace of its own)")
    holder = holders.spawn("hold")  # root's: nobody is refused it, and is told so

    def scan() -> dict:
        snapshot = take_snapshot()
        return {"uninspectable": list(snapshot.uninspectable_pids), "unread": list(snapshot.unread_waits)}

    seen = run_as_nobody(scan)
    assert "error" not in seen, seen
    assert holder.pid in seen["uninspectable"]
    assert not set(kernel_threads) & set(seen["uninspectable"])
    assert not set(kernel_threads) & set(seen["unread"])


@pytest.mark.unprivileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_list_as_nobody_says_how_many_it_could_not_inspect():
    def listing() -> dict:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["list"])
        return {"code": code, "out": out.getvalue()}

    # `main` imports its subcommands and `list` its renderers when called: here, while root may
    # still read the checkout (a clone in /root is closed to nobody).
    with contextlib.redirect_stdout(io.StringIO()):
        main(["list", "--type", "sem"])
    seen = run_as_nobody(listing)
    assert seen.get("code") == 0, seen
    assert "processes were not inspected (permission denied: pid " in seen["out"]
    assert "Run as root to see what they hold." in seen["out"]


def test_root_denied_nothing_is_not_told_to_run_as_root():
    from ipctop.model import Uninspectable
    from ipctop.render.formatting import uninspected_sentence

    one = uninspected_sentence([Uninspectable(7, "permission denied")], privileged=True)
    assert one == "1 process was not inspected (permission denied: pid 7): what it holds is not shown."
