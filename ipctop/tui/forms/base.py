"""What every form shares: the dialog frame, labelled inputs with an error line
under each, OK / Cancel, and the key choice of the create forms.

A form validates with ipctop.actions.validators when the user submits (Enter in
an input, or OK; in a form of choices only, Enter on a choice picks it and
submits): a ValidationError is shown next to the field it names and the form
stays open; otherwise it dismisses with a typed request.  Escape or Cancel
dismisses with None.  Forms never call the kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from ipctop.actions import validators
from ipctop.actions.validators import ValidationError

RequestT = TypeVar("RequestT")

KEY_KINDS = ("key", "ftok", "private")


def slug(field: str) -> str:
    """The id fragment of a field name: 'ftok project id' -> 'ftok-project-id'."""
    return re.sub(r"[^a-z0-9]+", "-", field.lower()).strip("-") or "form"


class FormScreen(ModalScreen[RequestT | None], Generic[RequestT]):
    """A modal form; subclasses give `form_title`, `compose_fields` and `build_request`."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False),
        # Before the RadioSet's own Enter (which only picks); check_action lets it through elsewhere.
        Binding("enter", "pick_and_submit", "OK", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > #dialog {
        width: 80; height: auto; max-height: 100%; overflow-y: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    FormScreen .form-title { text-style: bold; width: 100%; margin-bottom: 1; }
    FormScreen .field { height: 1; margin-top: 1; }
    FormScreen .field > .field-label { width: 16; }
    FormScreen .field > Input { width: 1fr; }
    FormScreen .hint { color: $text-muted; padding-left: 16; }
    FormScreen .note { color: $text-muted; width: 100%; margin-top: 1; }
    /* A placeholder is a hint in italics, never a grey value one might take for what is sent. */
    FormScreen Input > .input--placeholder { text-style: italic; }
    FormScreen .field-error { color: $error; display: none; padding-left: 16; }
    FormScreen .field-error.-shown { display: block; }
    FormScreen RadioSet, FormScreen Checkbox { border: none; padding: 0; width: 100%; margin-top: 1; }
    FormScreen RadioSet:focus, FormScreen Checkbox:focus { border: none; }
    FormScreen #buttons { height: 1; margin-top: 1; align-horizontal: right; }
    FormScreen #buttons > Button { margin-left: 2; }
    """

    form_title = ""
    _submit_when_picked: RadioSet | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.form_title, classes="form-title", markup=False)
            yield from self.compose_fields()
            yield self.error_line("form")
            with Horizontal(id="buttons"):
                yield Button("OK", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def compose_fields(self) -> ComposeResult:
        raise NotImplementedError

    def build_request(self) -> RequestT:
        """The typed request from the fields, or ValidationError."""
        raise NotImplementedError

    # --- building blocks for compose_fields --------------------------------

    @staticmethod
    def error_line(field: str) -> Static:
        return Static("", id=f"error-{slug(field)}", classes="field-error", markup=False)

    def input_field(
        self, field: str, label: str, value: str = "", placeholder: str = "", hint: str = ""
    ) -> Iterator[Widget]:
        yield Horizontal(
            Label(label, classes="field-label", markup=False),
            Input(value=value, placeholder=placeholder, id=f"input-{slug(field)}", compact=True),
            classes="field",
        )
        if hint:
            yield Static(hint, classes="hint", markup=False)
        yield self.error_line(field)

    @staticmethod
    def checkbox(field: str, label: str, value: bool = False) -> Checkbox:
        return Checkbox(label, value=value, id=f"check-{slug(field)}")

    def text(self, field: str) -> str:
        return self.query_one(f"#input-{slug(field)}", Input).value

    def checked(self, field: str) -> bool:
        return self.query_one(f"#check-{slug(field)}", Checkbox).value

    def choice(self, field: str) -> int:
        return self.query_one(f"#choice-{slug(field)}", RadioSet).pressed_index

    # --- submitting --------------------------------------------------------

    def submit(self) -> None:
        self.clear_errors()
        try:
            request = self.build_request()
        except ValidationError as error:
            self.show_error(error)
            return
        self.dismiss(request)

    def show_error(self, error: ValidationError) -> None:
        field = slug(error.field)
        lines = self.query(f"#error-{field}")
        line = lines.first(Static) if lines else self.query_one("#error-form", Static)
        line.update(str(error))
        line.add_class("-shown")
        inputs = self.query(f"#input-{field}")
        if inputs:
            inputs.first(Input).focus()

    def clear_errors(self) -> None:
        for line in self.query(".field-error").results(Static):
            line.update("")
            line.remove_class("-shown")

    def shown_errors(self) -> dict[str, str]:
        """Field id -> the message shown next to it (for tests and screenshots)."""
        return {
            str(line.id).removeprefix("error-"): str(line.content)
            for line in self.query(".field-error.-shown").results(Static)
        }

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#ok")
    def _on_ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#cancel")
    def _on_cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    # --- Enter in a form of choices only -----------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_and_submit":
            # Where there is text to type, Enter submits from an input and a choice is picked on its own.
            return isinstance(self.focused, RadioSet) and not self.query(Input)
        return True

    def action_pick_and_submit(self) -> None:
        choices = self.focused
        assert isinstance(choices, RadioSet)
        highlighted = choices._selected  # the button under the cursor, which Enter picks (no public name)
        if highlighted is not None and choices._nodes[highlighted] is not choices.pressed_button:
            self._submit_when_picked = choices
            choices.action_toggle_button()  # the RadioSet says Changed once it holds the new choice
            return
        self.submit()

    @on(RadioSet.Changed)
    def _on_picked(self, event: RadioSet.Changed) -> None:
        if event.radio_set is self._submit_when_picked:
            self._submit_when_picked = None
            self.submit()


class KeyedFormScreen(FormScreen[RequestT]):
    """A create form: the key as hex or decimal, from ftok(path, project id), or IPC_PRIVATE."""

    def key_fields(self) -> ComposeResult:
        with RadioSet(id="choice-key-kind"):
            yield RadioButton("a key, hex (0x1234) or decimal", value=True)
            yield RadioButton("ftok(path, project id)")
            yield RadioButton("IPC_PRIVATE: a new private object")
        yield Horizontal(
            Label("Key", classes="field-label"), Input(placeholder="e.g. 0x1234", id="input-key", compact=True),
            classes="field",
        )
        yield self.error_line("key")
        yield Horizontal(
            Label("ftok", classes="field-label"),
            Input(placeholder="path of an existing file", id="input-ftok-path", disabled=True, compact=True),
            Input(placeholder="project id 1..255 or A", id="input-ftok-project-id", disabled=True, compact=True),
            classes="field",
        )
        yield self.error_line("ftok path")
        yield self.error_line("ftok project id")

    def mode_and_excl(self, mode: str = "600") -> ComposeResult:
        yield from self.input_field("mode", "Mode (octal)", value=mode, placeholder="e.g. 600")
        yield self.checkbox("excl", "IPC_EXCL: fail if an object with this key exists")

    @on(RadioSet.Changed, "#choice-key-kind")
    def _on_key_kind(self, event: RadioSet.Changed) -> None:
        kind = KEY_KINDS[event.index]
        self.query_one("#input-key", Input).disabled = kind != "key"
        for name in ("#input-ftok-path", "#input-ftok-project-id"):
            self.query_one(name, Input).disabled = kind != "ftok"
        self.query_one("#check-excl", Checkbox).disabled = kind == "private"

    def key_value(self) -> int:
        """The key chosen; 0 (IPC_PRIVATE) for a private object."""
        kind = KEY_KINDS[max(self.choice("key kind"), 0)]
        if kind == "key":
            return validators.parse_key(self.text("key"), field="key")
        if kind == "ftok":
            return validators.parse_ftok(self.text("ftok path"), self.text("ftok project id"), field="ftok")
        return 0
