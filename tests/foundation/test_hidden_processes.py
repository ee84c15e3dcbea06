"""A /proc mounted with `hidepid=invisible` hides other users' processes from a reader who is not root:
they are not refused but absent, so nothing counted them as not inspected and a look said nothing at
all.  The snapshot now says so (`hidden_note`), `ipctop list` prints it and the exporter's
`ipctop_proc_hides{what="processes"}` is 1.  A /proc mounted with `subset=pid` has no System V
tables at all: that is said too, rather than shown as empty tables.  And `ipctop clean` removes
nothing there: a hidden creator read as gone.

Real procfs instances, mounted with the options in a private mount namespace of a forked child (the
machine's /proc is untouched), read by that child as nobody after the imports.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os

import pytest

from ipctop.cli.main import main
from ipctop.exporter.collector import IpcCollector
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.snapshot import Scanner
from ipctop.tui.widgets.summary import summary_markup, uninspectable_notice
from tests.exporter.helpers import exposition, own_namespace, parse, value
from tests.support.forked import answer, answer_of
from tests.support.unprivileged import CAP_SYS_PTRACE, NOBODY, keep_only

CLONE_NEWNS = 0x00020000
PR_SET_KEEPCAPS = 8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
NOGROUP = 65534

pytestmark = [pytest.mark.unprivileged,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a procfs and drop to nobody")]


@pytest.fixture(autouse=True, scope="module")
def _imported() -> None:
    Scanner().scan()  # every module a scan imports lazily, imported here: nobody cannot read this Python's library


def _as_nobody_under(proc_options: str, look: object, ptrace: bool = False) -> object:
    """`look()` in a forked child, in a mount namespace of its own whose /proc is a new procfs mounted
    with `proc_options`, run as nobody (`ptrace`: with CAP_SYS_PTRACE kept, as a monitoring agent)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:

        def child() -> object:
            os.close(read_fd)
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
                raise OSError(ctypes.get_errno(), "unshare")
            if libc.mount(b"proc", b"/proc", b"proc", 0, proc_options.encode()) != 0:
                raise OSError(ctypes.get_errno(), f"mount proc {proc_options}")
            os.setgroups([])
            if ptrace:
                libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
            os.setgid(NOGROUP)
            os.setuid(NOBODY)
            if ptrace:
                keep_only((CAP_SYS_PTRACE,))
            return look()  # type: ignore[operator]

        answer(write_fd, child)
    os.close(write_fd)
    return answer_of(read_fd, pid)


def _scan() -> dict[str, object]:
    snapshot = Scanner().scan()
    return {"note": snapshot.hidden_note, "refused": list(snapshot.uninspectable_pids),
            "seen": sorted(snapshot.live_pids)}


def test_hidden_processes_are_said_to_be_hidden(holders):
    holder = holders.spawn("hold")  # root's: refused to nobody under a plain /proc, absent under hidepid
    hidden = _as_nobody_under("hidepid=invisible", _scan)
    assert holder.pid not in hidden["seen"] and holder.pid not in hidden["refused"]  # type: ignore[operator]
    assert hidden["note"].startswith("/proc is mounted with hidepid=invisible: other users' processes are hidden")
    plain = _as_nobody_under("hidepid=off", _scan)
    assert holder.pid in plain["refused"] and plain["note"] == ""  # type: ignore[operator]
    exempt = _as_nobody_under(f"hidepid=invisible,gid={NOGROUP}", _scan)
    assert exempt["note"] == "" and holder.pid in exempt["refused"]  # type: ignore[operator]
    tracer = _as_nobody_under("hidepid=invisible", _scan, ptrace=True)  # hidepid hides nothing from it
    assert tracer["note"] == "" and holder.pid in tracer["seen"]  # type: ignore[operator]


def _hides(what: str) -> object:
    return lambda: value(own_namespace(parse(exposition(IpcCollector()))), "ipctop_proc_hides", what=what)


def test_the_exporter_says_so(holders):
    holders.spawn("hold")
    assert _as_nobody_under("hidepid=invisible", _hides("processes")) == 1
    assert _as_nobody_under("hidepid=off", _hides("processes")) == 0
    assert _as_nobody_under("hidepid=invisible", _hides("processes"), ptrace=True) == 0
    assert _as_nobody_under("hidepid=invisible", _hides("sysv_tables")) == 0


def test_list_prints_it(ipc_key):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o644)
    try:

        def listed() -> str:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["list", "--type", "shm"])
            return out.getvalue()

        text = _as_nobody_under("hidepid=2", listed)
        assert f"{shmid}" in text  # type: ignore[operator]
        # the kernel names the mode (hidepid=2 reads `invisible` in mountinfo)
        assert "/proc is mounted with hidepid=invisible: other users' processes are hidden" in text  # type: ignore[operator]
    finally:
        sysv.shm_remove(shmid)


def test_a_proc_without_sysvipc_does_not_pass_for_empty_tables(ipc_key):
    """`subset=pid` (systemd's ProcSubset=pid) leaves /proc/sysvipc out, for root too: the tables read
    empty, and a look said `Shared memory segments (0)` beside a live segment, without a word."""
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o600)
    try:

        def looked() -> dict[str, object]:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["list", "--type", "shm"])
            snapshot = Scanner().scan()
            header = summary_markup(snapshot, 2.0, False).plain
            return {"text": out.getvalue(), "gauge": _hides("sysv_tables")(),  # type: ignore[operator]
                    "notice": uninspectable_notice(snapshot), "header": header}

        seen = _as_nobody_under("subset=pid", looked)
        assert "/proc is mounted with subset=pid: it has no /proc/sysvipc, so System V objects are not shown" \
            in seen["text"]  # type: ignore[index]
        assert seen["gauge"] == 1  # type: ignore[index]
        assert seen["notice"].startswith("No System V tables: /proc is mounted with subset=pid.")  # type: ignore[index]
        assert "shm 0/? " in seen["header"]  # type: ignore[index]  # no /proc/sys: the limits are unknown, not 0
    finally:
        sysv.shm_remove(shmid)


def test_clean_removes_nothing_whose_creator_may_be_hidden(ipc_key):
    """A queue of nobody's made by a process of root's that is alive: hidden from nobody, it read as
    `creator gone` and `ipctop clean --yes` removed the queue of a live program."""
    key = ipc_key()
    msqid = sysv.msgget(key, sysv.IPC_CREAT | 0o600)  # made by this process, which stays alive
    sysv.msg_set(msqid, uid=NOBODY)
    try:

        def cleaned() -> str:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["clean", "--older-than", "0s", "--key", hex(key), "--yes"])
            return out.getvalue()

        text = _as_nobody_under("hidepid=invisible", cleaned)
        assert "hides other users' processes from this user (hidepid)" in text  # type: ignore[operator]
        assert sysv.msg_stat(msqid).key == key  # still there
    finally:
        with contextlib.suppress(IpcError):  # gone already where the test fails
            sysv.msg_remove(msqid)


def test_a_hidden_creator_is_alive_not_gone(ipc_key):
    """A segment made by a live process of root's: hidden from nobody, its creator read as `gone` in the
    monitor's panes and details.  The scan asks the kernel for the pids the tables name (kill(pid, 0)
    sends nothing: EPERM means alive)."""
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | 0o644)  # its cpid: this process, alive
    try:

        def creator_alive() -> list[bool]:
            snapshot = Scanner().scan()
            return [snapshot.is_alive(os.getppid()), os.getppid() in snapshot.known_processes]

        # the child's parent is this test's process: the segment's creator, hidden from nobody
        assert sysv.shm_stat(shmid).cpid == os.getpid()
        assert _as_nobody_under("hidepid=invisible", creator_alive) == [True, False]
    finally:
        sysv.shm_remove(shmid)
