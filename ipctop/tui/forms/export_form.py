"""The form of `E`: where to write the current pane's rows, as text or as JSON."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, RadioButton, RadioSet

from ipctop.actions.validators import ValidationError
from ipctop.tui.export import ExportChoice, default_name
from ipctop.tui.forms.base import FormScreen


class ExportForm(FormScreen[ExportChoice]):
    """Dismisses with an ExportChoice: the path (new file) and the format."""

    def __init__(self, pane_id: str, title: str, rows: int, when: float | None = None) -> None:
        super().__init__()
        self.pane_id = pane_id
        self.when = when  # the time of the scan shown: the file's default name says it
        self.form_title = f"Export the {rows} row{'s' if rows != 1 else ''} of pane {title} (filter and sort as shown)"

    def compose_fields(self) -> ComposeResult:
        with RadioSet(id="choice-format"):
            yield RadioButton("Text: the table, every column whole", value=True)
            yield RadioButton("JSON: each row's cells and its object as ipctop list --json gives it")
        yield from self.input_field("path", "File", value=default_name(self.pane_id, False, self.when),
                                    hint="a new file (relative to the directory ipctop was started in)")  # fmt: skip

    @on(RadioSet.Changed, "#choice-format")
    def _format_chosen(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#input-path", Input)
        as_json = event.index == 1
        old, new = (".txt", ".json") if as_json else (".json", ".txt")
        if path.value.endswith(old):
            path.value = path.value[: -len(old)] + new

    def build_request(self) -> ExportChoice:
        path = self.text("path").strip()
        if not path:
            raise ValidationError("path", "name the file to write")
        return ExportChoice(path, self.choice("format") == 1)
