"""The FIFO demos: opens that block, ENXIO, a file of size 0 holding nothing."""

from __future__ import annotations

import array
import errno
import fcntl
import os
import termios

import pytest

from ipctop.demos import DemoRun
from tests.demos.helpers import run_demo, wchan
from tests.demos.test_pipe_demos import BlockedSeen

OPEN_WAIT = "wait_for_partner"


def fifo_path(run: DemoRun) -> str:
    return next(path for path in run.made.paths if path.endswith(".fifo"))


def test_fifo_open_blocks_until_the_other_side_opens_and_the_file_stays_empty():
    seen = {}

    def data_in_kernel(run: DemoRun) -> None:
        path = fifo_path(run)
        seen["size"] = os.stat(path).st_size
        # Opening the FIFO (not the server's fd) joins the same pipe: FIONREAD shows what waits in it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            waiting = array.array("i", [0])
            fcntl.ioctl(fd, termios.FIONREAD, waiting)
            seen["waiting"] = waiting[0]
        finally:
            os.close(fd)

    def writer_waits(run: DemoRun) -> None:
        writer = run.made.pid_of("client")
        assert wchan(writer) == OPEN_WAIT
        targets = [os.readlink(f"/proc/{writer}/fd/{fd}") for fd in os.listdir(f"/proc/{writer}/fd")]
        assert fifo_path(run) not in targets, "a writer blocked in open() holds no descriptor yet"

    blocked = BlockedSeen("open blocks", OPEN_WAIT)
    done = run_demo("fifo", speed=4, at={"read": data_in_kernel, "release": writer_waits}, on_line=blocked)
    assert blocked.seen == [OPEN_WAIT], "the server was never seen blocked in open()"
    assert seen == {"size": 0, "waiting": 21}
    assert done.run.results["fifo_file_size"] == 0


def test_fifo_nonblock_open_rules():
    def reader_present(run: DemoRun) -> None:
        os.close(os.open(fifo_path(run), os.O_WRONLY | os.O_NONBLOCK))

    def no_reader(run: DemoRun) -> None:
        with pytest.raises(OSError) as failure:
            os.open(fifo_path(run), os.O_WRONLY | os.O_NONBLOCK)
        assert failure.value.errno == errno.ENXIO

    def writer_waits(run: DemoRun) -> None:
        assert wchan(run.made.pid_of("writer")) == OPEN_WAIT

    done = run_demo("fifo-nonblock", at={"write-with-reader": reader_present, "write-alone": no_reader,
                                         "release": writer_waits})
    assert done.run.results["write_open_alone"] == -errno.ENXIO
    assert "O_RDONLY|O_NONBLOCK) = 3" in done.text
    assert "= -1 ENXIO" in done.text
