"""Keys of the shared memory pane: create, attach, detach, write, remove, change mode or owner.

ipctop attaches a segment itself (`a`) and holds it in the app's Holdings until
`d` or exit; `w` writes only into a segment it holds.  Each key opens a form
(ipctop/tui/forms) or a confirmation, then carries the request out with
ctx.perform, and the next scan shows the effect.
"""

from __future__ import annotations

from ipctop.actions.confirmations import shm_remove_text
from ipctop.actions.operations import Outcome
from ipctop.actions.requests import DetachRequest
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.kernel.ipcns import Unenterable, run_in
from ipctop.model import ShmSegment
from ipctop.render.formatting import hex_key, human_bytes
from ipctop.tui.context import ActionContext
from ipctop.tui.handlers.common import confirm_removal, open_create_form, open_form, remove_tagged, selected
from ipctop.tui.registry import ActionSpec

SHM = frozenset({"shm"})


def _segment(ctx: ActionContext) -> ShmSegment | None:
    return selected(ctx, ShmSegment)


def _label(segment: ShmSegment) -> str:
    key = "private" if segment.display_key == 0 else f"key {hex_key(segment.display_key)}"
    return f"{key}, {human_bytes(segment.size)}"


def create(ctx: ActionContext) -> None:
    from ipctop.tui.forms import ShmCreateForm

    open_create_form(ctx, ShmCreateForm(ctx.snapshot.limits if ctx.snapshot else None))


def attach(ctx: ActionContext) -> None:
    from ipctop.tui.forms import AttachForm

    segment = _segment(ctx)
    if segment is None:
        return
    held = ctx.holdings.get(segment.shmid)
    if held is not None:
        ctx.fail(f"ipctop already holds segment {segment.shmid} ({held.mode}); d detaches it.")
        return
    open_form(ctx, AttachForm(segment.shmid, _label(segment)))


def detach(ctx: ActionContext) -> None:
    segment = _segment(ctx)
    if segment is None:
        return
    if segment.shmid not in ctx.holdings:
        ctx.fail(f"ipctop does not hold segment {segment.shmid}: only what a attached can be detached.")
        return
    ctx.perform(DetachRequest(segment.shmid))


def write(ctx: ActionContext) -> None:
    from ipctop.tui.forms import WriteForm

    segment = _segment(ctx)
    if segment is None:
        return
    held = ctx.holdings.get(segment.shmid)
    if held is None:
        ctx.fail(f"ipctop does not hold segment {segment.shmid}: attach it read-write with a first.")
        return
    if held.readonly:
        ctx.fail(f"ipctop holds segment {segment.shmid} read-only: detach (d) and attach it read-write to write.")
        return
    open_form(ctx, WriteForm(segment.shmid, held.size))


def remove(ctx: ActionContext) -> None:
    if ctx.tagged:
        remove_tagged(ctx)
        return
    segment = _segment(ctx)
    if segment is None:
        return

    def say_what_happened(_outcome: Outcome) -> None:
        target = ctx.namespace
        try:
            still = sysv.shm_stat(segment.shmid) if target is None else run_in(target, sysv.shm_stat, segment.shmid)
        except (IpcError, Unenterable):
            ctx.notify(f"Removed segment {segment.shmid}.")
            return
        times = "once" if still.nattch == 1 else f"{still.nattch} times"
        ctx.notify(f"Segment {segment.shmid} is marked for removal; it is still attached {times} "
                   "and goes away when the last one detaches.")  # fmt: skip

    confirm_removal(ctx, shm_remove_text(segment, namespace=ctx.namespace_name), "shm", segment.shmid,
                    report=say_what_happened)


def change_mode_or_owner(ctx: ActionContext) -> None:
    from ipctop.tui.forms import ChmodChownForm

    segment = _segment(ctx)
    if segment is None:
        return
    open_form(ctx, ChmodChownForm(segment.shmid, segment.perms, segment.owner))


ACTIONS = (
    ActionSpec("shm.create", "c", "Create", create, panes=SHM, mutates=True, show=True,
               help="Create a segment (shmget): key, ftok or IPC_PRIVATE, size, mode, IPC_EXCL"),
    ActionSpec("shm.attach", "a", "Attach", attach, panes=SHM, mutates=True, show=True, needs_selection=True,
               help="Attach the segment to ipctop (read-write or read-only) and hold it until d or exit"),
    ActionSpec("shm.detach", "d", "Detach", detach, panes=SHM, mutates=True, show=True, needs_selection=True,
               help="Detach a segment ipctop holds"),
    ActionSpec("shm.write", "w", "Write", write, panes=SHM, mutates=True, show=True, needs_selection=True,
               help="Write text into a segment ipctop holds read-write, at an offset"),
    ActionSpec("shm.remove", "x,delete,f9", "Remove", remove, panes=SHM, mutates=True, show=True, tagged=True,
               needs_selection=True,
               help="IPC_RMID after a confirmation (an attached segment is only marked for removal)"),
    ActionSpec("shm.set", "e", "Mode/owner", change_mode_or_owner, panes=SHM, mutates=True, show=True,
               needs_selection=True, help="Change the segment's mode or owner (IPC_SET)"),
)  # fmt: skip
