"""The narration panel under the panes: a running demo's calls, step by step, as they happen.

Hidden until a demo starts; it stays after the demo ends (with how it ended)
until the demo session hides it, and `N` shows or hides it by hand.  Its title
says which step the demo is at, or which step waits for `g`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from ipctop.render.escape import printable
from ipctop.tui.demo_marks import MARK

if TYPE_CHECKING:
    from ipctop.demos import DemoStep

MAX_LINES = 2000


def styled(line: str) -> Text:
    """A narration line: step headings bold, `# look:` notes in the accent colour, calls as they are;
    escaped, since it names paths and data from the machine."""
    line = printable(line)
    if line.startswith("["):
        return Text(line, style="bold")
    if line.lstrip().startswith("#"):
        return Text(line, style="italic")
    return Text(line)


class NarrationPanel(Vertical):
    DEFAULT_CSS = """
    NarrationPanel {
        display: none;
        height: 11;
        border: round $accent;
        border-title-color: $text-accent;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    NarrationPanel.-open { display: block; }
    NarrationPanel.-lecture { height: 50%; border: heavy $accent; }
    NarrationPanel.-lecture RichLog { text-style: bold; }
    NarrationPanel #narration-step { height: 1; color: $text-warning; display: none; }
    NarrationPanel.-awaiting #narration-step { display: block; }
    NarrationPanel RichLog { height: 1fr; background: $surface; scrollbar-size-vertical: 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="narration")
        self.demo = ""
        self.ended = False
        self.shown_lines: deque[str] = deque(maxlen=MAX_LINES)  # what was written, as plain text
        self._step_note = ""

    def compose(self) -> ComposeResult:
        yield Static(id="narration-step")
        yield RichLog(max_lines=MAX_LINES, wrap=True, markup=False, auto_scroll=True, id="narration-log")

    @property
    def log_widget(self) -> RichLog:
        return self.query_one(RichLog)

    def begin(self, demo: str, description: str, lesson: str, mode: str) -> None:
        self.demo = demo
        self.ended = False
        self.open(True)
        self.log_widget.clear()
        self.shown_lines.clear()
        self._write(Text(f"ipctop demo {demo}: {description}", style="bold"))
        self._write(Text(f"Lesson: {lesson}", style="italic"))
        self._write(Text(f"Rows marked {MARK} in the panes are what it made; {mode}.", style="dim"))
        self.border_title = f"Demo {demo}"
        self.border_subtitle = "ctrl+d stop · ctrl+n hide"

    def _write(self, text: Text) -> None:
        self.shown_lines.append(text.plain)
        self.log_widget.write(text, expand=True)  # wrap at the panel's width, not the console's

    def write_lines(self, lines: list[str]) -> None:
        for line in lines:
            self._write(styled(line))

    def show_progress(self, step: tuple[int, int] | None, awaiting: DemoStep | None, running: bool) -> None:
        """The title: the step whose heading was written last (its calls are the ones on screen); the
        line over the log: the step that waits for `g`."""
        if self.ended or not running:
            self.set_class(False, "-awaiting")
            return
        where = f" · step {step[0]}/{step[1]}" if step is not None else ""
        self.border_title = f"Demo {self.demo}{where}"
        waiting = awaiting is not None
        self.set_class(waiting, "-awaiting")
        if waiting:
            note = f"g: next step — {awaiting.heading}"
            if note != self._step_note:
                self._step_note = note
                self.query_one("#narration-step", Static).update(Text(printable(note)))
        self.border_subtitle = ("g next step · " if waiting else "") + "ctrl+d stop · ctrl+n hide"

    def end(self, summary: str) -> None:
        self.ended = True
        self.set_class(False, "-awaiting")
        self._write(Text(printable(summary), style="bold"))
        self.border_title = f"Demo {self.demo} · ended"
        self.border_subtitle = "ctrl+n hide"

    def open(self, shown: bool) -> None:
        self.set_class(shown, "-open")

    def hide(self) -> None:
        self.open(False)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")
