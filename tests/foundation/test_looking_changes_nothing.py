"""Looking changes nothing: every read-only path leaves every field of every object as it was.

A world of real objects held by real processes (a segment someone maps and one nobody
maps, a queue with messages, a set with values, a pipe and FIFOs with bytes in them)
is recorded before and after each read-only path: IPC_STAT of every field (with the
semaphores' values, last pids and waiter counts), the bytes waiting in each pipe, and
inotify's record of every open, read, write and close of the pipe and the FIFOs
(a new open of a pipe, even for a moment, is a new reader or writer: it can spare a
writer its EPIPE or wake one blocked in open()).

inotify cannot tell who opened: another program that opens other processes' pipes
(an older ipctop, `lsof +E`) would be counted too.  So a look is judged in a quiet
moment (nothing else touched the pipe or FIFOs for a while before and after it), and
tried again when something did touch them meanwhile: a look of ipctop's that opens them
does so every time, another program only now and then.  On a machine that is never
quiet the test is skipped, saying why.
"""

from __future__ import annotations

import ast
import ctypes
import fcntl
import os
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from benchmarks import floor
from ipctop.kernel import procmap, sysv
from ipctop.kernel.libc import libc
from ipctop.snapshot import Scanner, take_snapshot
from ipctop.tui.app import IpctopApp
from ipctop.tui.screens.detail import DetailScreen
from tests.tui.action_helpers import select_row
from tests.tui.helpers import run_async, wait_for, wait_scans

IN_ACCESS, IN_MODIFY, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN = 0x1, 0x2, 0x8, 0x10, 0x20
WATCHED = IN_ACCESS | IN_MODIFY | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN


class Inotify:
    """Every open, read, write and close of the watched files, as the kernel reports them."""

    def __init__(self) -> None:
        self.fd = libc().inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.names: dict[int, str] = {}

    def watch(self, path: str, name: str) -> None:
        wd = libc().inotify_add_watch(self.fd, path.encode(), WATCHED)
        assert wd >= 0, os.strerror(ctypes.get_errno())
        self.names[wd] = name

    def events(self) -> list[str]:
        seen = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            at = 0
            while at < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, at)
                seen.append(f"{self.names.get(wd, wd)}: {mask:#x}")
                at += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class World:
    mapped: int  # a segment a holder has attached
    unmapped: int  # a segment nobody has attached
    queue: int
    sems: int
    pipe_write: int  # the test's write end of a pipe a holder reads from (never reads)
    fifo_write: int  # the test's write end of a FIFO a holder has open for reading
    lonely_fifo: str  # a FIFO only a holder has open, for reading
    inotify: Inotify

    def state(self) -> dict[str, object]:
        waiting = {
            name: struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
            for name, fd in (("pipe", self.pipe_write), ("fifo", self.fifo_write))
        }
        return {
            "mapped": sysv.shm_stat(self.mapped),
            "unmapped": sysv.shm_stat(self.unmapped),
            "queue": sysv.msg_stat(self.queue),
            "sems": sysv.sem_stat(self.sems),
            "values": sysv.sem_getall(self.sems, 2),
            "pids": tuple(sysv.sem_get(self.sems, i, sysv.GETPID) for i in range(2)),
            "ncnt": tuple(sysv.sem_get(self.sems, i, sysv.GETNCNT) for i in range(2)),
            "zcnt": tuple(sysv.sem_get(self.sems, i, sysv.GETZCNT) for i in range(2)),
            "waiting": waiting,
        }


@pytest.fixture
def world(ipc_key, holders, tmp_path) -> Iterator[World]:
    mapped = sysv.shmget(ipc_key(), 8192, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    unmapped = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    queue = sysv.msgget(ipc_key(), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    sems = sysv.semget(ipc_key(), 2, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    opened: list[int] = []
    inotify = Inotify()
    try:
        holders.spawn("shm-attach", mapped)
        sysv.msgsnd(queue, 7, b"first")
        sysv.msgsnd(queue, 8, b"second message")
        sysv.sem_setall(sems, (3, 1))
        read_end, pipe_write = os.pipe()
        opened.append(pipe_write)
        holders.spawn("hold", pass_fds=(read_end,))
        os.close(read_end)
        os.write(pipe_write, b"12345")

        fifo = str(tmp_path / "fifo")
        os.mkfifo(fifo)
        holders.spawn("fifo-open", fifo, "r")  # blocks in open() until a writer comes
        fifo_write = os.open(fifo, os.O_WRONLY)
        opened.append(fifo_write)
        os.write(fifo_write, b"abc")
        lonely = str(tmp_path / "lonely")
        os.mkfifo(lonely)
        fd = os.open(lonely, os.O_RDONLY | os.O_NONBLOCK)
        holders.spawn("hold", pass_fds=(fd,))
        os.close(fd)

        inotify.watch(f"/proc/self/fd/{pipe_write}", "pipe")
        inotify.watch(fifo, "fifo")
        inotify.watch(lonely, "lonely fifo")
        yield World(mapped, unmapped, queue, sems, pipe_write, fifo_write, lonely, inotify)
    finally:
        inotify.close()
        for fd in opened:
            os.close(fd)
        sysv.shm_remove(mapped)
        sysv.shm_remove(unmapped)
        sysv.msg_remove(queue)
        sysv.sem_remove(sems)


QUIET = 1.0  # seconds without any event before and after a look


def judged_quietly(world: World, look: Callable[[], object]) -> list[str]:
    """The events during `look()`: none as soon as one look in a quiet moment had none, else
    those of the last look judged in a quiet moment."""
    judged: list[str] | None = None
    for _ in range(8):
        world.inotify.events()
        time.sleep(QUIET)
        if world.inotify.events():
            continue  # someone else is opening other processes' pipes: wait for a quiet moment
        look()
        during = world.inotify.events()
        time.sleep(QUIET)
        if not world.inotify.events():
            if not during:
                return during
            judged = during
    if judged is None:
        pytest.skip("another program keeps opening other processes' pipes here: ipctop's opens cannot be told apart")
    return judged


def unchanged_by(world: World, look: Callable[[], object]) -> None:
    before = world.state()
    assert judged_quietly(world, look) == []  # nothing opened, read, written or closed the pipe or FIFOs
    assert world.state() == before


def ipctop(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "ipctop", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_scans_change_nothing(world):
    scanner = Scanner()

    def scans() -> None:
        for _ in range(3):
            snapshot = scanner.scan()
        assert snapshot.shm[world.mapped].attachers and snapshot.msg[world.queue].qnum == 2
        take_snapshot()

    unchanged_by(world, scans)


def test_list_and_a_clean_dry_run_change_nothing(world):
    def look() -> None:
        ipctop("list")
        ipctop("list", "--json")
        ipctop("clean")
        ipctop("clean", "--json", "--older-than", "0s")

    unchanged_by(world, look)


def test_reading_a_mapped_segment_reads_through_its_mapper(world):
    unchanged_by(world, lambda: ipctop("shm", "read", str(world.mapped), "--no-attach"))


def test_a_readonly_monitor_and_its_detail_screens_change_nothing(world):
    unchanged_by(world, lambda: _monitor_and_details(world))


@run_async
async def _monitor_and_details(world: World) -> None:
    app = IpctopApp(readonly=True, interval=0.5)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_scans(pilot, 2)
        for pane, ident in (("shm", world.mapped), ("shm", world.unmapped), ("msg", world.queue),
                            ("sem", world.sems)):
            await select_row(pilot, app, pane, ident)
            await pilot.press("enter")
            detail = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
            if pane == "shm":
                contents = await wait_for(pilot, lambda d=detail: d.contents)  # type: ignore[union-attr, misc]
                if ident == world.mapped:  # the hex view, read through the holder's mapping
                    assert contents.lines and "changing nothing" in contents.note  # type: ignore[union-attr]
                else:  # nobody maps it: nothing read, and under --readonly r does not attach
                    assert contents.needs_attach and not contents.lines  # type: ignore[union-attr]
                    await pilot.press("r")
            await wait_scans(pilot, app.state.scans + 1)
            await pilot.press("escape")
        for pane in ("pipes", "processes", "events", "leaks"):
            app.main_screen.show_pane(pane)
            await wait_scans(pilot, app.state.scans + 1)


def test_the_benchmarks_floor_reads_what_a_look_reads_and_changes_nothing(world):
    """benchmarks/floor.py is the least a Python look can cost: it must make the reads a look makes (a
    floor that missed some would be too low) and, as every look, change nothing."""
    floor_py = os.path.join(os.path.dirname(floor.__file__), "floor.py")
    outputs: list[bytes] = []

    def look() -> None:
        run = subprocess.run([sys.executable, "-S", floor_py], capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)

    unchanged_by(world, look)
    processes = ast.literal_eval(outputs[-1].decode())["processes"]
    pipe = f"pipe:[{os.fstat(world.pipe_write).st_ino}]"
    ends = {(pid, mode & 0o777) for pid, (fds, *_rest) in processes.items() for _fd, target, mode in fds
            if target == pipe}
    assert (os.getpid(), 0o300) in ends  # this test's write end, by its lstat
    assert any(pid != os.getpid() and mode == 0o500 for pid, mode in ends)  # the holder's read end
    # the segment's mapper, by the maps text (fewer than floor.QUERY_FROM processes here, or not)
    mappers = [pid for pid, found in processes.items() if found[4] and any(
        (b"/SYSV" in line and line.split()[4] == str(world.mapped).encode()) if isinstance(line, bytes)
        else (b"/SYSV" in line[3] and line[2] == world.mapped) for line in found[4])]
    assert len(mappers) == 1
    # and by PROCMAP_QUERY, as the floor asks on a machine of QUERY_FROM processes or more
    fd = os.open(f"/proc/{mappers[0]}/maps", os.O_RDONLY)
    try:
        has_query = procmap.shared_lines(fd) is not None
    finally:
        os.close(fd)
    if has_query:
        asked = floor.shared_maps_asker()(mappers[0])
        assert [inode for _start, _end, inode, name in asked or () if b"/SYSV" in name] == [world.mapped]
