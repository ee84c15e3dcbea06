"""The demo the monitor runs in the background: start, step, stop, narration, and what it made.

A DemoRun (ipctop.demos) calls `narrate` and `step_gate` from its reader
thread.  Here they never wait for the UI: narration lines go into a deque and
the gate waits on a threading.Event, and a UI timer (every 0.1 s while a demo
is shown) moves the lines to the narration panel, notices the end and says how
it went.  Waiting for the UI from the reader thread (call_from_thread) would
stall the demo behind a busy screen, and hang at exit, when the UI waits for
the demo to stop.

`close()` is called when the monitor exits, however it exits (q, SIGTERM,
SIGHUP): it stops the demo, which removes every process, object and file it
made.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from textual.css.query import NoMatches

from ipctop.render.formatting import hex_key
from ipctop.tui.demo_marks import DemoMarks

if TYPE_CHECKING:
    from textual.timer import Timer

    from ipctop.demos import DemoRun, DemoStep
    from ipctop.tui.widgets.narration import NarrationPanel

POLL = 0.1  # seconds between moves of narration to the panel
HEADING = re.compile(r"^\[(\d+)/(\d+)\] ")  # a step's heading in the narration: `[2/7] The client…`
SHOWN_AFTER_END = 45.0  # the panel stays this long after a demo ends, then hides


@dataclass(frozen=True, slots=True)
class DemoChoice:
    """What the picker returns: which demo, how fast, and whether it waits for `g` before each step."""

    name: str
    speed: float = 1.0
    step_mode: bool = False


class DemoHost(Protocol):
    """What the session uses of the app: a timer, a notification and a refresh."""

    def set_interval(self, interval: float, callback: Callable[[], object]) -> Timer: ...

    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...

    def request_refresh(self) -> None: ...


class DemoSession:
    """The monitor's demo, if any.  Methods run on the UI thread, except `stop()` (any thread)
    and the run's callbacks `_narrate` and `_gate` (its reader thread).

    `narration` finds the panel the demo is shown in (on the main screen, once it is mounted)."""

    def __init__(self, app: DemoHost, narration: Callable[[], NarrationPanel]) -> None:
        self.app = app
        self._narration = narration
        self.run: DemoRun | None = None
        self.step_mode = False
        self._lines: deque[str] = deque()
        self._go = threading.Event()
        self._awaiting: DemoStep | None = None  # the step the gate holds back until `g`
        self._stopping = threading.Event()
        self._timer: Timer | None = None
        self._announced = False
        self._closed = False
        self.runs = 0  # how many demos were shown: each run's objects are followed afresh
        self.shown_step: tuple[int, int] | None = None  # the step whose heading the panel shows last
        self.lecture = False  # lecture mode: a taller narration, the demo's rows pinned first

    # --- what the handlers use ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.running

    @property
    def name(self) -> str:
        return self.run.info.name if self.run is not None else ""

    @property
    def awaiting(self) -> DemoStep | None:
        return self._awaiting

    def start(self, choice: DemoChoice) -> None:
        """Start a demo in the background; ValueError (a bad name or speed) or OSError if it cannot."""
        from ipctop.demos import DemoRun

        if self.running:
            raise ValueError(f"demo {self.name} is still running: stop it first")
        run = DemoRun(
            choice.name,
            speed=choice.speed,
            narrate=self.narrate,
            step_gate=self._gate if choice.step_mode else None,
        )
        self._go.clear()
        self._stopping.clear()
        self._awaiting = None
        self._lines.clear()
        run.start()
        self.follow(run, choice.step_mode)

    def follow(self, run: DemoRun, step_mode: bool = False) -> None:
        """Show `run` (started) in the narration panel and mark what it makes in the panes."""
        self.run = run
        self.runs += 1
        self.shown_step = None
        self.step_mode = step_mode
        self._announced = False
        mode = "step by step: g takes the next step" if step_mode else f"speed {run.speed:g}"
        self.panel.begin(run.info.name, run.info.description, run.info.lesson, mode)
        self.panel.set_class(self.lecture, "-lecture")
        if self._timer is None:
            self._timer = self.app.set_interval(POLL, self.poll)
        self.poll()

    def set_lecture(self, on: bool) -> None:
        """Lecture mode: a taller narration, and the panes pin the demo's rows first (see Pane.show)."""
        self.lecture = on
        with contextlib.suppress(NoMatches):  # not mounted yet (--lecture): begin() sets it
            self.panel.set_class(on, "-lecture")

    def narrate(self, line: str) -> None:
        """A line of the run's narration (from its reader thread): the panel shows it at the next poll."""
        self._lines.append(line)

    def next_step(self) -> bool:
        """Let the demo take the step it waits for; False when it waits for none."""
        if self._awaiting is None:
            return False
        self._go.set()
        return True

    def stop(self) -> None:
        """Stop the demo and remove all it made; blocks up to a few seconds (call it off the UI)."""
        run = self.run
        if run is None:
            return
        self._stopping.set()
        self._go.set()  # a gate waiting for `g` lets the run see the stop
        run.stop()

    def close(self) -> None:
        """The monitor exits: stop the demo now, whatever it is doing."""
        self._closed = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.stop()

    def marks(self) -> DemoMarks | None:
        """What the demo made, for the panes: None when no demo was run or the panel is gone."""
        run = self.run
        if run is None:
            return None
        current, made = run.current, run.made
        ever = {("process", pid) for pid in made.pids}
        for kind in ("shm", "msg", "sem"):
            ever |= {(kind, ident) for ident in getattr(made, kind)}
        return DemoMarks(
            run.info.name, current.pids, current.shm, current.msg, current.sem, current.paths, frozenset(ever),
            run=self.runs, lecture=self.lecture,
        )

    # --- the run's reader thread ----------------------------------------------------------

    def _gate(self) -> None:
        assert self.run is not None
        self._awaiting = self.run.current_step
        try:
            while not self._go.wait(0.2) and not self._stopping.is_set() and not self._closed:
                pass
        finally:
            self._go.clear()
            self._awaiting = None

    # --- the UI timer -----------------------------------------------------------------------

    @property
    def panel(self) -> NarrationPanel:
        return self._narration()

    def poll(self) -> None:
        # Not while the app shuts down: its timer may still tick once the main screen is gone.
        if self._closed or self.run is None or not self.app.main_screen.is_attached:
            return
        run = self.run
        try:
            panel = self.panel
        except NoMatches:  # the monitor is closing: its screen went before its timers
            return
        lines = []
        while self._lines:
            lines.append(self._lines.popleft())
        if lines:
            panel.write_lines(lines)
        for line in lines:  # the step counted is the one whose calls are on screen, not the one to come
            heading = HEADING.match(line)
            if heading:
                self.shown_step = (int(heading.group(1)), int(heading.group(2)))
        panel.show_progress(self.shown_step, self._awaiting, run.running)
        if not run.running and not self._announced:
            self._announced = True
            self._announce_end(run)
        if self._announced and run.ended_at and time.monotonic() - run.ended_at > SHOWN_AFTER_END:
            panel.hide()
            if self._timer is not None:
                self._timer.stop()
                self._timer = None

    def _announce_end(self, run: DemoRun) -> None:
        name = run.info.name
        took = f"{run.ended_at - run.started_at:.1f} s" if run.ended_at else ""
        left = run.leftovers()
        kept = ", ".join(f"{kind} {ident} (key {hex_key(key)})" for (kind, ident), key in run.kept.items())
        if run.outcome == "failed":
            summary, severity = f"Demo {name} failed: {run.error}.", "error"
        elif run.outcome == "stopped":
            summary, severity = f"Demo {name} stopped after {took}.", "information"
        else:
            summary, severity = f"Demo {name} finished in {took}.", "information"
        if left:
            summary += f" Still there: {', '.join(left)}."
            severity = "warning"
        elif kept:
            summary += (
                f" It left {kept} behind on purpose: the Leaks pane (7) lists it, x removes it;"
                " everything else it made is gone."
            )
        else:
            summary += " Everything it made is gone."
        panel = self.panel
        panel.end(summary)
        # The panel says it, in its last line; a notification would cover the lesson's last lines.
        # Only when the panel is not to be seen (hidden, another screen over it) does one say it.
        if not (panel.is_open and panel.screen.is_current):
            self.app.notify(summary, severity=severity, timeout=8)  # type: ignore[arg-type]
        self.app.request_refresh()
