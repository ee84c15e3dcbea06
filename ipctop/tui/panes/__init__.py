"""The monitor's panes, in the order of their digit keys (1..8)."""

from __future__ import annotations

from ipctop.tui.panes.base import Pane
from ipctop.tui.panes.events import EventsPane
from ipctop.tui.panes.leaks import LeaksPane
from ipctop.tui.panes.msg import MsgPane
from ipctop.tui.panes.pipes import PipesPane
from ipctop.tui.panes.posix import PosixPane
from ipctop.tui.panes.processes import ProcessesPane
from ipctop.tui.panes.sem import SemPane
from ipctop.tui.panes.shm import ShmPane

PANES: tuple[type[Pane], ...] = (ShmPane, MsgPane, SemPane, PipesPane, ProcessesPane, EventsPane, LeaksPane,
                                 PosixPane)
PANE_IDS: tuple[str, ...] = tuple(pane.pane_id for pane in PANES)
