"""A process's detail names the other processes on its pipes once each, with the ends they hold:
a PostgreSQL postmaster holds both ends of a pipe its children read (and each of them also
holds the write end of another pipe with it), so "the other end" was wrong twice over.  An
object's detail lists each process once, with all its uses of the object."""

from __future__ import annotations

import os

from ipctop.model import Pipe
from ipctop.snapshot import take_snapshot
from ipctop.tui.details import describe, users_by_process
from tests.support.holders import wait_until


def test_each_other_process_on_a_pipe_is_named_once_with_the_ends_it_holds(holders):
    read_fd, write_fd = os.pipe()
    try:
        inode = os.fstat(read_fd).st_ino
        master = holders.spawn("hold", pass_fds=(read_fd, write_fd))
        readers = [holders.spawn("hold", pass_fds=(read_fd,)) for _ in range(2)]
        writer = holders.spawn("hold", pass_fds=(write_fd,))
    finally:
        os.close(read_fd)
        os.close(write_fd)
    snapshot = take_snapshot()
    users = describe("process", master.pid, snapshot, None).users
    expected = [(reader.pid, f"holds pipe {inode} for reading (fd {read_fd})") for reader in readers]
    expected.append((writer.pid, f"holds pipe {inode} for writing (fd {write_fd})"))
    assert sorted(users) == sorted(expected)


def test_a_reader_blocked_on_its_pipe_is_one_row_with_both_uses(holders):
    read_fd, write_fd = os.pipe()
    try:
        inode = os.fstat(read_fd).st_ino
        reader = holders.spawn("read-fd", read_fd, pass_fds=(read_fd,))

        def blocked() -> Pipe | None:
            pipe = take_snapshot().pipes[inode]
            return pipe if pipe.waiters else None

        pipe = wait_until(blocked, 10)
        detail = describe("pipe", inode, take_snapshot(), pipe)
        assert [pid for pid, _how in detail.users].count(reader.pid) == 2  # the kernel's two facts
        rows = dict(users_by_process(detail.users))
        assert rows[reader.pid] == f"blocked in read, fd {read_fd}; fd {read_fd} open for reading"
        assert rows[os.getpid()] == f"fd {read_fd} open for reading; fd {write_fd} open for writing"
    finally:
        holders.close()
        os.close(read_fd)
        os.close(write_fd)
