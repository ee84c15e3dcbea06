"""The settings screen (F2) saves what the next monitor starts with; E exports a pane's rows as shown."""

from __future__ import annotations

import json

from textual.widgets import Button, Checkbox, Select, SelectionList, Static

from ipctop.settings import PaneSettings, Settings, load
from ipctop.tui.forms.export_form import ExportForm
from ipctop.tui.screens.settings import SettingsScreen
from tests.tui.action_helpers import fill_and_submit, notified, open_form
from tests.tui.helpers import fixture_app, play_fixture, run_async, screen_text, table, wait_for


@run_async
async def test_settings_saved_from_f2_are_what_the_next_monitor_starts_with(tmp_path):
    path = tmp_path / "ipctop" / "config.toml"
    app = fixture_app(settings_path=path)
    async with app.run_test(size=(200, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("f2")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen)
        assert f"Save writes {path}" in str(screen.query_one(".note", Static).content)  # type: ignore[union-attr]
        screen.query_one("#setting-interval", Select).value = 1.0  # type: ignore[union-attr]
        screen.query_one("#setting-theme", Select).value = "nord"  # type: ignore[union-attr]
        screen.query_one("#setting-sort", Select).value = "size"  # type: ignore[union-attr]
        screen.query_one("#setting-reverse", Checkbox).value = True  # type: ignore[union-attr]
        screen.query_one("#setting-columns", SelectionList).deselect("perms")  # type: ignore[union-attr]
        screen.query_one("#setting-pane", Select).value = "processes"  # type: ignore[union-attr]
        await pilot.pause(0)
        screen.query_one("#setting-columns", SelectionList).deselect("command")  # type: ignore[union-attr]
        screen.query_one("#save", Button).press()  # type: ignore[union-attr]
        await notified(pilot, app, f"Saved to {path}")
        shm = table(app, "shm")
        assert (app.interval, app.theme) == (1.0, "nord")
        assert (shm.sort_column, shm.sort_reverse) == ("size", True) and "perms" not in shm.shown_keys
    saved = load(path)
    assert saved == Settings(1.0, "nord", {"shm": PaneSettings("size", True, ("perms",)),
                                           "processes": PaneSettings("process", False, ("command",))})  # fmt: skip

    again = fixture_app(settings=saved)  # as `ipctop` reads it at start (its interval given by the command line)
    async with again.run_test(size=(200, 40)) as pilot:
        await play_fixture(pilot)
        shm = table(again, "shm")
        assert again.theme == "nord"
        assert (shm.sort_column, shm.sort_reverse) == ("size", True)
        assert "perms" not in shm.shown_keys and "Perms" not in screen_text(again)
        assert "command" not in table(again, "processes").shown_keys


@run_async
async def test_apply_and_cancel_save_nothing_and_a_file_from_another_version_is_named(tmp_path):
    path = tmp_path / "config.toml"
    odd = Settings(None, None, {"shm": PaneSettings("gone", False, ("perms", "nope")), "posix": PaneSettings()})
    app = fixture_app(settings=odd, settings_path=path)
    async with app.run_test(size=(200, 40)) as pilot:
        await play_fixture(pilot)
        await notified(pilot, app, "Settings left out: pane shm has no column 'gone'")
        assert table(app, "shm").sort_column == "shmid" and "perms" not in table(app, "shm").shown_keys
        await pilot.press("f2")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen)
        screen.query_one("#setting-columns", SelectionList).select("perms")  # type: ignore[union-attr]
        screen.query_one("#apply", Button).press()  # type: ignore[union-attr]
        await wait_for(pilot, lambda: "perms" in table(app, "shm").shown_keys)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
    assert not path.exists()


@run_async
async def test_e_exports_the_rows_as_shown_as_text_or_json_and_never_overwrites(tmp_path):
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await play_fixture(pilot)
        await pilot.press("4", "slash", *"pipe", "enter")  # the pipes pane, filtered: the FIFO is left out
        form = await open_form(pilot, app, "E", ExportForm)
        assert "Export the 5 rows of pane Pipes" in str(form.form_title)
        text_file = tmp_path / "pipes.txt"
        await fill_and_submit(pilot, form, path=str(text_file))
        await notified(pilot, app, f"Wrote 5 rows of Pipes to {text_file}")
        lines = text_file.read_text().splitlines()
        assert lines[0].split()[0] == "Pipe/FIFO" and len(lines) == 6
        assert any("sleep[2101] ━▶ sleep[2102] ─▷ sleep[2103]" in line for line in lines)  # whole, never cut

        form = await open_form(pilot, app, "E", ExportForm)
        await pilot.click("#choice-format RadioButton:last-of-type")
        json_file = tmp_path / "pipes.json"
        await fill_and_submit(pilot, form, path=str(json_file))
        await notified(pilot, app, f"to {json_file}")
        document = json.loads(json_file.read_text())
        assert (document["pane"], document["filter"], len(document["rows"])) == ("pipes", "pipe", 5)
        first = document["rows"][0]
        assert set(first["cells"]) == {column["key"] for column in document["columns"]}
        assert first["object"]["inode"] == int(first["cells"]["name"])  # the object as `ipctop list --json` has it

        form = await open_form(pilot, app, "E", ExportForm)
        await fill_and_submit(pilot, form, path=str(text_file))
        await notified(pilot, app, "exists already: choose another name")
        assert len(text_file.read_text().splitlines()) == 6
