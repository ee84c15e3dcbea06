"""Panes shown one after the other faster than the screen settles: the one shown last is the one shown."""

from __future__ import annotations

import asyncio

from tests.tui.helpers import fixture_app, run_async, wait_for


@run_async
async def test_the_pane_shown_last_stays_shown():
    # each pane shown focuses its table, and the tabs learn of each focus by a message handled later:
    # a message of a pane no longer shown switched back to it (tui/widgets/pane_tabs.py)
    for last in ("shm", "processes", "pipes"):
        app = fixture_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            main = app.main_screen
            for pane_id in ("shm", "msg", "sem", "processes"):
                main.show_pane(pane_id)
                await wait_for(pilot, lambda main=main, pane_id=pane_id: main.current_pane.pane_id == pane_id)
            main.show_pane(last)
            await asyncio.sleep(1.0)  # every message of those panes handled, and the underline's 0.3 s slide over
            assert main.current_pane.pane_id == last
            assert not app._animator._animations  # the tabs are not passed back and forth

