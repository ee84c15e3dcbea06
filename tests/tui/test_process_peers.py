"""A process's detail names the other processes on its pipes once each, with the ends they hold:
a PostgreSQL postmaster holds both ends of a pipe its children read (and each of them also
holds the write end of another pipe with it), so "the other end" was wrong twice over."""

from __future__ import annotations

import os

from ipctop.snapshot import take_snapshot
from ipctop.tui.details import describe


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
