"""What a user who knows htop expects, on the fixed fixture: search (F3, n, N), Follow (F), tags
(Space, U), tree folding and the flat view (← → t F5), htop's F-keys and vim's j/k.

The actions on tagged rows with real objects are in test_tagged_actions.py; settings and
export in test_settings_and_export.py.
"""

from __future__ import annotations

from ipctop.tui.forms.confirm import ConfirmScreen
from ipctop.tui.screens.help import HelpScreen
from ipctop.tui.widgets.filter_bar import FilterBar, SearchBar
from tests.tui.action_helpers import notified
from tests.tui.helpers import (
    fixture_app,
    pane,
    play_fixture,
    row_keys,
    run_async,
    screen_text,
    table,
    wait_for,
    wait_scans,
)


def cursor_key(app, pane_id: str) -> str | None:  # type: ignore[no-untyped-def]
    return table(app, pane_id).cursor_key


def summary(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


@run_async
async def test_f3_moves_the_cursor_to_a_match_as_it_is_typed_and_n_N_go_on_without_filtering():
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await play_fixture(pilot)
        await pilot.press("5")
        rows = row_keys(app, "processes")
        await pilot.press("n")  # nothing searched yet: says how
        await notified(pilot, app, "F3 searches")
        await pilot.press("f3", *"pipe 5000")
        search = app.main_screen.query_one(SearchBar)
        assert search.has_class("-open") and app.focused is search.input
        assert cursor_key(app, "processes") == "p4101"  # the first row with it, from the cursor down
        assert row_keys(app, "processes") == rows  # every row stays: a search is not a filter
        await pilot.press("f3")  # F3 in the line: the next match at once
        assert cursor_key(app, "processes") == "p4102"
        await pilot.press("enter")  # back to the table; n and N go on
        assert not search.has_class("-open") and app.focused is table(app, "processes")
        await pilot.press("n")
        assert cursor_key(app, "processes") == "p4201"
        await pilot.press("n")
        assert cursor_key(app, "processes") == "p2101"
        await pilot.press("N", "N", "N", "N")  # round the top, to the last match
        assert cursor_key(app, "processes") == "p4002"
        await pilot.press("f3")  # opens with the text searched last
        assert search.value == "pipe 5000"
        await pilot.press("ctrl+u", *"zzz")
        assert search.input.has_class("-nothing") and cursor_key(app, "processes") == "p4002"
        await pilot.press("escape")  # closes the search line; the filter line stays closed
        assert not search.has_class("-open") and not app.main_screen.query_one(FilterBar).has_class("-open")
        await pilot.press("n")
        await notified(pilot, app, "No row contains “zzz”")


@run_async
async def test_F_follows_a_row_across_a_filter_and_a_sort_until_the_cursor_moves():
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        shm.move_cursor(row=shm.get_row_index("7"))
        await pilot.press("F")
        await notified(pilot, app, "Following segment 7")
        assert "following segment 7" in summary(app)
        await pilot.press("slash", *"postg", "enter")  # 7 is filtered out: the cursor goes elsewhere
        assert cursor_key(app, "shm") == "3"
        await pilot.press("escape")  # back in the list: the cursor goes back to it
        assert cursor_key(app, "shm") == "7"
        await pilot.press("greater_than_sign", "I")  # sorted by another column, and inverted
        assert cursor_key(app, "shm") == "7"
        await pilot.press("j")  # a move of the cursor ends it, as in htop
        assert cursor_key(app, "shm") != "7"
        assert "following" not in summary(app)
        await pilot.press("k")
        assert cursor_key(app, "shm") == "7"


@run_async
async def test_a_process_followed_that_exits_is_no_longer_followed_and_says_so():
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_scans(pilot, 1)
        for scan in range(2, 7):  # up to the last scan 8500 is in (the 6th)
            app.request_refresh()
            await wait_scans(pilot, scan)
        await pilot.press("5")
        processes = table(app, "processes")
        processes.move_cursor(row=processes.get_row_index("p8500"))
        await pilot.press("F")
        assert "following oneshot[8500]" in summary(app)
        app.request_refresh()
        await notified(pilot, app, "oneshot[8500] is gone: no longer followed")
        assert "following" not in summary(app)


@run_async
async def test_space_tags_rows_x_names_each_in_one_confirmation_and_U_untags():
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        await pilot.press("space")  # tags 3 and goes down to 7
        assert shm.tagged_keys == ["3"] and cursor_key(app, "shm") == "7"
        await pilot.press("space")
        assert shm.tagged_keys == ["3", "7"]
        assert "2 tagged" in summary(app)
        tagged_lines = [line for line in screen_text(app).splitlines() if line.startswith("•")]
        assert [line.split()[1] for line in tagged_lines] == ["3", "7"]  # the mark in the margin
        await pilot.press("x")
        confirm = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        question = confirm.question  # type: ignore[union-attr]
        assert question.startswith("Remove these 2 objects (IPC_RMID)?")
        assert "• segment 3 (key 0x0052e2c1, 148M): attached 2 times by postgres[3001] and " in question
        assert "• segment 7 (key 0x4950d001, 4K): already marked for removal, attached once by viewer[3100]" \
            in question
        await pilot.press("escape")  # made-up ids: never say yes here
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        assert shm.tagged_keys == ["3", "7"]  # cancelled: still tagged
        await pilot.press("space")  # on 9: tagged too; Space on a tagged row untags it
        shm.move_cursor(row=shm.get_row_index("3"))
        await pilot.press("space")
        assert shm.tagged_keys == ["7", "9"]
        await pilot.press("2")  # each pane has its own tags
        assert "tagged" not in summary(app)
        await pilot.press("1", "U")
        assert shm.tagged_keys == [] and "tagged" not in summary(app)


@run_async
async def test_the_process_tree_folds_with_the_arrows_and_t_makes_it_flat():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("5")
        processes = table(app, "processes")
        processes.move_cursor(row=processes.get_row_index("p2102"))
        await pilot.press("left")  # a process without children: to its parent's line
        assert cursor_key(app, "processes") == "g2100"
        await pilot.press("left")  # folds the three sleeps under it
        assert not {"p2101", "p2102", "p2103"} & set(row_keys(app, "processes"))
        assert "bash [+3]" in screen_text(app)  # the shell that ran them, by name
        await pilot.press("right")
        assert {"p2101", "p2102", "p2103"} <= set(row_keys(app, "processes"))
        processes.move_cursor(row=processes.get_row_index("p3001"))
        await pilot.press("left")  # postgres folds its checkpointer
        assert "p3002" not in row_keys(app, "processes") and "postgres [+1]" in screen_text(app)
        await pilot.press("t")  # flat: every process, by name; no group lines, nothing folded
        await notified(pilot, app, "A flat list")
        flat = row_keys(app, "processes")
        assert not any(key.startswith("g") for key in flat) and "p3002" in flat
        names = [table(app, "processes").row_for(key).cells[0].plain.lower() for key in flat]
        assert names == sorted(names)
        assert "├─" not in screen_text(app)
        await pilot.press("right")  # in the flat list the arrows scroll as in the other panes
        await pilot.press("f5")  # F5, as in htop: the tree again, as it was folded
        assert "p3002" not in row_keys(app, "processes") and "└─" in screen_text(app)


@run_async
async def test_htops_function_keys_and_vims_j_k():
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await play_fixture(pilot)
        await pilot.press("j", "j")
        assert cursor_key(app, "shm") == "9"
        await pilot.press("k")
        assert cursor_key(app, "shm") == "7"
        await pilot.press("f4", *"priv")  # F4: the filter
        assert row_keys(app, "shm") == ["9"]
        await pilot.press("escape", "f1")  # F1: the help
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        await pilot.press("5", "j", "f9")  # F9 in the processes pane: a signal to the selected process
        await wait_for(pilot, lambda: app.screen is not app.main_screen)
        assert "Send a signal to" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        await pilot.press("f10")  # F10: quit
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0


@run_async
async def test_an_exited_process_stays_one_scan_in_its_place_in_the_tree():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_scans(pilot, 1)
        await pilot.press("5")
        for scan in range(2, 8):  # 8500 is in scans 1-6, gone from the 7th
            app.request_refresh()
            await wait_scans(pilot, scan)
        processes = table(app, "processes")
        keys = row_keys(app, "processes")
        assert processes.is_fading("p8500")
        assert keys.index("p8500") == keys.index("p7002") + 1  # the last child of (parent) 1000, as before
        lines = {key: processes.row_for(key).cells[0].plain for key in keys}
        assert lines["p8500"].startswith("└─") and lines["p7002"].startswith("├─")
        app.request_refresh()
        await wait_scans(pilot, 8)
        keys = row_keys(app, "processes")
        assert "p8500" not in keys
        assert processes.row_for("p7002").cells[0].plain.startswith("└─")  # the last child now
        assert pane(app, "processes").folded == set()
