"""At a scan, a pipe's row is made again only if the pipe or a process it names changed.

Two real pipes, each between two real holder processes, scanned by the monitor's real
Scanner: a second scan in which nothing changed gives the very same row objects (the table
then skips them); when the reader of one pipe exits, only that pipe's row is made again
(it now has no reader), the other is still the same object.
"""

from __future__ import annotations

import os

from ipctop.snapshot import Scanner
from ipctop.tui.panes.pipes import PipesPane
from ipctop.tui.state import MonitorState


def pipe_between(holders) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """A pipe whose write end one holder has and whose read end another has: (its inode, the reader)."""
    read_fd, write_fd = os.pipe()
    try:
        inode = os.fstat(read_fd).st_ino
        holders.spawn("hold", pass_fds=(write_fd,))
        reader = holders.spawn("hold", pass_fds=(read_fd,))
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return inode, reader


def rows_of(pane: PipesPane, state: MonitorState, scanner: Scanner, inodes: tuple[int, ...]) -> dict[int, object]:
    state.snapshot = scanner.scan()
    state.scans += 1
    by_key = {row.key: row for row in pane.build_rows(state)}
    return {inode: by_key[f"pipe:{inode}"] for inode in inodes}


def test_an_unchanged_pipe_keeps_its_row_and_a_changed_one_gets_a_new_one(holders):
    kept, _ = pipe_between(holders)
    losing, reader = pipe_between(holders)
    pane, state, scanner = PipesPane(), MonitorState(), Scanner()
    first = rows_of(pane, state, scanner, (kept, losing))
    again = rows_of(pane, state, scanner, (kept, losing))
    assert again[kept] is first[kept] and again[losing] is first[losing]

    holders.end(reader)
    after = rows_of(pane, state, scanner, (kept, losing))
    assert after[losing] is not first[losing]
    assert "(no reader)" in after[losing].text  # type: ignore[attr-defined]
    assert after[kept] is first[kept]
