"""A segment's row is reused while nothing it shows changed, and made again when a process it
names changes its title (a PostgreSQL backend goes from idle to SELECT; the segment does not)."""

from __future__ import annotations

from ipctop.frozen import replace
from ipctop.tui.panes.shm import ShmPane
from ipctop.tui.state import MonitorState
from tests.support.fixture_snapshot import fixture_snapshots


def test_a_new_title_of_an_attacher_makes_its_segments_row_again():
    snapshot = fixture_snapshots()[-1]
    pane = ShmPane()
    state = MonitorState()
    state.snapshot = snapshot
    first = {row.key: row for row in pane.build_rows(state)}
    state.snapshot = replace(snapshot)  # a new scan in which nothing changed
    again = {row.key: row for row in pane.build_rows(state)}
    assert all(again[key] is first[key] for key in first)
    checkpointer = snapshot.processes[3002]
    processes = {**snapshot.processes, 3002: replace(checkpointer, cmdline="postgres: checkpointer (busy)")}
    state.snapshot = replace(snapshot, processes=processes)  # segment 3 is the very same object
    renamed = {row.key: row for row in pane.build_rows(state)}
    assert renamed["3"] is not first["3"] and "postgres: checkpointer (busy)[3002]" in renamed["3"].cells[5].plain
    assert renamed["7"] is first["7"]  # its attacher is unchanged
