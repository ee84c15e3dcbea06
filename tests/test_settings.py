"""The settings file: where it is, what it may say, and that what is saved reads back the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipctop.cli.main import main
from ipctop.settings import PaneSettings, Settings, SettingsError, config_path, dumps, load, save


def test_it_lives_at_the_xdg_place():
    assert config_path({"XDG_CONFIG_HOME": "/x/conf", "HOME": "/home/a"}) == Path("/x/conf/ipctop/config.toml")
    assert config_path({"HOME": "/home/a"}) == Path("/home/a/.config/ipctop/config.toml")
    # A relative XDG_CONFIG_HOME is to be ignored (the XDG Base Directory spec).
    assert config_path({"XDG_CONFIG_HOME": "conf", "HOME": "/home/a"}) == Path("/home/a/.config/ipctop/config.toml")


def test_what_is_saved_reads_back_the_same(tmp_path):
    settings = Settings(
        0.5, 'a "quoted" theme', {"shm": PaneSettings("size", True, ("perms", "creator")), "events": PaneSettings()}
    )
    path = tmp_path / "deep" / "ipctop" / "config.toml"
    save(settings, path)  # the directories are made
    assert load(path) == settings
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    assert load(tmp_path / "none.toml") == Settings()  # no file: the defaults


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("interval = 0", "interval must be a number of seconds from 0.1 to 3600, not 0"),
        ("interval = true", "interval must be a number of seconds"),
        ('theme = 3', "theme must be a theme's name in quotes"),
        ("colour = 1", "unknown setting 'colour'"),
        ("[panes.shm]\nhidden = 'perms'", 'panes.shm.hidden must be a list of column names'),
        ("[panes.shm]\nsort_by = 'size'", "unknown setting panes.shm.sort_by"),
        ("interval = ", "is not valid TOML"),
    ],
)
def test_a_file_that_cannot_be_used_gets_one_sentence_naming_it(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as raised:
        load(path)
    message = str(raised.value)
    assert problem in message and str(path) in message and "\n" not in message


def test_panes_and_columns_the_monitor_does_not_have_are_named():
    settings = Settings(None, "nope", {"shm": PaneSettings("size", False, ("gone",)), "old": PaneSettings()})
    problems = settings.problems({"shm": ["shmid", "size"]}, ["textual-dark"])
    assert problems == ["there is no theme 'nope'", "pane shm has no column 'gone'", "there is no pane 'old'"]


def test_the_monitor_refuses_a_broken_file_in_one_sentence_before_it_starts(tmp_path, monkeypatch, capsys):
    (tmp_path / "ipctop").mkdir()
    (tmp_path / "ipctop" / "config.toml").write_text("interval = -1\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main([]) == 1  # before any terminal is taken over
    error = capsys.readouterr().err.strip()
    assert "interval must be a number" in error and "ipctop --no-config starts without it" in error
    assert len(error.splitlines()) == 1


def test_dumps_writes_only_what_is_set():
    assert dumps(Settings()).splitlines()[1:] == []
    assert "interval = 2.0" in dumps(Settings(2.0))
