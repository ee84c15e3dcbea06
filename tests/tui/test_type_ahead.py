"""Keys typed quickly take effect in the order they were typed; Escape then a key is not Alt+key.

A terminal hands the monitor several keys in one read when they are typed quickly
(or pasted): `type_at_once` posts them to the app the same way, without letting
the app settle in between, as `pilot.press` does.
"""

from __future__ import annotations

import time

from textual import events
from textual._xterm_parser import XTermParser

from ipctop.tui.typeahead import EscapeThenKeyParser
from tests.tui.helpers import fixture_app, play_fixture, row_keys, run_async, table, wait_for

CHARACTERS = {"slash": "/", "escape": "\x1b", "enter": "\r", "question_mark": "?"}


def type_at_once(app, *keys: str) -> None:
    for key in keys:
        app.post_message(events.Key(key, CHARACTERS.get(key, key if len(key) == 1 else None)))


@run_async
async def test_a_pane_key_then_slash_filters_the_new_pane():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("6")
        type_at_once(app, "1", "slash", *"postg")
        main = app.main_screen
        # pane 1 filtered by owner, once every key typed has arrived ("po" alone leaves the same row)
        await wait_for(pilot, lambda: main.pane("shm").filter_text == "postg" and row_keys(app, "shm") == ["3"])
        assert main.current_pane.pane_id == "shm" and main.pane("shm").filter_text == "postg"
        assert main.pane("events").filter_text == ""
        assert app.focused is not table(app, "shm")  # still typing in the filter


@run_async
async def test_keys_after_one_that_moves_the_focus_go_where_it_went():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        # Enter keeps the filter and goes back to the table; `2` then switches panes, `p` pauses.
        type_at_once(app, "slash", *"alice", "enter", "2", "p")
        await wait_for(pilot, lambda: app.paused)
        assert app.main_screen.current_pane.pane_id == "msg"
        assert app.main_screen.pane("shm").filter_text == "alice"


@run_async
async def test_escape_then_a_pane_key_clears_the_filter_and_switches():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("slash", *"postg")
        type_at_once(app, "escape", "3")
        await wait_for(pilot, lambda: app.main_screen.current_pane.pane_id == "sem")
        assert app.main_screen.pane("shm").filter_text == ""


def parsed(parser: XTermParser, data: str) -> list[str]:
    """The keys `parser` reads from `data` arriving in one read, once its wait for more is over."""
    keys = [event.key for event in parser.feed(data) if isinstance(event, events.Key)]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        keys += [event.key for event in parser.tick() if isinstance(event, events.Key)]
        if parser._timeout_time is None:  # nothing held back any more
            return keys
        time.sleep(0.01)
    raise AssertionError(f"the parser still holds back part of {data!r}")


def test_escape_then_a_key_in_one_read_is_escape_then_the_key():
    assert parsed(XTermParser(), "\x1b1") == ["inverted_exclamation_mark"]  # what Textual reads: ¡
    assert parsed(XTermParser(), "\x1b/") == ["slash"]  # ... and there the Escape is lost
    assert parsed(EscapeThenKeyParser(), "\x1b1") == ["escape", "1"]
    assert parsed(EscapeThenKeyParser(), "\x1b/x") == ["escape", "slash", "x"]
    assert parsed(EscapeThenKeyParser(), "\x1b[A") == ["up"]  # escape sequences are still read whole
    assert parsed(EscapeThenKeyParser(), "\x1b") == ["escape"]
