"""Every action of the monitor in one table: keys, Footer, help screen and command palette.

An action is an `ActionSpec`, a small frozen record: an id, its key(s), a short
description, the panes it applies to, whether it changes the system, whether the
Footer shows it, and a handler.  The main screen turns the table into bindings
(`bindings()`); `check_action` consults `is_available()` (so with --readonly every
action with `mutates=True` is hidden and refused); the help screen and the
command palette list the same table.  Nothing else knows the list of actions.

Adding actions (the extension point)
------------------------------------
1. Write a module under ipctop/tui/handlers/, e.g. handlers/shm_actions.py, with
   handler functions taking an `ActionContext` (ipctop/tui/context.py) and a
   module-level tuple `ACTIONS` of `ActionSpec`s::

       from ipctop.kernel import sysv
       from ipctop.model import ShmSegment
       from ipctop.tui.context import ActionContext
       from ipctop.tui.registry import ActionSpec

       def remove_segment(ctx: ActionContext) -> None:
           segment = ctx.selected
           assert isinstance(segment, ShmSegment)
           ctx.confirm(f"Remove segment {segment.shmid}?",
                       lambda: ctx.attempt(lambda: sysv.shm_remove(segment.shmid),
                                           f"Segment {segment.shmid} marked for removal."))

       ACTIONS = (
           ActionSpec("shm.remove", "x", "Remove", remove_segment, panes=frozenset({"shm"}),
                      mutates=True, show=True, needs_selection=True),
       )

2. Append the module's import path to `HANDLER_MODULES` below.  That is all:
   app.py and the screens do not change.  (The table is read when
   ipctop.tui.screens.main is imported, to build its bindings: a handler module
   must import screens and forms inside its functions, not at its top.)

A handler may be a plain function or a coroutine function.  From the context it
reads `ctx.selected` (the typed model object under the cursor of `ctx.pane_id`:
ShmSegment, MsgQueue, SemSet, Pipe, Fifo, Process, or an Event in the events
pane), `ctx.tagged` (the objects of the rows tagged with Space: an action declared
`tagged=True` then acts on all of them), `ctx.snapshot`, and uses `ctx.notify`/`ctx.fail`, `ctx.refresh_now()`,
`ctx.confirm(question, then)`, `ctx.push_screen(form, callback)` (for the forms
in ipctop/tui/forms/, which dismiss with a request or None), `ctx.attempt(call,
done)` (a quick kernel call whose IpcError becomes one error sentence, refreshing
on success) and `ctx.run_in_thread(call, errors=(...))` for calls that may block
(e.g. `lambda: perform(request, holdings, cancel)`; its Outcome.message is shown).
A form handler thus reads::

    def send_message(ctx: ActionContext) -> None:
        from ipctop.tui.forms import MsgSendForm

        def submitted(request) -> None:
            if request is not None:
                ctx.run_in_thread(lambda: perform(request, ctx.app.holdings), errors=(IpcError, HoldingError))

        ctx.push_screen(MsgSendForm(...), submitted)

Mutating actions are refused by the registry under --readonly before a handler
runs; `attempt` and `run_in_thread` refuse again, as a second line.
The same key may be used by several actions when their panes do not overlap
(e.g. `x` removes a segment in pane 1 and a queue in pane 2); `all_actions()`
refuses a key bound twice in one pane and an id used twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

from textual.binding import Binding

from ipctop.tui.context import ActionContext

Handler = Callable[[ActionContext], "object | Awaitable[object]"]

# Modules with an `ACTIONS` tuple, in the order their actions appear in help and palette.
HANDLER_MODULES: list[str] = [
    "ipctop.tui.handlers.view",
    "ipctop.tui.handlers.shm", "ipctop.tui.handlers.msg", "ipctop.tui.handlers.sem", "ipctop.tui.handlers.process",
    "ipctop.tui.handlers.demos",
    "ipctop.tui.handlers.leaks",
    "ipctop.tui.handlers.posix",  # pane 8
]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    id: str  # unique, "area.verb": "view.pause", "shm.remove"
    key: str  # Textual key names, comma-separated ("question_mark,f1"); "" for palette-only actions
    description: str  # short: the Footer and the palette show it
    handler: Handler
    panes: frozenset[str] = frozenset()  # pane ids it applies to; empty means every pane
    mutates: bool = False  # changes the system: hidden and refused with --readonly
    show: bool = False  # shown in the Footer
    needs_selection: bool = False  # shown but disabled while no row is selected
    help: str = ""  # one sentence for the help screen and the palette
    key_display: str | None = None  # how the Footer and help print the key, if not the key itself
    priority: bool = False  # taken before the focused widget sees the key (also while typing in an Input)
    tagged: bool = False  # acts on every tagged row when rows are tagged (Space): usable without a selection

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.key.split(",") if k.strip())

    def applies_to(self, pane_id: str) -> bool:
        return not self.panes or pane_id in self.panes


@cache
def all_actions() -> tuple[ActionSpec, ...]:
    specs: list[ActionSpec] = []
    for name in HANDLER_MODULES:
        specs.extend(importlib.import_module(name).ACTIONS)
    _check_unique(specs)
    return tuple(specs)


def _check_unique(specs: list[ActionSpec]) -> None:
    seen: dict[str, ActionSpec] = {}
    for spec in specs:
        if spec.id in seen:
            raise ValueError(f"action id {spec.id!r} is registered twice")
        seen[spec.id] = spec
    for i, spec in enumerate(specs):
        for other in specs[:i]:
            shared = set(spec.keys) & set(other.keys)
            overlap = not spec.panes or not other.panes or spec.panes & other.panes
            if shared and overlap:
                raise ValueError(f"key {sorted(shared)[0]!r} is bound to both {other.id!r} and {spec.id!r}")


def get_action(action_id: str) -> ActionSpec:
    for spec in all_actions():
        if spec.id == action_id:
            return spec
    raise KeyError(action_id)


def action_string(spec: ActionSpec) -> str:
    """The Textual action a binding runs on the main screen for `spec`."""
    return f"do({spec.id!r})"


def bindings() -> list[Binding]:
    return [
        Binding(
            key,
            action_string(spec),
            spec.description,
            show=spec.show and index == 0,
            key_display=spec.key_display if index == 0 else None,
            id=spec.id if index == 0 else f"{spec.id}#{index}",
            priority=spec.priority,
        )
        for spec in all_actions()
        for index, key in enumerate(spec.keys)
    ]


def is_available(
    spec: ActionSpec, pane_id: str, has_selection: bool, readonly: bool, has_tags: bool = False
) -> bool | None:
    """True: usable; None: shown but disabled (nothing selected); False: hidden here."""
    if spec.mutates and readonly:
        return False
    if not spec.applies_to(pane_id):
        return False
    if spec.needs_selection and not has_selection and not (spec.tagged and has_tags):
        return None
    return True
