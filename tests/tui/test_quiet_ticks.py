"""A scan that adds a row below the screen repaints only the lines that changed, not the whole table.

The monitor's real Scanner (limited to this process) lists 30 real segments in a table of
a dozen visible rows; a 31st segment, with the highest id, comes below the screen.  The
table used to set its virtual size as Textual's reactive, which lays out and paints the
whole table again (some 9,000 cells at 200 columns) at every scan that adds or loses a row;
now its scrollbar follows and the lines on screen are compared one by one (counted: the
calls that mark the whole table dirty).  The new row is there when scrolled to.
"""

from __future__ import annotations

import os

from ipctop.kernel import sysv
from ipctop.tui.app import IpctopApp
from tests.tui.helpers import run_async, screen_text, shm_table_showing, wait_for, wait_scans

SEGMENTS = 30


def make_segment(key: int) -> int:
    return sysv.shmget(key, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)


def test_a_row_added_below_the_screen_does_not_repaint_the_whole_table(ipc_key):
    made: list[int] = []
    try:
        made += [make_segment(ipc_key()) for _ in range(SEGMENTS)]
        run_async(_check)(made, ipc_key)
    finally:
        for shmid in made:
            sysv.shm_remove(shmid)


async def _check(made: list[int], ipc_key) -> None:  # type: ignore[no-untyped-def]
    app = IpctopApp(interval=3600.0, pids=frozenset({os.getpid()}))
    async with app.run_test(size=(200, 20)) as pilot:
        shm = await shm_table_showing(pilot, SEGMENTS)
        whole: list[object] = []
        set_dirty = shm._set_dirty

        def counted(*regions: object) -> None:
            if not regions:
                whole.append(True)
            set_dirty(*regions)  # type: ignore[arg-type]

        shm._set_dirty = counted  # type: ignore[method-assign]
        made.append(make_segment(ipc_key()))
        newest = str(made[-1])
        app.request_refresh()
        await wait_scans(pilot, 2)
        await wait_for(pilot, lambda: shm.row_count == SEGMENTS + 1)
        await pilot.pause(0)
        position = shm.get_row_index(newest)
        assert position >= shm.size.height, "the new segment's row was meant to come below the screen"
        assert not whole, f"the whole table was marked for repainting {len(whole)} times at a scan"

        await pilot.press("end")
        await wait_for(pilot, lambda: shm.cursor_key == newest and newest in screen_text(app))
