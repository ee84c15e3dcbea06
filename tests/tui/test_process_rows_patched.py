"""At a scan where no process came, went or moved in the tree, the process pane patches its rows.

Two real holder processes (children of this one, each holding an end of a real pipe) and this
process, scanned by the monitor's real Scanner through the monitor's own feed, limited to them
(as `ipctop --pid` is: the machine's other processes come and go).  Between two scans this
process opens another pipe: its row is made again and shows it; the tree is not walked again
(counted: the calls of process_tree) and the holders' rows are the very rows of the scan before.
The rows are those a build in full makes.  On a machine of 10,000 processes the tree walk and a
look-up of every row cost some 50 ms at every scan, whatever changed.
"""

from __future__ import annotations

import os

from ipctop.snapshot import Scanner
from ipctop.tui.panes import processes as processes_pane
from ipctop.tui.panes.processes import ProcessesPane
from ipctop.tui.state import MonitorState, SnapshotFeed


def shown(rows: list) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
    return [(row.key, row.parent, row.cells[0].sort_key, tuple(cell.plain for cell in row.cells)) for row in rows]


def test_a_scan_that_moved_nothing_in_the_tree_remakes_only_the_changed_rows(holders, monkeypatch):
    read_fd, write_fd = os.pipe()
    opened: list[int] = []
    try:
        kids = [holders.spawn("hold", pass_fds=(fd,)) for fd in (write_fd, read_fd)]
        feed = SnapshotFeed(Scanner().scan, pids=frozenset({os.getpid(), *(kid.pid for kid in kids)}))
        pane, state = ProcessesPane(), MonitorState()
        # the pane outside an app: the tree (its default), and no demo
        monkeypatch.setattr(ProcessesPane, "showing_tree", property(lambda _pane: True))
        monkeypatch.setattr(ProcessesPane, "demo_marks", lambda _pane: None)

        def scan() -> list:  # type: ignore[type-arg]
            state.apply(feed.next())
            return pane.build_rows(state)

        scan()
        before = {row.key: row for row in scan()}
        assert {f"p{kid.pid}" for kid in kids} <= before.keys()

        walks: list[int] = []
        tree = processes_pane.process_tree
        monkeypatch.setattr(processes_pane, "process_tree", lambda *args: walks.append(1) or tree(*args))
        opened += os.pipe()  # this process now holds another pipe: its row changes, nothing else
        rows = scan()
        after = {row.key: row for row in rows}
        assert not walks, "the tree was walked again though no process came, went or moved"
        mine = after[f"p{os.getpid()}"]
        assert mine is not before[f"p{os.getpid()}"] and str(os.fstat(opened[0]).st_ino) in mine.cells[4].plain
        assert all(after[f"p{kid.pid}"] is before[f"p{kid.pid}"] for kid in kids)

        pane._last_built = None  # the same scan's rows built in full
        assert shown(pane.build_rows(state)) == shown(rows)
        assert walks
    finally:
        for fd in (read_fd, write_fd, *opened):
            os.close(fd)


def test_the_tree_turned_into_a_flat_list_and_back_makes_no_row_again(holders, monkeypatch):
    """A sort by another column than Process turns the tree into a flat list (and back): each process's
    row is its row of the tree under no tree lines, not made again (at 10,000 processes that key
    press took some 160 ms, made every row again)."""
    read_fd, write_fd = os.pipe()
    try:
        kids = [holders.spawn("hold", pass_fds=(fd,)) for fd in (write_fd, read_fd)]
        feed = SnapshotFeed(Scanner().scan, pids=frozenset({os.getpid(), *(kid.pid for kid in kids)}))
        state = MonitorState()
        state.apply(feed.next())
        tree = {"shown": True}
        monkeypatch.setattr(ProcessesPane, "showing_tree", property(lambda _pane: tree["shown"]))
        monkeypatch.setattr(ProcessesPane, "demo_marks", lambda _pane: None)
        pane = ProcessesPane()
        pane.build_rows(state)

        made: list[int] = []
        make_row = pane._row
        monkeypatch.setattr(pane, "_row", lambda process, *args, **kwargs: made.append(process.pid) or make_row(
            process, *args, **kwargs))
        for shown_as_tree in (False, True):
            tree["shown"] = shown_as_tree
            rows = pane.build_rows(state)
            assert not made, f"rows made again when the tree became {'a tree' if shown_as_tree else 'flat'}"
            assert shown(rows) == shown(ProcessesPane().build_rows(state))  # what a pane made afresh shows
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_tree_cell_moved_to_another_line_is_the_cell_made_there():
    """A moved row's first cell is copied with its new place, not made again: it must be what making
    it there gives (its text escaped once, its tree lines kept whole when cut)."""
    from ipctop.tui.panes.processes import TreeCell

    made = TreeCell("│  └─ ", "worker\x1b[31m", sort=3)
    moved, fresh = made.sorting_by(7), TreeCell("│  └─ ", "worker\x1b[31m", sort=7)
    assert type(moved) is TreeCell and moved.sort_key == 7 and made.sort_key == 3
    assert (moved.look(), moved.prefix, moved.name) == (fresh.look(), fresh.prefix, fresh.name)
    assert [moved.fitted(width) for width in range(1, 30)] == [fresh.fitted(width) for width in range(1, 30)]


def test_a_process_name_cut_in_a_narrow_column_is_still_escaped():
    """A name from the machine (comm, argv) may hold control characters: cut to a narrow column it
    is cut from its escaped text, so that nothing reaches the terminal but what is shown."""
    from ipctop.tui.panes.processes import TreeCell

    cell = TreeCell("└─ ", "evil\x1b]0;title\x07name-long-enough", sort=1)
    for width in range(1, 40):
        assert not any(ord(char) < 32 or ord(char) == 127 for char in cell.fitted(width)), width


def test_a_title_under_its_own_program_is_cut_to_its_role():
    """`postgres: checkpointer` under its postgres parent read `postgres: c…` in a narrow column: the
    line above names the program, so where the whole title does not fit the role is shown."""
    from ipctop.tui.panes.processes import TreeCell

    under_postgres = TreeCell("│  └─ ", "postgres: checkpointer", sort=1, head="postgres")
    assert under_postgres.fitted(40) == "│  └─ postgres: checkpointer"  # room for all of it: all of it
    assert under_postgres.fitted(20) == "│  └─ checkpointer"
    assert under_postgres.fitted(16) == "│  └─ checkpoin…"
    assert under_postgres.sorting_by(5).fitted(20) == "│  └─ checkpointer"
    assert under_postgres.plain == "│  └─ postgres: checkpointer"  # what the filter matches: all of it
    elsewhere = TreeCell("│  └─ ", "php-fpm: pool www", sort=1)  # under systemd: its program stays
    assert elsewhere.fitted(16) == "│  └─ php-fpm: …"
    assert TreeCell("└─ ", "nginx: worker", sort=1, head="postgres").fitted(12) == "└─ nginx: w…"  # not its program
