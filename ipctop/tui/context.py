"""What an action handler gets to work with: the selection, the snapshot and a few services.

Handlers never reach into widgets: they read the selected object and the latest
snapshot from here, call the kernel, report with `notify`/`fail`, and ask for an
immediate refresh so that the next snapshot shows the effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ipctop.diff import Event
from ipctop.kernel.errors import IpcError
from ipctop.model import Fifo, MsgQueue, Pipe, Process, SemSet, ShmSegment, Snapshot

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from ipctop.tui.app import IpctopApp

Selected = ShmSegment | MsgQueue | SemSet | Pipe | Fifo | Process | Event


@dataclass(frozen=True)
class ActionContext:
    """The state an action runs in, taken when its key is pressed (or chosen in the palette)."""

    app: IpctopApp
    pane_id: str  # "shm", "msg", "sem", "pipes", "processes", "events"
    selected: Selected | None  # the model object under the cursor in that pane
    snapshot: Snapshot | None  # the latest snapshot shown (already filtered by --pid/--user)
    readonly: bool

    def notify(self, message: str, *, severity: str = "information") -> None:
        self.app.notify(message, severity=severity)  # type: ignore[arg-type]

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
        from ipctop.tui.screens.confirm import ConfirmScreen

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
        `errors` is shown as its one sentence; anything else is a bug and propagates.
        """

        def run() -> None:
            try:
                result = call()
            except errors as error:
                self.app.call_from_thread(self.fail, str(error))
                return
            message = done if done is not None else getattr(result, "message", None)
            self.app.call_from_thread(self._succeeded, message)

        if self.readonly:
            self.fail("ipctop runs with --readonly: nothing may be changed.")
            return None
        return self.app.run_worker(run, thread=True, group="actions", exit_on_error=True)

    def _succeeded(self, message: str | None) -> None:
        if message:
            self.notify(message)
        self.refresh_now()

    def attempt(self, call: Callable[[], object], done: str) -> bool:
        """Run a kernel call; on success say `done` and refresh now, on IpcError show its sentence."""
        if self.readonly:
            self.fail("ipctop runs with --readonly: nothing may be changed.")
            return False
        try:
            call()
        except IpcError as error:
            self.fail(str(error))
            return False
        self.notify(done)
        self.refresh_now()
        return True
