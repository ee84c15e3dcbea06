"""Pictures of what issue 16 changed on screen, from the fixed made-up machine: columns that fit
80 and 200 columns, processes named by their titles, short State words, the help at 80 columns,
the key bar, the answer to a key of another pane, the forms' wording, a forgotten history."""

from __future__ import annotations

import pytest

from ipctop.timeline import Timeline
from ipctop.tui.forms import AttachForm, MsgSendForm
from tests.tui.helpers import fixture_app, play_fixture


def test_processes_at_80x24(snap_compare):
    # Holds stays (Command goes first); postgres: checkpointer by its title; State a short word.
    assert snap_compare(fixture_app(), press=["5"], terminal_size=(80, 24), run_before=play_fixture)


def test_pipes_at_80x24(snap_compare):
    assert snap_compare(fixture_app(), press=["4"], terminal_size=(80, 24), run_before=play_fixture)


def test_shared_memory_at_200x60(snap_compare):
    # Every column, Perms whole; the room goes to the attachers.
    assert snap_compare(fixture_app(), terminal_size=(200, 60), run_before=play_fixture)


def test_help_at_80x24_scrolled(snap_compare):
    # Descriptions wrap; the page scrolled with PgDn at once; the Only in column beside them.
    assert snap_compare(fixture_app(), press=["question_mark", "pagedown"], terminal_size=(80, 24),
                        run_before=play_fixture)  # fmt: skip


def test_a_key_of_another_pane_says_where_it_works(snap_compare):
    assert snap_compare(fixture_app(), press=["4", "a"], terminal_size=(100, 30), run_before=play_fixture)


@pytest.mark.parametrize("form", ["attach", "send"])
def test_forms_at_80x24(snap_compare, form):
    # The Attach sentence whole; the empty text of a message shows its hint in italics.
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        pilot.app.push_screen(AttachForm(3, "key 0x0052e2c1, 148M") if form == "attach" else MsgSendForm(1, 8192))
        await pilot.pause()

    assert snap_compare(fixture_app(), terminal_size=(80, 24), run_before=run_before)


def test_detail_whose_history_was_dropped(snap_compare):
    app = fixture_app()
    app.state.timeline = Timeline(max_objects=3)
    assert snap_compare(app, press=["enter"], terminal_size=(100, 32), run_before=play_fixture)
