"""The form of F9 in the process pane: which signal to send (TERM unless another is chosen), to one
process or to the tagged ones."""

from __future__ import annotations

import signal

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet

from ipctop.actions.requests import KillRequest
from ipctop.tui.forms.base import FormScreen

SIGNAL_CHOICES: tuple[tuple[signal.Signals, str], ...] = (
    (signal.SIGTERM, "TERM: ask it to terminate"),
    (signal.SIGINT, "INT: as Ctrl+C"),
    (signal.SIGHUP, "HUP: hang up (many daemons reload)"),
    (signal.SIGQUIT, "QUIT: quit with a core dump"),
    (signal.SIGKILL, "KILL: end it at once (it cannot clean up)"),
    (signal.SIGSTOP, "STOP: suspend it"),
    (signal.SIGCONT, "CONT: resume it"),
    (signal.SIGUSR1, "USR1"),
    (signal.SIGUSR2, "USR2"),
)


class KillForm(FormScreen[KillRequest]):
    """Choose a signal for process `pid` (0 with a `title`: for several); dismisses with a KillRequest
    (confirm before sending)."""

    def __init__(self, pid: int, comm: str = "", *, title: str | None = None) -> None:
        super().__init__()
        self.pid = pid
        self.form_title = title or f"Send a signal to {f'{comm}[{pid}]' if comm else f'process {pid}'}"

    def compose_fields(self) -> ComposeResult:
        with RadioSet(id="choice-signal"):
            for index, (_, label) in enumerate(SIGNAL_CHOICES):
                yield RadioButton(label, value=index == 0)

    def build_request(self) -> KillRequest:
        index = max(self.choice("signal"), 0)
        return KillRequest(self.pid, int(SIGNAL_CHOICES[index][0]))
