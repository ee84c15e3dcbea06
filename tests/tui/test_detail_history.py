"""The detail's lifetime says when ipctop dropped an object's history to bound its memory."""

from __future__ import annotations

from ipctop.timeline import Timeline
from tests.tui.helpers import fixture_app, play_fixture, run_async, screen_text, table


@run_async
async def test_a_history_dropped_on_a_busy_machine_says_so():
    app = fixture_app()
    app.state.timeline = Timeline(max_objects=3)  # a busy machine, in small
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        shm.move_cursor(row=shm.get_row_index("3"))  # seen from the start, quiet since: forgotten
        await pilot.press("enter")
        text = screen_text(app)
        assert "Its history was dropped: ipctop keeps the lifetimes of the 3 objects" in text
        assert "nothing recorded yet" not in text
