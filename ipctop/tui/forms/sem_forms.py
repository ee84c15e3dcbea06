"""Forms for semaphore sets: create, an operation on one semaphore, set one value."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet

from ipctop.actions import validators
from ipctop.actions.requests import SemCreateRequest, SemOpRequest, SemSetRequest
from ipctop.model import Limits
from ipctop.render.formatting import count
from ipctop.tui.forms.base import FormScreen, KeyedFormScreen


class SemCreateForm(KeyedFormScreen[SemCreateRequest]):
    """semget with IPC_CREAT, then SETALL: key, number of semaphores, initial values, mode, IPC_EXCL."""

    form_title = "Create a semaphore set"

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__()
        self.limits = limits

    def compose_fields(self) -> ComposeResult:
        yield from self.key_fields()
        semmsl = validators.current_limits(self.limits).semmsl
        yield from self.input_field("semaphores", "Semaphores", value="1", hint=f"1..semmsl ({semmsl})")
        yield from self.input_field("values", "Initial values", placeholder="e.g. 1,0,0",
                                    hint="one per semaphore, comma-separated, each 0..32767; empty: all 0")
        yield from self.mode_and_excl()

    def build_request(self) -> SemCreateRequest:
        key = self.key_value()
        nsems = validators.parse_nsems(self.text("semaphores"), self.limits, field="semaphores")
        text = self.text("values")
        values = validators.parse_sem_values(text, self.limits, field="values") if text.strip() else [0] * nsems
        if len(values) != nsems:
            raise validators.ValidationError(
                "values", f"{count(len(values), 'value')} for {count(nsems, 'semaphore')}; give one value per semaphore"
            )
        mode = validators.parse_mode(self.text("mode"), field="mode")
        return SemCreateRequest(key, tuple(values), mode, excl=self.checked("excl") and key != 0)


class SemOpForm(FormScreen[SemOpRequest]):
    """semop on one semaphore: add (> 0), take (< 0) or wait for zero (0); wait or IPC_NOWAIT."""

    def __init__(self, semid: int, nsems: int, index: int = 0) -> None:
        super().__init__()
        self.semid = semid
        self.nsems = nsems
        self.initial_index = index
        self.form_title = f"Operate on semaphore set {semid} ({count(nsems, 'semaphore')})"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("index", "Index", value=str(self.initial_index), hint=f"0..{self.nsems - 1}")
        yield from self.input_field("delta", "Change", value="-1",
                                    hint="> 0 adds; < 0 takes, waiting until the value is large enough; "
                                    "0 waits until the value is 0")
        yield RadioSet(RadioButton("wait until it can be done", value=True),
                       RadioButton("IPC_NOWAIT: fail with EAGAIN instead of waiting"), id="choice-wait")

    def build_request(self) -> SemOpRequest:
        index = validators.parse_sem_index(self.text("index"), self.nsems, field="index")
        delta = validators.parse_sem_delta(self.text("delta"), field="delta")
        return SemOpRequest(self.semid, index, delta, nowait=self.choice("wait") == 1)


class SemSetForm(FormScreen[SemSetRequest]):
    """SETVAL: one semaphore's new value, 0..SEMVMX."""

    def __init__(self, semid: int, nsems: int, index: int = 0, value: int | None = None) -> None:
        super().__init__()
        self.semid = semid
        self.nsems = nsems
        self.initial_index = index
        self.initial_value = value
        self.form_title = f"Set a value in semaphore set {semid} ({count(nsems, 'semaphore')})"

    def compose_fields(self) -> ComposeResult:
        yield from self.input_field("index", "Index", value=str(self.initial_index), hint=f"0..{self.nsems - 1}")
        value = "" if self.initial_value is None else str(self.initial_value)
        yield from self.input_field("value", "Value", value=value, placeholder="e.g. 0", hint=f"0..{validators.SEMVMX}")

    def build_request(self) -> SemSetRequest:
        index = validators.parse_sem_index(self.text("index"), self.nsems, field="index")
        value = validators.parse_sem_value(self.text("value"), field="value")
        return SemSetRequest(self.semid, index, value)
