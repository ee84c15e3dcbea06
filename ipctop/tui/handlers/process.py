"""The keys of the process pane: send a signal (TERM unless another is chosen) after a confirmation,
to the selected process or every tagged one; show the tree or a flat list; fold a subtree."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ipctop.actions.confirmations import kill_several_text, kill_text
from ipctop.actions.operations import perform
from ipctop.actions.requests import KillRequest
from ipctop.actions.validators import ValidationError, check_may_signal
from ipctop.kernel.errors import IpcError
from ipctop.model import Process
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import open_form, sentence, untag
from ipctop.tui.registry import ActionSpec

if TYPE_CHECKING:
    from ipctop.tui.panes.processes import ProcessesPane

PROCESSES = frozenset({"processes"})


def send_signal(ctx: ActionContext) -> None:
    from ipctop.tui.forms import KillForm

    if ctx.tagged:
        signal_tagged(ctx)
        return
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


def signal_tagged(ctx: ActionContext) -> None:
    """One signal to every tagged process, after one confirmation naming each; init, ipctop and its
    parent are left out and named."""
    from ipctop.tui.forms import KillForm

    processes, refused = [], []
    for process in ctx.tagged:
        if not isinstance(process, Process):
            continue
        try:
            check_may_signal(process.pid)
        except ValidationError as error:
            refused.append(error.problem)
            continue
        processes.append(process)
    if not processes:
        ctx.fail(f"No signal sent: {'; '.join(refused)}." if refused else "No process is tagged.")
        return
    after = f"Left out: {'; '.join(refused)}." if refused else ""

    def send_all(signum: int) -> None:
        if ctx.readonly:
            ctx.fail("ipctop runs with --readonly: nothing may be changed.")
            return
        sent, failures = [], []
        for process in processes:
            try:
                perform(KillRequest(process.pid, signum), ctx.holdings)
            except IpcError as error:
                failures.append(sentence(str(error)))
                continue
            sent.append(f"{process.comm}[{process.pid}]")
        untag(ctx)
        text = f"Sent it to {', '.join(sent)}." if sent else ""
        ctx.notify(" ".join([text, *failures]).strip(), severity="warning" if failures else "information")
        ctx.refresh_now()

    def confirm(request: KillRequest) -> None:
        question = kill_several_text(request.signal, processes) + (f"\n\n{after}" if after else "")
        ctx.confirm(question, lambda: send_all(request.signal))

    open_form(ctx, KillForm(0, title=f"Send a signal to the {len(processes)} tagged processes"), confirm)


def _pane(ctx: ActionContext) -> ProcessesPane:
    from ipctop.tui.panes.processes import ProcessesPane

    pane = ctx.app.main_screen.pane("processes")
    assert isinstance(pane, ProcessesPane)
    return pane


def toggle_tree(ctx: ActionContext) -> None:
    shown = _pane(ctx).toggle_tree()
    ctx.notify("A tree by parent: ← folds a process's children, → unfolds them." if shown
               else "A flat list, sorted by the column chosen (< > F6).", timeout=4)  # fmt: skip


def fold(ctx: ActionContext) -> None:
    _pane(ctx).fold(True)


def unfold(ctx: ActionContext) -> None:
    _pane(ctx).fold(False)


ACTIONS = (
    ActionSpec("process.kill", "f9,K", "Signal", send_signal, panes=PROCESSES, mutates=True, show=True,
               needs_selection=True, tagged=True, key_display="F9",
               help="Send a signal to the process, or to every tagged one (TERM, or INT, HUP, QUIT, KILL, STOP, "
                    "CONT, USR1, USR2), after a confirmation"),
    ActionSpec("process.tree", "t,f5", "Tree", toggle_tree, panes=PROCESSES, show=True, key_display="t",
               help="Show the processes as a tree by parent, or as a flat list"),
    ActionSpec("process.fold", "left", "Fold", fold, panes=PROCESSES, key_display="←",
               help="In the tree: fold the selected process's children under it (on a process without "
                    "children: go to its parent)"),
    ActionSpec("process.unfold", "right", "Unfold", unfold, panes=PROCESSES, key_display="→",
               help="In the tree: unfold the selected process's children"),
)  # fmt: skip
