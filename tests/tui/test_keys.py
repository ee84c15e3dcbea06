"""Keys, mouse and palette on the fixed fixture: panes, filter, sort, pause, interval, detail.

Also how the tables update: keyed rows that are never cleared, the cursor that
stays on its object, highlights that last one scan, rows that fade for one scan,
and input that keeps working while a scan is slow.
"""

from __future__ import annotations

import threading

from ipctop.tui import registry
from ipctop.tui.app import IpctopApp
from ipctop.tui.registry import ActionSpec
from ipctop.tui.screens.detail import DetailScreen
from ipctop.tui.widgets.key_bar import KeyBar
from ipctop.tui.widgets.object_table import ObjectTable
from tests.support.fixture_snapshot import FixtureFeed
from tests.tui.helpers import (
    fixture_app,
    play_fixture,
    row_keys,
    run_async,
    screen_text,
    table,
    wait_for,
    wait_scans,
)


@run_async
async def test_digits_tabs_and_mouse_switch_panes():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        for key, pane_id in zip("234561", ("msg", "sem", "pipes", "processes", "events", "shm"), strict=True):
            await pilot.press(key)
            assert app.main_screen.current_pane.pane_id == pane_id
            assert app.focused is table(app, pane_id)
        await pilot.click("#--content-tab-tab-pipes")
        assert app.main_screen.current_pane.pane_id == "pipes"
        # A click on a column header sorts by it; a second click inverts.
        await pilot.press("1")
        size_at = next(line for line in screen_text(app).splitlines() if "ShmID" in line).index("Size")
        await pilot.click(ObjectTable, offset=(size_at, 0))
        assert table(app, "shm").sort_column == "size"
        assert row_keys(app, "shm") == ["7", "9", "12", "3"]
        await pilot.click(ObjectTable, offset=(size_at, 0))
        assert table(app, "shm").sort_reverse


@run_async
async def test_filter_matches_any_column_and_escape_clears():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("slash", *"postg", "q")
        assert not app.paused and app.is_running  # `p` and `q` typed in the filter are text
        await pilot.press("backspace")
        assert row_keys(app, "shm") == ["3"]  # owner and attachers
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is table(app, "shm")
        assert "filter /" in screen_text(app)
        await pilot.press("2")  # each pane has its own filter
        assert len(row_keys(app, "msg")) == 2
        await pilot.press("1", "escape")
        assert len(row_keys(app, "shm")) == 4  # segment 11, fading out, went with the first filter
        await pilot.press("4", "slash", *"SIGP")
        assert row_keys(app, "pipes") == ["pipe:50005"]
        await pilot.press("escape")
        assert len(row_keys(app, "pipes")) == 6
        await pilot.press("slash", *"zzz")
        assert row_keys(app, "pipes") == []
        assert "Nothing matches" in screen_text(app)


@run_async
async def test_a_line_being_typed_takes_the_key_bars_place_and_the_table_keeps_its_size():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        key_bar = app.main_screen.query_one(KeyBar)
        size = shm.size
        for opening in ("slash", "f3"):  # the filter line, the search line
            await pilot.press(opening)
            await pilot.pause()
            assert not key_bar.display and shm.size == size
            assert screen_text(app).splitlines()[-1].strip().startswith(("filter /", "search F3"))
            await pilot.press("escape")
            await pilot.pause()
            assert key_bar.display and shm.size == size and "? Help" in screen_text(app).splitlines()[-1]
        await pilot.press("slash", *"postg", "enter")  # a filter kept: its line stays, above the keys
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert key_bar.display and "filter /" in lines[-2] and "? Help" in lines[-1]


@run_async
async def test_sort_keys_keep_the_cursor_on_its_object():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        shm.move_cursor(row=shm.get_row_index("9"))
        await pilot.press("greater_than_sign")
        assert shm.sort_column == "key"
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert shm.sort_column == "size"
        assert row_keys(app, "shm") == ["7", "9", "12", "3"]
        assert shm.cursor_key == "9"
        await pilot.press("I")
        assert row_keys(app, "shm") == ["3", "12", "9", "7"]
        assert shm.cursor_key == "9"
        await pilot.press("less_than_sign")
        assert shm.sort_column == "owner"
        await pilot.press("f6")
        await pilot.press("down", "enter")  # the chooser opens on the current column: one down is Size
        assert shm.sort_column == "size"
        assert shm.cursor_key == "9"
        assert "Size▼" in screen_text(app)


@run_async
async def test_pause_interval_and_refresh_now():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_scans(pilot, 1)
        await pilot.press("p")
        assert app.paused and "PAUSED" in screen_text(app)
        scans = app.state.scans
        app._tick()  # the timer firing while paused does nothing
        assert not app._scanning and app.state.scans == scans
        await pilot.press("ctrl+r")  # but a refresh asked for happens
        await wait_scans(pilot, scans + 1)
        await pilot.press("p")
        assert not app.paused and "PAUSED" not in screen_text(app)
        app.set_interval_seconds(2.0)
        await pilot.press("plus")
        assert app.interval == 3.0
        await pilot.press("minus", "minus")
        assert app.interval == 1.0
        assert "every 1s" in screen_text(app)


@run_async
async def test_rows_are_keyed_highlighted_once_and_fade_out():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        shm = table(app, "shm")
        assert shm.is_fading("11")  # gone in the last scan: dimmed for one more
        assert shm.model.lit["12"] == {"*"}  # new in the last scan: highlighted
        unchanged = shm.row_for("3")
        app.request_refresh()  # the fixture repeats its last scan
        await wait_scans(pilot, app.state.scans + 1)
        assert shm.row_for("11") is None
        assert "12" not in shm.model.lit  # nothing highlighted any more
        assert shm.row_for("3") is unchanged  # an unchanged segment keeps its very row
        assert "11" not in screen_text(app).split("Perms")[1].split()  # removed from the screen too
        # Changed cells are highlighted, volatile ones (ages) are not.
        await pilot.press("3")
        assert "4" not in table(app, "sem").model.lit  # seen while hidden: shown without highlight


@run_async
async def test_detail_follows_events_and_gone_objects():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("6")
        events = table(app, "events")
        removed = next(k for k in row_keys(app, "events") if events.row_for(k).obj.object_label == "shm 11")
        events.move_cursor(row=events.get_row_index(removed))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen) and (screen.kind, screen.ident) == ("shm", 11)
        text = screen_text(app)
        assert "It is gone" in text and "removed" in text and "first seen" in text
        await pilot.press("escape")
        await pilot.press("5")
        processes = table(app, "processes")
        processes.move_cursor(row=processes.get_row_index("p2102"))
        await pilot.press("enter")
        text = screen_text(app)
        assert "Process sleep[2102]" in text
        assert "holds pipe 50001 for writing (fd 1)" in text and "holds pipe 50002 for reading (fd 0)" in text
        await pilot.press("escape", "4")
        await pilot.press("enter")  # the first pipe of the sleep pipeline
        assert "sleep[2101] | sleep[2102] | sleep[2103]" in screen_text(app)
        await pilot.press("escape", "7")  # a leak candidate opens the detail of its object
        leaks = table(app, "leaks")
        await wait_for(pilot, lambda: leaks.row_count == 3)  # judged in a worker thread
        leaks.move_cursor(row=leaks.get_row_index("shm:9"))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen) and (screen.kind, screen.ident) == ("shm", 9)


@run_async
async def test_cursor_keys_scroll_and_mouse_select_on_a_long_table():
    app = fixture_app()
    async with app.run_test(size=(120, 16)) as pilot:  # the events pane holds more rows than fit
        await play_fixture(pilot)
        await pilot.press("6")
        events = table(app, "events")
        keys = row_keys(app, "events")
        visible = events.scrollable_content_region.height - 1
        assert len(keys) > visible
        await pilot.press("end")
        assert events.cursor_key == keys[-1] and events.scroll_y > 0
        assert events.cursor_row - round(events.scroll_y) < visible  # the cursor is on screen
        await pilot.press("home")
        assert events.cursor_row == 0 and events.scroll_y == 0
        await pilot.press("pagedown")
        assert events.cursor_row == visible
        await pilot.press("pageup", "down", "down", "up")
        assert events.cursor_row == 1
        await pilot.click("#table-events", offset=(3, 4))  # the fourth row: the cursor moves there
        assert events.cursor_row == 3 and app.screen is app.main_screen
        await pilot.click("#table-events", offset=(3, 4))  # a second click opens it
        assert isinstance(app.screen, DetailScreen)


@run_async
async def test_help_palette_and_theme():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("question_mark")
        assert "Invert the sort order" in screen_text(app)
        await pilot.press("end")  # more keys than a page: the help has the focus and scrolls
        await wait_for(pilot, lambda: "Command palette" in screen_text(app))
        assert "Command palette" in screen_text(app)
        await pilot.press("escape", "ctrl+p")
        await pilot.press(*"pause")
        await wait_for(pilot, lambda: "Pause" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.paused)
        app.theme = "textual-light"
        await pilot.pause(0)
        assert "PAUSED" in screen_text(app)


def _mutating_spec(ctx) -> None:  # type: ignore[no-untyped-def]
    raise AssertionError("a mutating action ran under --readonly")


@run_async
async def test_readonly_hides_and_refuses_mutating_actions(monkeypatch):
    spec = ActionSpec("test.mutate", "", "Change things", _mutating_spec, mutates=True, panes=frozenset({"shm"}))
    specs = (*registry.all_actions(), spec)
    monkeypatch.setattr(registry, "all_actions", lambda: specs)
    for readonly in (True, False):
        app = fixture_app(readonly=readonly)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_scans(pilot, 1)
            main = app.main_screen
            assert main.check_action("do", ("test.mutate",)) is (not readonly)
            if readonly:
                await main.run_registered("test.mutate")  # refused, the handler never runs
                assert "readonly" in screen_text(app)
            await pilot.press("2")  # not an action of this pane
            assert main.check_action("do", ("test.mutate",)) is False


@run_async
async def test_a_slow_scan_never_blocks_input():
    release = threading.Event()
    feed = FixtureFeed()

    def slow_provider():  # type: ignore[no-untyped-def]
        if feed.calls >= 1:
            release.wait(timeout=30)
        return feed()

    app = IpctopApp(slow_provider, interval=3600.0)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_scans(pilot, 1)
            app.request_refresh()  # this scan hangs until released
            await pilot.press("2", "3", "question_mark", "escape", "p")
            assert app.main_screen.current_pane.pane_id == "sem" and app.paused
            assert app.state.scans == 1
            release.set()
            await wait_scans(pilot, 2)
    finally:
        release.set()
