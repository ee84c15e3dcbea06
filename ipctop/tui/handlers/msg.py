"""Keys of the message queue pane: create, send, receive, remove.

A receive that waits for its message (and a send that waits while the queue is
full) blocks in msgrcv (msgsnd) in a worker thread, where other tools see it
wait, and stops when ipctop exits (actions/waiting.py); the received type and
text are shown in a notification.
"""

from __future__ import annotations

from ipctop.actions.confirmations import msg_remove_text
from ipctop.actions.operations import Outcome
from ipctop.actions.requests import MsgReceiveRequest, MsgSendRequest
from ipctop.model import MsgQueue
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import confirm_removal, open_create_form, open_form, remove_tagged, selected, sentence
from ipctop.tui.registry import ActionSpec

MSG = frozenset({"msg"})
RECEIVED_SHOWN_FOR = 15.0  # seconds: a received text is read, not glanced at


def _queue(ctx: ActionContext) -> MsgQueue | None:
    return selected(ctx, MsgQueue)


def create(ctx: ActionContext) -> None:
    from ipctop.tui.forms import MsgCreateForm

    open_create_form(ctx, MsgCreateForm())


def send(ctx: ActionContext) -> None:
    from ipctop.tui.forms import MsgSendForm

    queue = _queue(ctx)
    if queue is None:
        return
    limits = ctx.snapshot.limits if ctx.snapshot else None

    def carry_out(request: MsgSendRequest) -> None:
        ctx.perform(request, waits=not request.nowait)

    open_form(ctx, MsgSendForm(queue.msqid, limits.msgmax if limits else None), carry_out)


def receive(ctx: ActionContext) -> None:
    from ipctop.tui.forms import MsgReceiveForm

    queue = _queue(ctx)
    if queue is None:
        return

    def show(outcome: Outcome) -> None:
        # Longer than the usual notification: the text is read, not glanced at.
        ctx.notify(sentence(outcome.message), timeout=RECEIVED_SHOWN_FOR)

    def carry_out(request: MsgReceiveRequest) -> None:
        if not request.nowait and queue.qnum == 0:
            ctx.notify(f"Waiting for a message on queue {request.msqid}…")
        ctx.perform(request, waits=not request.nowait, report=show)

    open_form(ctx, MsgReceiveForm(queue.msqid), carry_out)


def remove(ctx: ActionContext) -> None:
    if ctx.tagged:
        remove_tagged(ctx)
        return
    queue = _queue(ctx)
    if queue is None:
        return
    confirm_removal(ctx, msg_remove_text(queue, ctx.namespace_name), "msg", queue.msqid)


ACTIONS = (
    ActionSpec("msg.create", "c", "Create", create, panes=MSG, mutates=True, show=True,
               help="Create a message queue (msgget): key, ftok or IPC_PRIVATE, mode, IPC_EXCL"),
    ActionSpec("msg.send", "s", "Send", send, panes=MSG, mutates=True, show=True, needs_selection=True,
               help="Send a message (msgsnd): type and text; wait or IPC_NOWAIT when the queue is full"),
    ActionSpec("msg.receive", "r", "Receive", receive, panes=MSG, mutates=True, show=True, needs_selection=True,
               help="Receive a message (msgrcv) by type (0, > 0, < 0) and show its type and text"),
    ActionSpec("msg.remove", "x,delete,f9", "Remove", remove, panes=MSG, mutates=True, show=True, tagged=True,
               needs_selection=True, help="Remove the queue (IPC_RMID) after a confirmation"),
)  # fmt: skip
