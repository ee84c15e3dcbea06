"""The key of the process pane: send a signal (TERM unless another is chosen), after a confirmation."""

from __future__ import annotations

import os

from ipctop.actions.confirmations import kill_text
from ipctop.actions.requests import KillRequest
from ipctop.actions.validators import ValidationError, check_may_signal
from ipctop.model import Process
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import open_form
from ipctop.tui.registry import ActionSpec


def send_signal(ctx: ActionContext) -> None:
    from ipctop.tui.forms import KillForm

    process = ctx.selected
    if not isinstance(process, Process):
        return
    if process.pid == os.getpid():
        ctx.fail(f"Process {process.pid} is ipctop itself: q quits it.")
        return
    try:
        check_may_signal(process.pid)  # init, or the shell ipctop runs in
    except ValidationError as error:
        ctx.fail(f"No signal sent: {error.problem}.")
        return

    def confirm(request: KillRequest) -> None:
        ctx.confirm(kill_text(request.pid, request.signal, process), lambda: ctx.perform(request))

    open_form(ctx, KillForm(process.pid, process.comm), confirm)


ACTIONS = (
    ActionSpec("process.kill", "k", "Signal", send_signal, panes=frozenset({"processes"}), mutates=True,
               show=True, needs_selection=True,
               help="Send a signal to the process (TERM, or INT, HUP, QUIT, KILL, STOP, CONT, USR1, USR2)"),
)  # fmt: skip
