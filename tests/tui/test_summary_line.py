"""The line at the top stays one line at every width: it leaves out its least telling parts first
(summary.DROPS), never what the view is limited to or PAUSED."""

from __future__ import annotations

from ipctop.frozen import replace
from ipctop.model import Pipe
from ipctop.tui.app import IpctopApp
from ipctop.tui.widgets.summary import summary_markup
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence
from tests.support.fixture_world import WorldFeed, world_snapshot
from tests.tui.helpers import play_fixture, run_async, screen_text


@run_async
async def test_the_summary_is_one_line_at_80_120_and_200_columns_over_the_busy_machine():
    for width, shown, left_out in (
        (80, ("shm 4/4096", "px 8", "pipes 8", "2s"), ("queued", "every", "/dev/shm")),
        (120, ("posix 5 /dev/shm 72M/12G", "unnamed 3 188M", "fifos 1", "every 2s"), ("queued",)),
        (200, ("queued", "posix 5 /dev/shm 72M/12G", "unnamed 3 188M", "every 2s"), ()),
    ):
        app = IpctopApp(WorldFeed(), interval=2.0, leak_evidence=fixture_evidence, leak_filters=FIXTURE_LEAK_FILTERS)
        async with app.run_test(size=(width, 40)) as pilot:
            await play_fixture(pilot)
            summary = app.main_screen.query_one("#summary")
            line = screen_text(app).splitlines()[0]
            assert summary.size.height == 1, (width, line)
            assert all(text in line for text in shown), (width, line)
            assert not any(text in line for text in left_out), (width, line)


def test_a_crowded_machine_drops_the_fifos_before_the_pipes_and_never_the_interval_scope_or_pause():
    pipes = {inode: Pipe(inode, 0, 65536, ()) for inode in range(10436)}
    snapshot = replace(world_snapshot(7), pipes=pipes)
    full = summary_markup(snapshot, 2.0, False).plain
    assert "fifos 1" in full and "every 2s" in full and "queued" in full
    narrow = summary_markup(snapshot, 2.0, False, width=72).plain
    assert len(narrow) <= 72 and "fifos" not in narrow and "pipes 10436" in narrow, narrow
    scoped = summary_markup(snapshot, 2.0, True, ("owner alice",), width=60).plain
    assert len(scoped) <= 60 and scoped.endswith("2s owner alice  PAUSED "), scoped
