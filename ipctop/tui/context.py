"""What an action handler gets to work with: the selection, the snapshot and a few services.

Handlers never reach into widgets: they read the selected object and the latest
snapshot from here, call the kernel, report with `notify`/`fail`, and ask for an
immediate refresh so that the next snapshot shows the effect.  `perform` carries
out a form's request (ipctop.actions.operations): at once, or in a worker thread
when it may wait, cancelled when ipctop exits.  A request on a selected object of
another IPC namespace is carried out inside that namespace (kernel/ipcns.py);
ipctop's own attachments (attach, write, detach) are of its own namespace only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ipctop.actions import requests as rq
from ipctop.actions.holdings import HoldingError, Holdings
from ipctop.actions.operations import Cancelled, Outcome, perform
from ipctop.actions.requests import Request
from ipctop.actions.waiting import Waits
from ipctop.diff import Event
from ipctop.kernel.errors import IpcError
from ipctop.kernel.ipcns import Target, Unenterable, run_in
from ipctop.model import Fifo, MsgQueue, Pipe, Process, SemSet, ShmSegment, Snapshot

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from ipctop.tui.interfaces import Monitor

Selected = ShmSegment | MsgQueue | SemSet | Pipe | Fifo | Process | Event

# requests that act on the selected object by its id (done inside its namespace), and those on
# ipctop's own attachments (of its own namespace only)
_ON_SELECTED = (rq.RemoveRequest, rq.MsgSendRequest, rq.MsgReceiveRequest, rq.SemOpRequest, rq.SemSetRequest,
                rq.ShmSetRequest)
_HELD = (rq.AttachRequest, rq.DetachRequest, rq.WriteRequest)


@dataclass(frozen=True)
class ActionContext:
    """The state an action runs in, taken when its key is pressed (or chosen in the palette)."""

    app: Monitor  # the running monitor (ipctop/tui/interfaces.py says what of it a handler may use)
    pane_id: str  # "shm", "msg", "sem", "pipes", "processes", "events"
    selected: Selected | None  # the model object under the cursor in that pane
    snapshot: Snapshot | None  # the latest snapshot shown (already filtered by --pid/--user)
    readonly: bool
    tagged: tuple[Selected, ...] = ()  # the objects of the rows tagged with Space, top to bottom

    @property
    def holdings(self) -> Holdings:
        """The segments ipctop itself holds (attach, write, detach); released when it exits."""
        return self.app.holdings

    @property
    def namespace(self) -> Target | None:
        """The IPC namespace of the selected System V object when that is not ipctop's own, else None."""
        selected, snapshot = self.selected, self.snapshot
        if not isinstance(selected, ShmSegment | MsgQueue | SemSet) or snapshot is None:
            return None
        inode = snapshot.elsewhere(selected.ipc_ns)
        namespace = snapshot.namespace(inode) if inode else None
        return Target(inode, namespace.members if namespace is not None else ()) if inode else None

    @property
    def namespace_name(self) -> str:
        """The name of the selected System V object's IPC namespace where there are several (confirmations
        name it), else ''."""
        selected, snapshot = self.selected, self.snapshot
        if not isinstance(selected, ShmSegment | MsgQueue | SemSet) or snapshot is None:
            return ""
        if not any(not ns.own for ns in snapshot.namespaces):
            return ""
        return selected.container or "host"

    @property
    def cancel(self) -> Waits:
        """The waiting calls: cancelled when ipctop exits, so a receive or semop still waiting then stops."""
        return self.app.waits

    def notify(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        self.app.notify(message, severity=severity, timeout=timeout)  # type: ignore[arg-type]

    def fail(self, message: str) -> None:
        """Report an error: one sentence, shown as an error notification."""
        self.app.notify(message, severity="error", timeout=8)

    def refresh_now(self) -> None:
        """Take a snapshot now instead of at the next tick (also while paused)."""
        self.app.request_refresh()

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], object] | None = None) -> None:
        """Open a form or other screen; `callback` gets what it dismisses with."""
        self.app.push_screen(screen, callback)

    def confirm(self, question: str, then: Callable[[], object], *, danger: bool = True) -> None:
        """Ask yes/no in a modal; call `then()` only on yes."""
        from ipctop.tui.forms.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(question, danger=danger), answered)

    def run_in_thread(
        self,
        call: Callable[[], object],
        *,
        done: str | None = None,
        errors: tuple[type[BaseException], ...] = (IpcError,),
    ) -> Worker[None] | None:
        """Run a call that may block (msgrcv, a waiting semop) in a worker thread, off the UI.

        On success: notify `done`, or the result's `.message` (an Outcome of
        ipctop.actions.operations.perform), and refresh now.  An exception of
        `errors` is shown as its one sentence (a call Cancelled by ipctop's exit
        says nothing); anything else is a bug and propagates.
        """
        if self.readonly:
            self.fail("ipctop runs with --readonly: nothing may be changed.")
            return None

        def succeeded(result: object) -> None:
            message = done if done is not None else getattr(result, "message", None)
            if message:
                self.notify(_sentence(message))
            self.refresh_now()

        return self._in_thread(call, errors, succeeded)

    def perform(
        self,
        request: Request,
        *,
        waits: bool = False,
        report: Callable[[Outcome], object] | None = None,
    ) -> None:
        """Carry out a form's request, refresh, and say what was done, or the one sentence why not.

        A request that may wait (`waits`: a receive, a semaphore operation that
        takes) runs in a worker thread and stops when ipctop exits; the others run
        at once.  `report(outcome)` replaces the notification of outcome.message.
        """
        if self.readonly:
            self.fail("ipctop runs with --readonly: nothing may be changed.")
            return

        target = self.namespace
        where = ""
        if target is not None:
            if isinstance(request, _HELD):
                self.fail("ipctop attaches segments of its own IPC namespace only: to hold one of "
                          f"{self.selected.container}, run `ipctop shm hold ID --ns {target.inode}`.")  # type: ignore[union-attr]
                return
            if not isinstance(request, _ON_SELECTED):
                target = None  # a creation: in ipctop's own namespace
            else:
                where = f" in {self.selected.container}"  # type: ignore[union-attr]

        def reported(outcome: Outcome) -> None:
            if report is None:
                self.notify(_sentence(outcome.message + where))
            else:
                report(outcome)
            self.refresh_now()

        def inside(call: Callable[[], Outcome]) -> Callable[[], Outcome]:
            return call if target is None else lambda: run_in(target, call)  # type: ignore[arg-type]

        if waits:
            limits = self.snapshot.limits if self.snapshot is not None else None
            msgmax = limits.msgmax if limits is not None else None
            self._in_thread(
                inside(lambda: perform(request, self.holdings, cancel=self.cancel, max_message=msgmax)),
                (IpcError, HoldingError, Unenterable),
                reported,  # type: ignore[arg-type]
            )
            return
        try:
            outcome = inside(lambda: perform(request, self.holdings))()
        except (IpcError, HoldingError, Unenterable) as error:
            self.fail(str(error) + (where if not isinstance(error, Unenterable) else ""))
            return
        reported(outcome)

    def _in_thread(
        self,
        call: Callable[[], object],
        errors: tuple[type[BaseException], ...],
        succeeded: Callable[[object], object],
    ) -> Worker[None]:
        def run() -> None:
            try:
                result = call()
            except Cancelled as cancelled:
                self._from_thread(self.notify, str(cancelled))
                return
            except errors as error:
                self._from_thread(self.fail, str(error))
                return
            self._from_thread(succeeded, result)

        return self.app.run_worker(run, thread=True, group="actions", exit_on_error=True)

    def _from_thread(self, callback: Callable[[Any], object], argument: object) -> None:
        # Once ipctop is exiting there is nobody to tell, and its loop may no longer run callbacks.
        if self.cancel.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the app stopped between the check and the call
            self.app.call_from_thread(callback, argument)

    def attempt(self, call: Callable[[], object], done: str) -> bool:
        """Run a kernel call; on success say `done` and refresh now, on IpcError show its sentence."""
        if self.readonly:
            self.fail("ipctop runs with --readonly: nothing may be changed.")
            return False
        target = self.namespace
        try:
            call() if target is None else run_in(target, call)
        except (IpcError, Unenterable) as error:
            self.fail(str(error))
            return False
        self.notify(done)
        self.refresh_now()
        return True


def _sentence(text: str) -> str:
    """A message as a sentence: a capital first letter (the actions layer writes them in lower case)."""
    return text[:1].upper() + text[1:]
