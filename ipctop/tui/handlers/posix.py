"""Keys of the POSIX pane: create, unlink, write (shared memory), send and receive (queues), post or wait
and set (semaphores), change mode or owner.  Each opens a form of ipctop/tui/forms/posix_forms.py or a
confirmation; the request carries itself out (ipctop/actions/posix_requests.py), those that may wait in a
worker thread that stops when ipctop exits."""

from __future__ import annotations

from typing import Any

from ipctop.actions import posix_requests as rq
from ipctop.actions.operations import Outcome
from ipctop.model import PosixQueue, PosixSem, PosixShm, UnnamedShm
from ipctop.render.formatting import proc_label
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import open_form, selected, sentence
from ipctop.tui.registry import ActionSpec

POSIX = frozenset({"posix"})
NAMED = PosixShm | PosixSem | PosixQueue
KINDS = {PosixShm: "pshm", PosixSem: "psem", PosixQueue: "pmsg"}


def _carry_out(ctx: ActionContext, request: rq.PosixRequest) -> None:
    ctx.perform(request, waits=request.waits)  # type: ignore[arg-type]


def _named(ctx: ActionContext) -> PosixShm | PosixSem | PosixQueue | None:
    obj = ctx.selected
    if isinstance(obj, UnnamedShm):
        ctx.fail("Memory without a name cannot be unlinked or changed by name: it goes with its last holder.")
        return None
    return obj if isinstance(obj, NAMED) else None


def create(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixCreateForm

    def report(outcome: Outcome) -> None:
        ctx.notify(sentence(outcome.message) + ". It is in pane 8 from the next scan.")

    open_form(ctx, PosixCreateForm(), lambda request: ctx.perform(request, report=report))


def unlink(ctx: ActionContext) -> None:
    obj = _named(ctx)
    if obj is None:
        return
    if obj.unlinked:
        ctx.fail(f"{obj.name} is unlinked already: it goes when its last holder lets go.")
        return
    holders = sorted({proc_label(h.comm, h.pid) for h in obj.holders})
    if holders:
        shown = ", ".join(holders[:3]) + (f" and {len(holders) - 3} more" if len(holders) > 3 else "")
        what = f"Its name goes now; {shown} still hold{'s' if len(holders) == 1 else ''} it, so it lives on " \
               "until the last of them lets go."
    else:
        what = "Nobody holds it: it is destroyed now, with what it holds."
    question = f"Unlink {obj.name}? {what}"
    ctx.confirm(question, lambda: _carry_out(ctx, rq.PosixUnlinkRequest(KINDS[type(obj)], obj.name)))


def write(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixWriteForm

    obj = selected(ctx, PosixShm)
    if obj is None:
        ctx.fail("w writes into POSIX shared memory: select a shm row.")
        return
    if obj.unlinked:
        ctx.fail(f"{obj.name} is unlinked: it can no longer be opened by its name.")
        return
    open_form(ctx, PosixWriteForm(obj.name, obj.size), lambda request: _carry_out(ctx, request))


def _named_of(ctx: ActionContext, kind: type, refusal: str) -> Any:
    """The selected object of `kind` that still has a name, or None after saying `refusal`."""
    obj = selected(ctx, kind)
    if obj is None or obj.unlinked:
        ctx.fail(refusal)
        return None
    return obj


def send(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixSendForm

    obj = _named_of(ctx, PosixQueue, "s sends to a POSIX queue that has a name: select a queue row.")
    if obj is not None:
        open_form(ctx, PosixSendForm(obj.name, obj.message_size), lambda request: _carry_out(ctx, request))


def receive(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixReceiveForm

    obj = _named_of(ctx, PosixQueue, "r receives from a POSIX queue that has a name: select a queue row.")
    if obj is not None:
        open_form(ctx, PosixReceiveForm(obj.name), lambda request: _carry_out(ctx, request))


def operate(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixSemOpForm

    obj = _named_of(ctx, PosixSem, "o posts to or waits on a named semaphore that has a name: select a sem row.")
    if obj is not None:
        open_form(ctx, PosixSemOpForm(obj.name), lambda request: _carry_out(ctx, request))


def set_value(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixSemSetForm

    obj = _named_of(ctx, PosixSem, "v sets a named semaphore that has a name: select a sem row.")
    if obj is not None:
        open_form(ctx, PosixSemSetForm(obj.name, obj.value), lambda request: _carry_out(ctx, request))


def change_mode_or_owner(ctx: ActionContext) -> None:
    from ipctop.tui.forms.posix_forms import PosixOwnerForm

    obj = _named(ctx)
    if obj is None:
        return
    if obj.unlinked:
        ctx.fail(f"{obj.name} is unlinked: it can no longer be opened by its name.")
        return
    open_form(ctx, PosixOwnerForm(KINDS[type(obj)], obj.name, obj.perms, obj.owner),
              lambda request: _carry_out(ctx, request))


ACTIONS = (
    ActionSpec("posix.create", "c", "Create", create, panes=POSIX, mutates=True, show=True,
               help="Create POSIX shared memory (shm_open), a named semaphore (sem_open) or a queue (mq_open)"),
    ActionSpec("posix.unlink", "x,delete", "Unlink", unlink, panes=POSIX, mutates=True, show=True,
               needs_selection=True, help="shm_unlink, sem_unlink or mq_unlink after a confirmation"),
    ActionSpec("posix.write", "w", "Write", write, panes=POSIX, mutates=True, show=True, needs_selection=True,
               help="Write text into POSIX shared memory, at an offset"),
    ActionSpec("posix.send", "s", "Send", send, panes=POSIX, mutates=True, show=True, needs_selection=True,
               help="Send a message with a priority to a POSIX queue (mq_send)"),
    ActionSpec("posix.receive", "r", "Receive", receive, panes=POSIX, mutates=True, show=True,
               needs_selection=True, help="Receive the oldest message of the highest priority (mq_receive)"),
    ActionSpec("posix.operate", "o", "Post/wait", operate, panes=POSIX, mutates=True, show=True,
               needs_selection=True, help="sem_post, sem_wait or sem_trywait on a named semaphore"),
    ActionSpec("posix.set", "v", "Set value", set_value, panes=POSIX, mutates=True, needs_selection=True,
               help="Bring a named semaphore's value to a number by posts or waits"),
    ActionSpec("posix.owner", "e", "Mode/owner", change_mode_or_owner, panes=POSIX, mutates=True,
               needs_selection=True, help="Change the object's mode or owner (chmod, chown)"),
)  # fmt: skip
