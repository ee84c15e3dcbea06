"""What the monitor's parts may use of the app and of its main screen: two Protocols.

Handlers (through ActionContext), the registry, the command palette, the screens
and the demo session need a few things from the running monitor: the state of
the latest scan, ipctop's own holdings, a refresh, the panes.  They get them
through `Monitor` and `MonitorView`, which the app (ipctop/tui/app.py) and the
main screen (ipctop/tui/screens/main.py) implement, and never import those
modules: so the app depends on them and not the other way round, and each can be
read and tested alone (a test may hand a handler any object with these members).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.signal import Signal
    from textual.worker import Worker

    from ipctop.actions.holdings import Holdings
    from ipctop.cleanup.filters import LeakFilters
    from ipctop.settings import Settings
    from ipctop.tui.demo_session import DemoSession
    from ipctop.tui.panes.base import Pane
    from ipctop.tui.state import MonitorState, SnapshotFeed, Update


class MonitorView(Protocol):
    """The main screen, as the view handlers use it: the panes, the filter, the search, the detail, a
    row followed, rows tagged."""

    @property
    def current_pane(self) -> Pane: ...

    def pane(self, pane_id: str) -> Pane: ...

    def show_pane(self, pane_id: str) -> None: ...

    def open_filter(self) -> None: ...

    def clear_filter(self) -> None: ...

    def open_detail(self) -> None: ...

    def show_summary(self) -> None: ...

    def open_search(self) -> None: ...

    def search_next(self, step: int) -> None: ...

    def follow(self) -> None: ...

    def toggle_tag(self) -> None: ...

    def clear_tags(self) -> None: ...

    def view_settings(self) -> dict[str, tuple[str | None, bool, tuple[str, ...], tuple[str, bool, tuple[()]]]]: ...

    def apply_view_settings(self, settings: Settings, *, check: bool = False) -> None: ...


@runtime_checkable
class ActionScreen(Protocol):
    """A screen that runs the registry's actions (the command palette looks for one)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None: ...

    async def run_registered(self, action_id: str) -> None: ...


class Monitor(Protocol):
    """The running monitor app: what it shows, what ipctop holds, and the calls that change them."""

    state: MonitorState  # the latest snapshot, events, history and timeline
    feed: SnapshotFeed  # where scans come from, with the --pid/--user filter
    holdings: Holdings  # the segments ipctop itself attached (`a`)
    exiting: threading.Event  # set at exit: stops a receive or semop still waiting
    readonly: bool
    paused: bool
    interval: float
    scope: tuple[str, ...]  # what the summary line says of the filters ("only pid 3", "readonly")
    leak_filters: LeakFilters | None
    updated: Signal[Update]  # published after each scan
    main_screen: MonitorView
    demo_session: DemoSession
    settings: Settings  # as read at start, or as last saved
    settings_path: Path | None  # where the settings screen saves them; None: it only applies them
    theme: str
    available_themes: Mapping[str, Any]

    def request_refresh(self) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def step_interval(self, direction: int) -> None: ...

    def current_settings(self) -> Settings: ...

    def apply_settings(self, settings: Settings, *, write: bool = False) -> None: ...

    # What Textual's App gives:
    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], object] | None = ...) -> Any: ...

    def exit(self, result: Any = ...) -> None: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any) -> Any: ...

    def run_worker(self, work: Callable[[], Any] | Awaitable[Any], **options: Any) -> Worker[Any]: ...
