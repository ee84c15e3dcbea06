"""F2 (htop's Setup): the refresh interval, the theme, and each pane's sort and visible columns.

Save applies them and writes them to the settings file (ipctop/settings.py), which
the monitor reads when it starts; Apply applies them to this run only; Escape or
Cancel changes nothing.  Dismisses with (Settings, saved?) or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from ipctop.settings import PaneSettings, Settings


@dataclass(frozen=True, slots=True)
class PaneChoices:
    """What the screen offers for one pane: its columns (key, label) and default sort."""

    pane_id: str
    title: str
    columns: tuple[tuple[str, str], ...]
    default_sort: str
    default_reverse: bool


class SettingsScreen(ModalScreen[tuple[Settings, bool] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > #dialog {
        width: 72; height: auto; max-height: 100%; overflow-y: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SettingsScreen .form-title { text-style: bold; margin-bottom: 1; }
    SettingsScreen .field { height: auto; }
    SettingsScreen .field > Label { width: 16; padding-top: 0; }
    SettingsScreen .field > Select { width: 1fr; }
    SettingsScreen Checkbox { border: none; padding: 0; margin-left: 16; width: auto; }
    SettingsScreen SelectionList { height: auto; max-height: 12; border: none; padding: 0; margin-left: 16; }
    SettingsScreen .note { color: $text-muted; margin-top: 1; }
    SettingsScreen #buttons { height: 1; margin-top: 1; align-horizontal: right; }
    SettingsScreen #buttons > Button { margin-left: 2; }
    """

    def __init__(
        self,
        current: Settings,
        panes: Sequence[PaneChoices],
        themes: Sequence[str],
        intervals: Sequence[float],
        path: Path | None,
        pane_id: str | None = None,
    ) -> None:
        super().__init__()
        self.panes = {choice.pane_id: choice for choice in panes}
        self.edits: dict[str, PaneSettings] = {
            choice.pane_id: _filled(current.pane(choice.pane_id), choice) for choice in panes
        }
        self.interval = current.interval
        self.theme = current.theme
        self.themes = list(themes)
        self.intervals = sorted({*intervals, *([current.interval] if current.interval else [])})
        self.path = path
        self.pane_id = pane_id if pane_id in self.panes else next(iter(self.panes))

    def compose(self) -> ComposeResult:
        choice = self.panes[self.pane_id]
        edit = self.edits[self.pane_id]
        with Vertical(id="dialog"):
            yield Static("Settings", classes="form-title")
            yield Horizontal(
                Label("Refresh every"),
                Select([(f"{seconds:g} s", seconds) for seconds in self.intervals], value=self.interval or 2.0,
                       allow_blank=False, id="setting-interval", compact=True),  # fmt: skip
                classes="field",
            )
            yield Horizontal(
                Label("Theme"),
                Select([(name, name) for name in self.themes], value=self.theme or self.themes[0],
                       allow_blank=False, id="setting-theme", compact=True),  # fmt: skip
                classes="field",
            )
            yield Horizontal(
                Label("Pane"),
                Select([(f"{number} {c.title}", c.pane_id) for number, c in enumerate(self.panes.values(), 1)],
                       value=self.pane_id, allow_blank=False, id="setting-pane", compact=True),  # fmt: skip
                classes="field",
            )
            yield Horizontal(
                Label("Sort by"),
                Select([(label, key) for key, label in choice.columns], value=edit.sort or choice.default_sort,
                       allow_blank=False, id="setting-sort", compact=True),  # fmt: skip
                classes="field",
            )
            yield Checkbox("in reverse order", value=edit.reverse, id="setting-reverse", compact=True)
            yield Label("Columns shown (Space ticks; the first is always shown)", classes="field")
            yield SelectionList[str](*self._column_choices(choice, edit), id="setting-columns", compact=True)
            where = f"Save writes {self.path}, read when ipctop starts (--no-config skips it)." if self.path \
                else "This monitor has no settings file: Apply only."  # fmt: skip
            yield Static(where, classes="note", markup=False)
            with Horizontal(id="buttons"):
                if self.path is not None:
                    yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Apply", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _column_choices(self, choice: PaneChoices, edit: PaneSettings) -> list[Selection[str]]:
        first = choice.columns[0][0]
        return [
            Selection(label, key, key not in edit.hidden, disabled=key == first) for key, label in choice.columns
        ]

    # --- keeping the edits of each pane ------------------------------------------------------

    def _keep_pane_edits(self) -> None:
        sort = self.query_one("#setting-sort", Select).value
        shown = set(self.query_one("#setting-columns", SelectionList).selected)
        choice = self.panes[self.pane_id]
        hidden = tuple(key for key, _ in choice.columns if key not in shown and key != choice.columns[0][0])
        reverse = self.query_one("#setting-reverse", Checkbox).value
        self.edits[self.pane_id] = PaneSettings(sort if isinstance(sort, str) else choice.default_sort, reverse, hidden)

    @on(Select.Changed, "#setting-pane")
    def _pane_chosen(self, event: Select.Changed) -> None:
        if event.value == self.pane_id or not isinstance(event.value, str):
            return
        self._keep_pane_edits()
        self.pane_id = event.value
        choice, edit = self.panes[self.pane_id], self.edits[self.pane_id]
        sort = self.query_one("#setting-sort", Select)
        sort.set_options([(label, key) for key, label in choice.columns])
        sort.value = edit.sort or choice.default_sort
        self.query_one("#setting-reverse", Checkbox).value = edit.reverse
        columns = self.query_one("#setting-columns", SelectionList)
        columns.clear_options()
        columns.add_options(self._column_choices(choice, edit))

    def settings(self) -> Settings:
        """What the screen shows now."""
        self._keep_pane_edits()
        interval = self.query_one("#setting-interval", Select).value
        theme = self.query_one("#setting-theme", Select).value
        panes = {pane_id: edit for pane_id, edit in self.edits.items() if edit != _default(self.panes[pane_id])}
        return Settings(
            interval if isinstance(interval, float | int) else None, theme if isinstance(theme, str) else None, panes
        )

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.dismiss((self.settings(), event.button.id == "save"))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _default(choice: PaneChoices) -> PaneSettings:
    return PaneSettings(choice.default_sort, choice.default_reverse, ())


def _filled(pane: PaneSettings, choice: PaneChoices) -> PaneSettings:
    """A pane's settings with its own default sort where none is saved."""
    if pane.sort is None:
        return PaneSettings(choice.default_sort, choice.default_reverse if pane == PaneSettings() else pane.reverse,
                            pane.hidden)  # fmt: skip
    return pane
