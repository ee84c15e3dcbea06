"""Demo actions: pick and start a demo, take the next step, stop it, show or hide its narration.

A demo makes processes and IPC objects, so every action here is hidden with
--readonly.  The demo itself lives in the app's DemoSession (ipctop/tui/demo_session.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ipctop.tui.context import ActionContext
from ipctop.tui.registry import ActionSpec

if TYPE_CHECKING:
    from ipctop.tui.demo_session import DemoChoice, DemoSession


def _session(ctx: ActionContext) -> DemoSession:
    return ctx.app.demo_session


def pick_demo(ctx: ActionContext) -> None:
    from ipctop.tui.screens.demo_picker import DemoPicker

    session = _session(ctx)
    if session.running:
        ctx.fail(f"Demo {session.name} is still running: stop it with ctrl+d before starting another.")
        return

    def chosen(choice: DemoChoice | None) -> None:
        if choice is None:
            return
        if ctx.readonly:
            ctx.fail("ipctop runs with --readonly: nothing may be changed.")
            return
        try:
            session.start(choice)
        except (ValueError, OSError) as error:
            message = str(error)
            ctx.fail(f"Cannot start demo {choice.name}: {message}.")
            return
        ctx.refresh_now()

    ctx.push_screen(DemoPicker(), chosen)


def next_step(ctx: ActionContext) -> None:
    session = _session(ctx)
    if not session.running:
        ctx.fail("No demo is running: D starts one (tick “Step by step” or press S to go step by step).")
    elif not session.step_mode:
        ctx.fail(f"Demo {session.name} runs on its own: start it with S in the picker to go step by step.")
    elif not session.next_step():
        ctx.notify("The demo is still taking its step: n again once it waits for the next one.")
    else:
        ctx.refresh_now()


def stop_demo(ctx: ActionContext) -> None:
    session = _session(ctx)
    if not session.running:
        ctx.fail("No demo is running.")
        return
    ctx.notify(f"Stopping demo {session.name} and removing all it made…")
    # stop() waits for the demo's processes to end: never on the UI thread.
    ctx.run_in_thread(session.stop, errors=(OSError,))


def toggle_lecture(ctx: ActionContext) -> None:
    session = _session(ctx)
    session.set_lecture(not session.lecture)
    ctx.notify("Lecture mode: the narration is taller and the demo's rows come first in every pane; L again "
               "ends it." if session.lecture else "Lecture mode ended.", timeout=5)  # fmt: skip
    ctx.refresh_now()


def toggle_narration(ctx: ActionContext) -> None:
    panel = _session(ctx).panel
    if not panel.demo:
        ctx.fail("No demo has run yet: D starts one.")
        return
    panel.open(not panel.is_open)


ACTIONS = (
    ActionSpec("demo.pick", "D", "Demo", pick_demo, mutates=True, show=True,
               help="Run a demo: an IPC lesson as real processes, narrated, its objects marked ◆"),
    ActionSpec("demo.next", "g", "Next step", next_step, mutates=True,
               help="Go on: let a demo started step by step take its next step"),
    ActionSpec("demo.stop", "ctrl+d", "Stop demo", stop_demo, mutates=True,
               help="Stop the running demo and remove every process, object and file it made"),
    ActionSpec("demo.narration", "ctrl+n", "Narration", toggle_narration, mutates=True,
               help="Show or hide the demo's narration panel"),
    ActionSpec("demo.lecture", "L", "Lecture", toggle_lecture, mutates=True,
               help="Lecture mode: a taller narration in larger steps, and the demo's rows pinned first in "
                    "every pane (for a projector)"),
)  # fmt: skip
