"""Lessons in the monitor as a class sees them: the step counted is the one on screen, a segment
removed while attached shows its key as `ipctop list` does, the demo's processes wait `between steps`
rather than in the demo's own sigwait, the end is said in the panel without covering it, a running
demo at 100x30 leaves the table 12 rows, and lecture mode pins the demo's rows with a taller narration.
"""

from __future__ import annotations

import re

from ipctop.render.formatting import hex_key
from ipctop.tui.widgets.narration import NarrationPanel
from tests.support.fixture_demo import show_fixture_demo
from tests.tui.helpers import cell_text, fixture_app, play_fixture, row_keys, run_async, screen_text, table, wait_for
from tests.tui.test_demos_tui import leftovers, live_app, notifications, start_demo


async def take_steps_until(pilot, app, slug: str) -> None:  # type: ignore[no-untyped-def]
    """Press g at each step the demo waits for, until it waits for step `slug`."""
    session = app.demo_session
    while True:
        awaiting = await wait_for(pilot, lambda: session.awaiting, timeout=60)
        if awaiting.slug == slug:
            return
        await pilot.press("g")
        await wait_for(pilot, lambda held=awaiting: session.awaiting is not held, timeout=60)


@run_async
async def test_shm_dest_step_by_step_counts_the_step_on_screen_and_shows_the_recovered_key():
    app = live_app()
    run = None
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            run = await start_demo(pilot, "shm-dest", step=True)
            panel = app.main_screen.query_one(NarrationPanel)
            await take_steps_until(pilot, app, "owner-detach")  # the rmid step's calls are on screen
            await wait_for(pilot, lambda: any("IPC_RMID, NULL) = 0" in line for line in panel.shown_lines), timeout=60)
            assert panel.border_title == "Demo shm-dest · step 3/5"  # not 4/5: that one waits for g
            assert "g: next step — [4/5] " in screen_text(app)
            (shmid,) = run.current.shm
            (key,) = run.made.keys
            shown = f"0x00000000 (was {hex_key(key)})"  # as `ipctop list` shows it
            await wait_for(pilot, lambda: cell_text(app, "shm", str(shmid), "key") == shown, timeout=60)
            assert shown in screen_text(app)
            # Its processes wait for the lesson between its calls: said so, not as the demo's sigwait.
            await pilot.press("5")
            owner, user = run.current.pid_of("owner"), run.current.pid_of("user")
            for pid in (owner, user):
                await wait_for(pilot, lambda pid=pid: cell_text(app, "processes", f"p{pid}", "state")
                               == "S between steps", timeout=60)  # fmt: skip
            assert "sigwait" not in screen_text(app)
            while run.running:  # to its end: the panel says how it ended, no notification over it
                if app.demo_session.awaiting is not None:
                    await pilot.press("g")
                await pilot.pause(0.05)
            await wait_for(pilot, lambda: panel.ended, timeout=60)
            assert any("Everything it made is gone" in line for line in panel.shown_lines)
            assert not any("finished" in message for message in notifications(app))
        assert leftovers(run) == []
    finally:
        if run is not None:
            run.stop()


@run_async
async def test_a_running_demo_at_100x30_leaves_the_table_12_rows_and_its_narration_whole():
    app = fixture_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await play_fixture(pilot)
        show_fixture_demo(app)
        await pilot.press("5")
        await pilot.pause(0)
        lines = screen_text(app).splitlines()
        header = next(i for i, line in enumerate(lines) if re.match(r" Process▲", line))
        panel = next(i for i, line in enumerate(lines) if "Demo pipeline" in line)
        # Rows of the table between its header and the narration: 14 here, so 12 at least when the
        # lines over the panes are all there (the namespaces line, which the fixture has not, and others).
        assert panel - header - 1 >= 14
        assert "step 3/4" in lines[panel]
        assert any("# look: a 2101 writes pipe 1" in line for line in lines[panel:])  # the last line, whole


@run_async
async def test_lecture_mode_pins_the_demos_rows_first_and_makes_the_narration_taller():
    app = fixture_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await play_fixture(pilot)
        show_fixture_demo(app)
        await pilot.press("5")
        await pilot.pause(0)
        panel = app.main_screen.query_one(NarrationPanel)
        ordinary = panel.size.height
        assert row_keys(app, "processes")[0] == "g1"
        await pilot.press("L")
        await wait_for(pilot, lambda: panel.size.height > ordinary)
        assert panel.outer_size.height >= 14
        # The demo's processes with the tree they stand in, first, whatever the sort.
        assert row_keys(app, "processes")[:4] == ["g2100", "p2101", "p2102", "p2103"]
        await pilot.press("4", "I")
        assert set(row_keys(app, "pipes")[:2]) == {"pipe:50001", "pipe:50002"}  # inverted: still first
        await pilot.press("L")
        await wait_for(pilot, lambda: panel.size.height == ordinary)
        assert row_keys(app, "pipes")[0] == "fifo:70001"  # not pinned: the inverted sort alone


@run_async
async def test_lecture_from_the_command_line_starts_the_demo_with_the_tall_narration():
    app = fixture_app(lecture=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await play_fixture(pilot)
        show_fixture_demo(app)
        await pilot.pause(0)
        panel = app.main_screen.query_one(NarrationPanel)
        assert panel.has_class("-lecture") and panel.outer_size.height >= 14
        assert table(app, "pipes").model.pinned == frozenset()  # pinned rows are a pane's: pane 1 is shown
        await pilot.press("4")
        assert row_keys(app, "pipes")[:2] == ["pipe:50001", "pipe:50002"]
