"""What the pane handlers share: the selected object of the pane's type, forms whose request is
carried out when submitted, and the create forms, which say when the monitor will not list the
new object.

The monitor run with --pid (or --user) lists only what those processes use (or that user owns).
An object just created from the monitor belongs to ipctop and no watched process has used it
yet, so the next scan leaves it out; the notification of the creation says so instead of
letting it vanish without a word.  It shows up once a watched process uses it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from ipctop.actions.holdings import HoldingError
from ipctop.actions.operations import Created, Outcome, perform
from ipctop.actions.requests import RemoveRequest, Request
from ipctop.kernel.errors import IpcError
from ipctop.kernel.ipcns import Unenterable, run_in
from ipctop.model import MsgQueue, SemSet, ShmSegment
from ipctop.tui.context import ActionContext

SelectedT = TypeVar("SelectedT")


def selected(ctx: ActionContext, kind: type[SelectedT]) -> SelectedT | None:
    """The object under the cursor if it is a `kind` (a key can be pressed while no row is)."""
    return ctx.selected if isinstance(ctx.selected, kind) else None


def sentence(message: str) -> str:
    """A message of the actions layer (lower case) as a sentence."""
    return message[:1].upper() + message[1:]


def open_form(ctx: ActionContext, form: Any, carry_out: Callable[[Any], object] | None = None) -> None:
    """Open `form`; when it is submitted, carry its request out (`ctx.perform` unless `carry_out` is given)."""

    def submitted(request: Request | None) -> None:
        if request is not None:
            (carry_out or ctx.perform)(request)

    ctx.push_screen(form, submitted)


def confirm_removal(
    ctx: ActionContext, question: str, kind: str, ident: int, report: Callable[[Outcome], object] | None = None
) -> None:
    """IPC_RMID on a segment, queue or set once the user confirms `question`."""
    ctx.confirm(question, lambda: ctx.perform(RemoveRequest(kind, ident), report=report))


def untag(ctx: ActionContext) -> None:
    """The tagged rows of the current pane are done with: untag them."""
    ctx.app.main_screen.current_pane.table.clear_tags()


def remove_tagged(ctx: ActionContext) -> None:
    """IPC_RMID on every tagged segment, queue or set, after one confirmation naming each."""
    from ipctop.actions.confirmations import object_name, remove_several_text

    objects = [obj for obj in ctx.tagged if isinstance(obj, ShmSegment | MsgQueue | SemSet)]
    if not objects:
        return

    def remove_all() -> None:
        if ctx.readonly:
            ctx.fail("ipctop runs with --readonly: nothing may be changed.")
            return
        removed, marked, failures = [], [], []
        for obj in objects:
            kind = "shm" if isinstance(obj, ShmSegment) else "msg" if isinstance(obj, MsgQueue) else "sem"
            ident = obj.shmid if isinstance(obj, ShmSegment) else obj.msqid if isinstance(obj, MsgQueue) else obj.semid
            target = replace(ctx, selected=obj).namespace  # each is removed inside its own IPC namespace
            where = f" in {obj.container}" if target is not None else ""
            request = RemoveRequest(kind, ident)
            try:
                if target is None:
                    perform(request, ctx.holdings)
                else:
                    run_in(target, perform, request, ctx.holdings)
            except (IpcError, HoldingError, Unenterable) as error:
                failures.append(sentence(str(error)))
                continue
            name = object_name(obj) + where
            (marked if isinstance(obj, ShmSegment) and obj.nattch else removed).append(name)
        untag(ctx)
        parts = []
        if removed:
            parts.append(f"Removed {', '.join(removed)}.")
        if marked:
            parts.append(f"Marked {', '.join(marked)} for removal (still attached).")
        parts += [f"{failure}." if not failure.endswith(".") else failure for failure in failures]
        ctx.notify(" ".join(parts), severity="warning" if failures else "information", timeout=8 if failures else None)
        ctx.refresh_now()

    names = [replace(ctx, selected=obj).namespace_name for obj in objects]
    ctx.confirm(remove_several_text(objects, names), remove_all)


def open_create_form(ctx: ActionContext, form: Any) -> None:
    """A create form: carry it out and say what was made, and whether the monitor's filter hides it."""

    def report(outcome: Outcome) -> None:
        hidden = unlisted_because(ctx, outcome.result) if isinstance(outcome.result, Created) else ""
        ctx.notify(f"{sentence(outcome.message)}{hidden}", timeout=10 if hidden else None)

    open_form(ctx, form, lambda request: ctx.perform(request, report=report))


def unlisted_because(ctx: ActionContext, created: Created) -> str:
    """'. It is not listed: ...' when the --pid/--user filter will leave the new object out, else ''."""
    feed = ctx.app.feed
    if not created.created:
        return ""  # an object that existed: listed or not as before
    reasons = []
    # Only a segment names its creator (cpid, ipctop here); a queue or a set names only the
    # processes that used it, and none has yet.
    if feed.pids is not None and not (created.kind == "shm" and os.getpid() in feed.pids):
        watched = ",".join(map(str, sorted(feed.pids)))
        reasons.append(f"the monitor shows what pid {watched} use{'s' if len(feed.pids) == 1 else ''}, "
                       f"and only ipctop[{os.getpid()}] has used it yet")  # fmt: skip
    if feed.uid is not None and feed.uid != os.geteuid():
        reasons.append(f"the monitor shows uid {feed.uid}'s objects, and it belongs to uid {os.geteuid()}")
    return f". It is not listed: {'; '.join(reasons)}." if reasons else ""
