"""Pictures of what htop users expect, from the fixed made-up machine: rows tagged and a row followed,
the search line, the folded process tree and the flat list, the settings screen, the export form, and
a demo in lecture mode at a projector's 100x30."""

from __future__ import annotations

from tests.support.fixture_demo import show_fixture_demo
from tests.tui.helpers import fixture_app, play_fixture, table


def test_tagged_rows_and_a_row_followed(snap_compare):
    # • in the margin of the tagged rows, in the warning colour; the summary says what is followed.
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        await pilot.press("space", "space", "j", "F")

    assert snap_compare(fixture_app(), terminal_size=(120, 24), run_before=run_before)


def test_the_search_line(snap_compare):
    assert snap_compare(fixture_app(), press=["5", "f3", *"pipe 5000"], terminal_size=(100, 30),
                        run_before=play_fixture)  # fmt: skip


def test_the_process_tree_folded(snap_compare):
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        await pilot.press("5")
        processes = table(pilot.app, "processes")
        for key in ("g1000", "p3001"):
            processes.move_cursor(row=processes.get_row_index(key))
            await pilot.press("left")

    assert snap_compare(fixture_app(), terminal_size=(100, 30), run_before=run_before)


def test_the_processes_as_a_flat_list(snap_compare):
    assert snap_compare(fixture_app(), press=["5", "t"], terminal_size=(100, 30), run_before=play_fixture)


def test_the_settings_screen(snap_compare):
    assert snap_compare(fixture_app(), press=["f2"], terminal_size=(100, 36), run_before=play_fixture)


def test_the_export_form(snap_compare):
    assert snap_compare(fixture_app(), press=["2", "E"], terminal_size=(100, 30), run_before=play_fixture)


def test_a_demo_in_lecture_mode_at_100x30(snap_compare):
    # The narration takes half the screen; the demo's processes, with their tree, come first.
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        show_fixture_demo(pilot.app)
        await pilot.pause(0)
        await pilot.press("5", "L")

    assert snap_compare(fixture_app(), terminal_size=(100, 30), run_before=run_before)
