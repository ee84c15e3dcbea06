"""When only the ages on a line moved on, the line is drawn again from its other cells as they were.

Real segments of this process, scanned by the monitor's real Scanner.  A minute later on the
table's clock (the ages are drawn to it) every line shows new ages: its other cells are not
painted again (counted: the cells painted), and each line is exactly what painting the whole
row afresh gives.
"""

from __future__ import annotations

import os

from rich.segment import Segment

from ipctop.kernel import sysv
from ipctop.tui.app import IpctopApp
from ipctop.tui.widgets import object_table, table_paint
from tests.tui.helpers import run_async, shm_table_showing

SEGMENTS = 5


def test_a_line_whose_ages_alone_changed_paints_only_its_ages(ipc_key, monkeypatch):
    made: list[int] = []
    try:
        made += [sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600) for _ in range(SEGMENTS)]
        run_async(_check)(monkeypatch)
    finally:
        for shmid in made:
            sysv.shm_remove(shmid)


async def _check(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = IpctopApp(interval=3600.0, pids=frozenset({os.getpid()}))
    async with app.run_test(size=(200, 20)) as pilot:
        shm = await shm_table_showing(pilot, SEGMENTS)
        lines = range(1, SEGMENTS + 1)
        before = [shm.render_line(y).text for y in lines]

        painted: list[str] = []
        paint = table_paint.cell_segments

        def counted(cell, text, *args, **kwargs):  # type: ignore[no-untyped-def]
            painted.append(str(text))
            return paint(cell, text, *args, **kwargs)

        simplified: list[int] = []  # how many segments each Segment.simplify went through
        simplify = Segment.simplify

        def counted_simplify(segments):  # type: ignore[no-untyped-def]
            segments = list(segments)
            simplified.append(len(segments))
            return simplify(segments)

        monkeypatch.setattr(table_paint, "cell_segments", counted)  # where paint_row finds it
        monkeypatch.setattr(object_table, "cell_segments", counted, raising=False)
        monkeypatch.setattr(Segment, "simplify", staticmethod(counted_simplify))
        shm.model.now += 60  # a minute later: the Changed column's ages move on, nothing else
        spliced = [shm.render_line(y) for y in lines]
        monkeypatch.setattr(Segment, "simplify", staticmethod(simplify))
        assert [strip.text for strip in spliced] != before
        assert len(painted) == SEGMENTS, f"painted {painted}: only each line's age was to be painted again"
        # nor is the line simplified whole again: only each age's own few segments
        assert sum(simplified) <= 3 * SEGMENTS, f"segments simplified per line: {simplified}"

        shm._strips.clear()
        fresh = [shm.render_line(y) for y in lines]
        assert [list(strip) for strip in spliced] == [list(strip) for strip in fresh]


def test_a_second_later_lines_of_objects_older_than_a_minute_are_not_drawn_again(ipc_key):
    """Ages in a table are seconds for the first minute, then whole minutes: a monitor of things
    older than a minute has nothing to draw at a tick where nothing else changed."""
    made: list[int] = []
    try:
        made += [sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600) for _ in range(SEGMENTS)]
        run_async(_check_quiet_tick)()
    finally:
        for shmid in made:
            sysv.shm_remove(shmid)


async def _check_quiet_tick() -> None:
    app = IpctopApp(interval=3600.0, pids=frozenset({os.getpid()}))
    async with app.run_test(size=(200, 20)) as pilot:
        shm = await shm_table_showing(pilot, SEGMENTS)
        lines = range(1, SEGMENTS + 1)
        refreshed: list[int] = []
        refresh = shm.refresh

        def counted(*regions, **kwargs):  # type: ignore[no-untyped-def]
            refreshed.append(len(regions))
            return refresh(*regions, **kwargs)

        shm.refresh = counted  # type: ignore[method-assign]
        for step, drawn_again in ((125, True), (1, False), (1, False), (60, True)):
            shm.model.now += step
            refreshed.clear()
            shm._refresh_changed_lines()
            assert bool(refreshed) == drawn_again, f"{step} s later: refreshed {refreshed}"
            texts = [shm.render_line(y).text for y in lines]
            assert all(" 2m " in text or " 3m " in text for text in texts), texts
