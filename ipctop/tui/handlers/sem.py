"""Keys of the semaphore pane: create a set, operate on one semaphore, set a value, remove.

An operation that may wait (a take, or a wait for zero, without IPC_NOWAIT) runs
in a worker thread and stops when ipctop exits.
"""

from __future__ import annotations

from ipctop.actions.confirmations import sem_remove_text
from ipctop.actions.requests import SemOpRequest
from ipctop.model import SemSet
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import confirm_removal, open_create_form, open_form, remove_tagged, selected
from ipctop.tui.registry import ActionSpec

SEM = frozenset({"sem"})


def _semset(ctx: ActionContext) -> SemSet | None:
    return selected(ctx, SemSet)


def create(ctx: ActionContext) -> None:
    from ipctop.tui.forms import SemCreateForm

    open_create_form(ctx, SemCreateForm(ctx.snapshot.limits if ctx.snapshot else None))


def operate(ctx: ActionContext) -> None:
    from ipctop.tui.forms import SemOpForm

    semset = _semset(ctx)
    if semset is None:
        return

    def carry_out(request: SemOpRequest) -> None:
        may_wait = request.delta <= 0 and not request.nowait
        if may_wait:
            ctx.notify(f"Operation {request.delta:+d} on semaphore {request.semid}[{request.index}]: "
                       "it waits until it can be done.")  # fmt: skip
        ctx.perform(request, waits=may_wait)

    open_form(ctx, SemOpForm(semset.semid, semset.nsems), carry_out)


def set_value(ctx: ActionContext) -> None:
    from ipctop.tui.forms import SemSetForm

    semset = _semset(ctx)
    if semset is None:
        return

    value = semset.values[0] if semset.values else None
    open_form(ctx, SemSetForm(semset.semid, semset.nsems, 0, value))


def remove(ctx: ActionContext) -> None:
    if ctx.tagged:
        remove_tagged(ctx)
        return
    semset = _semset(ctx)
    if semset is None:
        return
    confirm_removal(ctx, sem_remove_text(semset, ctx.namespace_name), "sem", semset.semid)


ACTIONS = (
    ActionSpec("sem.create", "c", "Create", create, panes=SEM, mutates=True, show=True,
               help="Create a semaphore set (semget, SETALL): key, number of semaphores, initial values"),
    ActionSpec("sem.operate", "o", "Operate", operate, panes=SEM, mutates=True, show=True, needs_selection=True,
               help="semop on one semaphore: add, take or wait for zero; wait or IPC_NOWAIT"),
    ActionSpec("sem.set", "v", "Set value", set_value, panes=SEM, mutates=True, show=True, needs_selection=True,
               help="Set one semaphore's value (SETVAL)"),
    ActionSpec("sem.remove", "x,delete,f9", "Remove", remove, panes=SEM, mutates=True, show=True, tagged=True,
               needs_selection=True, help="Remove the set (IPC_RMID) after a confirmation; waiters get EIDRM"),
)  # fmt: skip
