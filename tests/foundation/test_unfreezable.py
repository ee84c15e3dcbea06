"""No process on the machine can freeze a scan: not a file held open on a FUSE mount whose
server stopped answering, not a read of /proc that never returns."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ipctop.collectors.procfs import ProcFS
from ipctop.frozen import frozen
from ipctop.kernel.libc import libc
from ipctop.snapshot import STALL_SECONDS, Scanner
from tests.support.holders import wait_until

FUSE_SERVER = os.path.join(os.path.dirname(__file__), os.pardir, "support", "fuse_server.py")
MNT_DETACH = 2


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/fuse"), reason="needs root and /dev/fuse")
def test_a_file_held_on_a_fuse_mount_that_stopped_answering_cannot_freeze_list(holders, tmp_path):
    mountpoint = tmp_path / "fuse"
    mountpoint.mkdir()
    server = subprocess.Popen([sys.executable, FUSE_SERVER, str(mountpoint)], stdout=subprocess.PIPE, text=True)
    listing = None
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        fd = os.open(mountpoint / "file", os.O_RDONLY)
        holder = holders.spawn("hold", pass_fds=(fd,))
        os.close(fd)
        server.send_signal(signal.SIGUSR1)  # from now on the server reads requests and never answers
        # a stat() of the holder's fd would now wait for good (uninterruptibly, once the server has
        # read the request); ipctop must not ask the file system anything
        listing = subprocess.Popen([sys.executable, "-m", "ipctop", "list", "--json"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            code = listing.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("ipctop list waited on the FUSE mount whose server does not answer")
        assert code == 0
        assert holder.popen.poll() is None
    finally:
        server.terminate()  # aborts the connection: whatever still waits on it gets ENOTCONN
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
        if listing is not None and listing.poll() is None:
            listing.kill()
            listing.wait(timeout=30)
        if listing is not None and listing.stderr:
            listing.stderr.close()
        libc().umount2(str(mountpoint).encode(), MNT_DETACH)


@frozen
class OneReadNeverReturns(ProcFS):
    """The real /proc, where reading one process's stat first opens a FIFO nobody writes to, while
    the FIFO exists: a real system call that waits until the test lets it go (no kernel here gives
    a read of /proc that waits for good on demand; a hung server behind a lock the process holds
    would)."""

    victim: int = 0
    gate: str = ""

    def read_pid_record(self, pid: int, name: str) -> bytes:
        if pid == self.victim and name == "stat" and pid not in self.skip:
            with contextlib.suppress(FileNotFoundError), open(self.gate, "rb"):  # waits for a writer
                pass
        return ProcFS.read_pid_record(self, pid, name)


def test_a_process_whose_reading_never_returns_is_skipped_and_named(holders, tmp_path):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    read_end, write_end = os.pipe()
    victim = holders.spawn("hold", pass_fds=(read_end,))  # it holds a pipe end: the scan reads its stat
    os.close(read_end)
    scanner = Scanner(OneReadNeverReturns(victim=victim.pid, gate=str(gate)))
    try:
        started = time.monotonic()
        first = scanner.scan()
        assert time.monotonic() - started < STALL_SECONDS + 30  # given up, not waited out
        (named,) = [u for u in first.uninspectable if u.pid == victim.pid]
        assert "(stat, cmdline) did not return within" in named.reason
        assert victim.pid not in first.processes and not any(
            end.pid == victim.pid for pipe in first.pipes.values() for end in pipe.ends
        )
        started = time.monotonic()
        again = scanner.scan()  # still stuck: skipped at once
        assert time.monotonic() - started < STALL_SECONDS
        assert victim.pid in {u.pid for u in again.uninspectable}

        with open(gate, "wb"):  # the stuck read returns, and no later one waits
            os.unlink(gate)
        seen = wait_until(lambda: victim.pid in (s := scanner.scan()).processes and s, timeout=30)
        assert victim.pid not in {u.pid for u in seen.uninspectable}  # type: ignore[union-attr]
    finally:
        with contextlib.suppress(OSError):
            fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)  # let any waiting read go
            os.close(fd)
        os.close(write_end)
        for thread in threading.enumerate():
            if thread.name == "ipctop-scan":
                thread.join(timeout=30)
