"""The monitor's --pid filter shows an end closing as that, not as the pipe's removal."""

from __future__ import annotations

import os

from ipctop.diff import EventKind
from ipctop.snapshot import take_snapshot
from ipctop.tui.state import SnapshotFeed


def test_an_object_leaving_the_filter_is_not_reported_removed(holders):
    read_fd, write_fd = os.pipe()
    inode = os.fstat(read_fd).st_ino
    try:
        watched = holders.spawn("hold", pass_fds=(write_fd,))
        holders.spawn("hold", pass_fds=(read_fd,))
        feed = SnapshotFeed(take_snapshot, pids=frozenset({watched.pid}))
        assert inode in feed.next().snapshot.pipes
        holders.end(watched)
        update = feed.next()
        assert inode not in update.snapshot.pipes  # the watched process holds no end of it any more
        about = [(e.kind, e.pid) for e in update.events if e.object_kind == "pipe" and e.object_id == inode]
        assert about == [(EventKind.END_CLOSED, watched.pid)]
        assert {e.object_kind for e in update.events} <= {"pipe", "process"}
    finally:
        os.close(read_fd)
        os.close(write_fd)
