"""In the process tree, a process whose row only moved (one above it exited) is not made again.

Three real holder processes, children of this one, each holding a real pipe end, scanned by
the monitor's real Scanner.  The first exits; a scan later its siblings stand one line
higher in the tree.  Their rows were made again at every such scan (the place in the tree
was part of what a row was remembered by); now only their place is updated (counted: the
calls that make a process's row).
"""

from __future__ import annotations

import os

from ipctop.snapshot import Scanner
from ipctop.tui import rows as rows_module
from ipctop.tui.panes.processes import ProcessesPane
from ipctop.tui.state import MonitorState


def scan(pane: ProcessesPane, state: MonitorState, scanner: Scanner) -> dict[str, object]:
    state.previous, state.snapshot = state.snapshot, scanner.scan()
    state.scans += 1
    return {row.key: row for row in pane.build_rows(state)}


def offset(rows: dict[str, object], key: str) -> int:
    """How many lines below its parent's line a row stands in the tree."""
    row = rows[key]
    parent = rows[row.parent]  # type: ignore[attr-defined]
    return row.cells[0].sort_key - parent.cells[0].sort_key  # type: ignore[attr-defined, no-any-return]


def test_siblings_that_move_up_in_the_tree_keep_what_they_show(holders, monkeypatch):
    read_fd, write_fd = os.pipe()
    try:
        first, second, third = (holders.spawn("hold", pass_fds=(fd,)) for fd in (write_fd, read_fd, read_fd))
    finally:
        os.close(read_fd)
        os.close(write_fd)
    pane, state, scanner = ProcessesPane(), MonitorState(), Scanner()
    # the pane outside an app: the tree (its default), and no demo
    monkeypatch.setattr(ProcessesPane, "showing_tree", property(lambda _pane: True))
    monkeypatch.setattr(ProcessesPane, "demo_marks", lambda _pane: None)
    before = scan(pane, state, scanner)
    siblings = (f"p{second.pid}", f"p{third.pid}")
    assert all(key in before for key in siblings)
    assert all(before[key].widths for key in siblings)  # type: ignore[attr-defined]  # as a table measures them

    holders.end(first)
    scan(pane, state, scanner)  # the exited process is drawn once more, in its place
    made: list[int] = []
    make_row = pane._row

    def counted(process, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(process.pid)
        return make_row(process, *args, **kwargs)

    monkeypatch.setattr(pane, "_row", counted)
    after = scan(pane, state, scanner)
    assert f"p{first.pid}" not in after
    assert offset(after, siblings[0]) == offset(before, siblings[0]) - 1  # one line higher under their parent
    assert not {second.pid, third.pid} & set(made), "a sibling's row was made again only because it moved up"
    assert [after[key].cells[0].plain for key in siblings] == [before[key].cells[0].plain for key in siblings]  # type: ignore[attr-defined]
    # nor is what the table works out of how a row is drawn worked out again (10,000 rows move at once
    # when a process near the top of the tree comes or goes): its cells are not measured again
    measured: list[str] = []
    measure = rows_module.cell_len
    monkeypatch.setattr(rows_module, "cell_len", lambda text: measured.append(text) or measure(text))
    assert [after[key].widths for key in siblings] == [before[key].widths for key in siblings]  # type: ignore[attr-defined]
    assert not measured, f"cells measured again: {measured}"
