"""The monitor's saved settings: the refresh interval, the theme, and each pane's sort and hidden columns.

They live in one TOML file at the XDG place, `$XDG_CONFIG_HOME/ipctop/config.toml`
(`~/.config/ipctop/config.toml` when XDG_CONFIG_HOME is not set), written by the
monitor's settings screen (F2) and read when the monitor starts (`--no-config`
skips it; `-d` given on the command line wins over the saved interval)::

    interval = 1.0
    theme = "gruvbox"

    [panes.shm]
    sort = "size"
    reverse = true
    hidden = ["perms", "creator"]

A file that cannot be read or parsed is an error with one sentence naming it; a
pane or column that the monitor does not have (a file from another version) is
left out with a word (`Settings.problems`).  Pure: no textual.
"""

from __future__ import annotations

import math
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

INTERVAL_RANGE = (0.1, 3600.0)
INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)  # `+` and `-` step along these


class SettingsError(Exception):
    """The settings file cannot be used: `str()` is one sentence naming the file and the problem."""


@dataclass(frozen=True, slots=True)
class PaneSettings:
    sort: str | None = None  # a column key; None: the pane's own default
    reverse: bool = False
    hidden: tuple[str, ...] = ()  # column keys the user chose not to see


@dataclass(frozen=True, slots=True)
class Settings:
    interval: float | None = None  # seconds between scans; None: the default (2)
    theme: str | None = None  # a Textual theme's name; None: the default
    panes: Mapping[str, PaneSettings] = field(default_factory=dict)

    def pane(self, pane_id: str) -> PaneSettings:
        return self.panes.get(pane_id, PaneSettings())

    def problems(self, columns: Mapping[str, Sequence[str]], themes: Sequence[str] = ()) -> list[str]:
        """What of these settings the monitor has no use for: panes, columns or a theme it does not have
        (`columns`: pane id -> its column keys)."""
        found = []
        if self.theme is not None and themes and self.theme not in themes:
            found.append(f"there is no theme {self.theme!r}")
        for pane_id, pane in self.panes.items():
            if pane_id not in columns:
                found.append(f"there is no pane {pane_id!r}")
                continue
            for key in (*([pane.sort] if pane.sort else []), *pane.hidden):
                if key not in columns[pane_id]:
                    found.append(f"pane {pane_id} has no column {key!r}")
        return found


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the settings are: under $XDG_CONFIG_HOME if set (and absolute, as the spec asks), else ~/.config."""
    base = environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path(environ.get("HOME") or Path.home()) / ".config"
    return root / "ipctop" / "config.toml"


def load(path: Path) -> Settings:
    """The settings in `path`; the defaults if there is no such file; SettingsError if it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read the settings file {path}: {_reason(error)}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"the settings file {path} is not valid TOML: {error}") from None
    try:
        return parse(data)
    except ValueError as error:
        raise SettingsError(f"the settings file {path}: {error}") from None


def parse(data: Mapping[str, object]) -> Settings:
    """Settings from the file's tables; ValueError (one clause) for a value of the wrong kind."""
    unknown = set(data) - {"interval", "theme", "panes"}
    if unknown:
        raise ValueError(f"unknown setting {sorted(unknown)[0]!r} (there are interval, theme and [panes.*])")
    interval = data.get("interval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | float) or not math.isfinite(interval) \
                or not INTERVAL_RANGE[0] <= interval <= INTERVAL_RANGE[1]:  # fmt: skip
            raise ValueError(f"interval must be a number of seconds from {INTERVAL_RANGE[0]:g} to "
                             f"{INTERVAL_RANGE[1]:g}, not {interval!r}")  # fmt: skip
        interval = float(interval)
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ValueError(f"theme must be a theme's name in quotes, not {theme!r}")
    panes_table = data.get("panes", {})
    if not isinstance(panes_table, dict):
        raise ValueError("panes must be tables: [panes.shm], [panes.processes]…")
    panes = {}
    for pane_id, table in panes_table.items():
        if not isinstance(table, dict):
            raise ValueError(f"panes.{pane_id} must be a table")
        extra = set(table) - {"sort", "reverse", "hidden"}
        if extra:
            raise ValueError(f"unknown setting panes.{pane_id}.{sorted(extra)[0]} (there are sort, reverse, hidden)")
        sort, reverse, hidden = table.get("sort"), table.get("reverse", False), table.get("hidden", [])
        if sort is not None and not isinstance(sort, str):
            raise ValueError(f"panes.{pane_id}.sort must be a column's name in quotes")
        if not isinstance(reverse, bool):
            raise ValueError(f"panes.{pane_id}.reverse must be true or false")
        if not isinstance(hidden, list) or not all(isinstance(key, str) for key in hidden):
            raise ValueError(f'panes.{pane_id}.hidden must be a list of column names: ["perms", "creator"]')
        panes[pane_id] = PaneSettings(sort, reverse, tuple(hidden))
    return Settings(interval, theme, panes)


def dumps(settings: Settings) -> str:
    """The TOML text of `settings` (what `parse(tomllib.loads(...))` reads back the same)."""
    lines = ["# ipctop's settings, written by its settings screen (F2); read when the monitor starts."]
    if settings.interval is not None:
        lines.append(f"interval = {settings.interval!r}")
    if settings.theme is not None:
        lines.append(f"theme = {_string(settings.theme)}")
    for pane_id, pane in settings.panes.items():
        lines += ["", f"[panes.{pane_id}]"]
        if pane.sort is not None:
            lines.append(f"sort = {_string(pane.sort)}")
        lines.append(f"reverse = {'true' if pane.reverse else 'false'}")
        lines.append(f"hidden = [{', '.join(_string(key) for key in pane.hidden)}]")
    return "\n".join(lines) + "\n"


def save(settings: Settings, path: Path) -> None:
    """Write `settings` to `path` whole or not at all (a temporary file renamed over it); SettingsError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(dumps(settings))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise SettingsError(f"cannot write the settings file {path}: {_reason(error)}") from None


def _string(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped) + '"'


def _reason(error: Exception) -> str:
    return error.strerror.lower() if isinstance(error, OSError) and error.strerror else str(error)
