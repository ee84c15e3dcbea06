"""Queue depth history, sparklines and fill bars (pure text, no terminal)."""

from __future__ import annotations

from ipctop.frozen import replace
from ipctop.history import QueueHistory, sparkline
from ipctop.render.bars import bar, percent
from tests.support.fixture_snapshot import QUEUE_DEPTHS, fixture_snapshot, fixture_snapshots


def test_depths_recorded_per_queue_and_forgotten_when_gone():
    history = QueueHistory()
    for snapshot in fixture_snapshots():
        history.record(snapshot)
    assert history.depths(1, 0x4950D100) == list(QUEUE_DEPTHS)
    assert history.depths(2, 0x12345678) == [0] * len(QUEUE_DEPTHS)
    history.record(replace(fixture_snapshot(7), msg={}))
    assert history.depths(1, 0x4950D100) == []


def test_window_drops_old_samples_and_a_reused_id_starts_afresh():
    history = QueueHistory(window=5.0)
    for snapshot in fixture_snapshots():  # two seconds apart
        history.record(snapshot)
    assert history.depths(1, 0x4950D100) == list(QUEUE_DEPTHS[-3:])
    last = fixture_snapshot(7)
    reused = replace(last, time=last.time + 2, msg={1: replace(last.msg[1], key=0x1)})
    history.record(reused)
    assert history.depths(1, 0x1) == [12]
    assert history.depths(1, 0x4950D100) == []


def test_sparkline_scales_to_the_largest_value():
    assert sparkline([], 8) == ""
    assert sparkline([0, 0], 8) == "▁▁"
    assert sparkline([0, 1, 2, 4, 8], 8) == "▁▂▃▅█"
    assert sparkline(list(range(20)), 4) == "▇▇██"  # only the last `width` values


def test_bar_and_percent():
    assert bar(0, 8) == "········"
    assert bar(1, 8) == "████████"
    assert bar(0.5, 8) == "████····"
    assert bar(0.0001, 8) == "▏·······"  # something waiting never looks empty
    assert bar(2.0, 4) == "████"
    assert percent(0.0001) == "<1%" and percent(0.75) == "75%" and percent(0) == "0%"
