"""The help scrolls at once and names the panes of each key; the key bar fits the screen; a key
that does nothing in this pane says where it works."""

from __future__ import annotations

from ipctop.tui.help_text import why_not
from tests.tui.action_helpers import notified
from tests.tui.helpers import fixture_app, play_fixture, run_async, screen_text, wait_for


def last_line(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).rstrip("\n").splitlines()[-1]


@run_async
async def test_help_scrolls_with_the_arrows_and_names_the_panes_at_120_columns():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("question_mark")
        help_page = app.screen.query_one("#help")
        assert app.focused is help_page  # no Tab first
        assert "Only in" in screen_text(app)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: help_page.scroll_y > 0)
        text = screen_text(app)
        create = next(line for line in text.splitlines() if "Create a segment" in line)
        assert "1 Shared memory" in create
        await pilot.press("end")
        await wait_for(pilot, lambda: "Command palette" in screen_text(app))
        assert "▁▁" not in screen_text(app)  # no horizontal scrollbar inside the box (a thumb may end in one ▁)


@run_async
async def test_help_wraps_long_descriptions_at_80_columns():
    app = fixture_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await play_fixture(pilot)
        await pilot.press("question_mark")
        help_page = app.screen.query_one("#help")
        seen = ""
        for _ in range(20):  # page down to the end, reading every page
            seen += screen_text(app)
            if help_page.scroll_y >= help_page.max_scroll_y:
                break
            before = help_page.scroll_y
            await pilot.press("pagedown")
            await wait_for(pilot, lambda before=before: help_page.scroll_y > before)
        # The signal action's help ends in USR2): wrapped onto a second line, not cut.
        assert "USR2)" in seen


@run_async
async def test_the_key_bar_is_whole_at_120_columns_and_keeps_the_pane_keys_at_80():
    for width, shown in ((120, ("⏎ Detail", "q Quit", "? Help", "x Remove", "e Mode/owner", "D Demo", "^p")),
                         (80, ("? Help", "c Create", "a Attach", "x Remove", "e Mode/owner", "^p"))):  # fmt: skip
        app = fixture_app()
        async with app.run_test(size=(width, 24)) as pilot:
            await play_fixture(pilot)
            line = last_line(app)
            assert all(key in line for key in shown), (width, line)


@run_async
async def test_a_key_of_another_pane_says_where_it_works():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("4", "a")
        await notified(pilot, app, "a Attach: only in 1 Shared memory.")
        await pilot.press("x")
        await notified(pilot, app, "x Remove / Unlink: only in 1 Shared memory, 2 Queues, 3 Semaphores, 7 Leaks, "
                                   "8 POSIX.")


def test_why_not_answers_only_for_keys_that_do_nothing_here():
    assert why_not("a", "shm", True, False) is None  # it attaches
    assert why_not("z", "pipes", True, False) is None  # no action's key
    assert why_not("a", "pipes", True, False) == "a Attach: only in 1 Shared memory."
    assert why_not("a", "shm", False, False) == "a Attach: select a row first."
    assert why_not("c", "shm", True, True) == "c Create: not with --readonly, which changes nothing."


@run_async
async def test_the_answer_never_takes_a_key_another_widget_handles():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        # A filter that matches nothing: no row is selected, yet Enter keeps the filter (not "select a row").
        await pilot.press("slash", *"zz", "enter")
        assert app.focused is app.main_screen.pane("shm").table
        assert app.main_screen.pane("shm").filter_text == "zz"
