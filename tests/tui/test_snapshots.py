"""Pictures of every pane, the detail and the help, from the fixed made-up machine.

The fixture's eight scans are played one after the other, so the pictures also
show what the last scan changed (highlighted) and what it removed (fading out).
Update them with `pytest tests/tui/test_snapshots.py --snapshot-update` and look
at the report before committing.
"""

from __future__ import annotations

import pytest

from tests.tui.helpers import fixture_app, play_fixture

PANE_KEYS = {"shm": "1", "msg": "2", "sem": "3", "pipes": "4", "processes": "5", "events": "6"}


@pytest.mark.parametrize("pane_id", list(PANE_KEYS))
def test_pane(snap_compare, pane_id):
    assert snap_compare(fixture_app(), press=[PANE_KEYS[pane_id]], terminal_size=(120, 32), run_before=play_fixture)


def test_shared_memory_at_80x24(snap_compare):
    assert snap_compare(fixture_app(), terminal_size=(80, 24), run_before=play_fixture)




def test_detail_of_a_segment(snap_compare):
    # Row 2 is segment 7: marked for removal, still attached, creator gone.
    assert snap_compare(fixture_app(), press=["down", "enter"], terminal_size=(100, 40), run_before=play_fixture)


def test_help(snap_compare):
    assert snap_compare(fixture_app(), press=["question_mark"], terminal_size=(100, 40), run_before=play_fixture)


def test_processes_paused_and_filtered_at_200x60(snap_compare):
    # The filter keeps the rows a match hangs under, so the tree stays a tree.
    keys = ["5", "p", "slash", *"pipe", "enter"]
    assert snap_compare(fixture_app(), press=keys, terminal_size=(200, 60), run_before=play_fixture)
