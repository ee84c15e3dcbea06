"""The ipctop monitor app: scans in a worker thread, publishes each update to the screens.

Everything visible lives in screens/ and panes/; every key in registry.py and
handlers/.  The app owns the timing (interval, pause), the feed, the state and the
settings (ipctop/settings.py: given by the command line, which reads the file, and
changed by the settings screen).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import textual
from textual import events, work
from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.notifications import SeverityLevel
from textual.signal import Signal
from textual.timer import Timer

from ipctop.actions.holdings import install_release_handlers, shared_holdings
from ipctop.actions.waiting import Waits, prepare
from ipctop.cleanup.evidence import Evidence, gather
from ipctop.cleanup.filters import LeakFilters
from ipctop.model import Snapshot
from ipctop.render.escape import printable
from ipctop.settings import INTERVALS, PaneSettings, Settings, SettingsError, save
from ipctop.snapshot import Scanner
from ipctop.tui.commands import ActionCommands
from ipctop.tui.demo_session import DemoSession
from ipctop.tui.driver import QuietLinuxDriver, fits
from ipctop.tui.screens.main import MainScreen
from ipctop.tui.state import MonitorState, SnapshotFeed, SnapshotProvider, Update
from ipctop.tui.typeahead import KeyHandled, KeysInOrder, read_escape_as_escape
from ipctop.tui.widgets.narration import NarrationPanel

EXIT_GRACE = 5.0  # seconds a signalled exit may take before ipctop ends itself


class IpctopApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "ipctop"
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        provider: SnapshotProvider | None = None,
        *,
        interval: float = 2.0,
        pids: frozenset[int] | None = None,
        uid: int | None = None,
        user: str | None = None,
        readonly: bool = False,
        handle_signals: bool = False,
        leak_filters: LeakFilters | None = None,
        settings: Settings | None = None,
        settings_path: Path | None = None,
        lecture: bool = False,
        namespaces: str | None = None,
        leak_evidence: Callable[[Snapshot], Evidence] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()  # as read at start (their interval is already in `interval`)
        self.settings_path = settings_path  # where the settings screen saves; None: it only applies
        # the monitor's scanner remembers, and is told the pace of its scans
        self._scanner: Scanner | None = None
        if provider is None:
            self._scanner = Scanner(ancestry=True)  # the process tree is drawn whole
            provider = self._scanner.scan
        self.feed = SnapshotFeed(provider, pids, uid, namespaces)
        self.state = MonitorState()
        self.interval = interval
        self.paused = False
        self.readonly = readonly
        self._watched = pids
        self.scope = tuple(
            text
            for text in (
                self._pid_scope(),
                f"only user {user or uid}" if uid is not None else "",
                f"only namespace {namespaces}" if namespaces is not None else "",
                "readonly" if readonly else "",
            )
            if text
        )
        self.updated: Signal[Update] = Signal(self, "updated")
        self.main_screen = MainScreen()
        self.leak_filters = leak_filters  # what the Leaks pane considers (tests: their own keys)
        self.leak_evidence = leak_evidence or gather  # what it knows beside a snapshot (tests: a fixture's)
        self.demo_session = DemoSession(self, lambda: self.main_screen.query_one(NarrationPanel))  # `D`'s demo
        self._handle_signals = handle_signals
        self.holdings = shared_holdings()  # the segments ipctop attaches itself (`a`)
        self.exiting = threading.Event()  # set at exit: stops a receive or semop still waiting
        self.waits = Waits(self.exiting)  # the receives, sends and semops waiting in their calls
        self._timer: Timer | None = None
        self._scanning = False
        self._again = False
        self.keys_in_order = KeysInOrder(self, super().on_event)  # keys typed quickly, in order
        self.demo_session.lecture = lecture  # --lecture: a demo shown for a class

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, but its Linux driver's input thread sleeps until a key comes (driver.py)."""
        driver = super().get_driver_class()
        return QuietLinuxDriver if driver is LinuxDriver and fits(textual.__version__) else driver

    def run(self, *args: object, **kwargs: object) -> int | None:  # type: ignore[override]
        read_escape_as_escape()  # Escape then a key, typed quickly, is not Alt+key
        self._ran = threading.Event()  # set once the app is through: a signalled exit's watchdog stands down
        try:
            return super().run(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self._ran.set()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self.keys_in_order.arrived(event)
            return
        await super().on_event(event)

    async def on_key_handled(self, marker: KeyHandled) -> None:
        await self.keys_in_order.handled(marker)

    def on_mount(self) -> None:
        prepare()  # the signal that wakes a waiting call at exit (from the main thread)
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.push_screen(self.main_screen)
        self._timer = self.set_interval(self.interval, self._tick)
        if self._scanner is not None:
            self._scanner.pace(self.interval)
        self.request_refresh()
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._exit_on_signal, signum)
        # After the loop's handlers, so that a signal releases the holdings and then still exits the app.
        install_release_handlers()

    def _pid_scope(self, not_running: Iterable[int] = ()) -> str:
        """`only pid 3,4` of `-p`, with those of them that are not running said to be so."""
        if not self._watched:
            return ""
        gone = ",".join(map(str, not_running))
        return f"only pid {','.join(map(str, sorted(self._watched)))}" + (f" ({gone} not running)" if gone else "")

    def scope_now(self) -> tuple[str, ...]:
        """`scope` as the latest scan finds it: a watched pid that no process has (a typo, or a process that
        exited) is said to be not running, rather than leave every pane empty without a word."""
        snapshot = self.state.snapshot
        if not self._watched or snapshot is None:
            return self.scope
        gone = sorted(pid for pid in self._watched if not snapshot.is_alive(pid))  # a zombie is not running
        return (self._pid_scope(gone), *self.scope[1:]) if gone else self.scope  # with pids, scope[0] is theirs

    def _exit_on_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: exit as `q` does.  When the terminal has gone (SIGHUP from a closed
        window, a killed tmux), the way out can hang writing to it (Textual's output thread stops at
        the first failed write and its queue fills): so if ipctop is still here after EXIT_GRACE, it
        releases what it holds and ends at once."""
        ran = getattr(self, "_ran", None)  # None: not run() (a test's run_test), where nothing may end the process
        if ran is not None:
            threading.Thread(target=self._end_if_stuck, args=(signum, ran), daemon=True, name="ipctop-exit").start()
        self.exit(0)

    def _end_if_stuck(self, signum: int, ran: threading.Event) -> None:
        if ran.wait(EXIT_GRACE):
            return
        self.waits.cancel()
        self.holdings.release_all()
        os._exit(128 + signum)  # the demo's processes die with us (PR_SET_PDEATHSIG)

    def on_unmount(self) -> None:
        self.demo_session.close()  # q, SIGTERM, SIGHUP: the demo's processes and objects go with us
        self.waits.cancel()  # sets `exiting` and wakes each call still waiting
        self.holdings.release_all()

    def _tick(self) -> None:
        if not self.paused:
            self.request_refresh()

    def request_refresh(self) -> None:
        """Scan now; if a scan is running, scan again as soon as it ends (never two at once)."""
        if self._scanning:
            self._again = True
            return
        self._scanning = True
        self._scan()

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self) -> None:
        try:
            update = self.feed.next()
        except Exception as error:  # a scan that fails must not take the monitor down
            self.call_from_thread(self._scan_done, None, f"The scan failed: {error}")
            return
        self.call_from_thread(self._scan_done, update, None)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications carry names, paths and reasons from the machine: escaped, and never read as markup."""
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout,
                       markup=markup)

    def _scan_done(self, update: Update | None, error: str | None) -> None:
        self._scanning = False
        if update is not None:
            self.state.apply(update)
            self.updated.publish(update)
        if error:
            self.notify(error, severity="error")
        if self._again:
            self._again = False
            self.request_refresh()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.main_screen.show_summary()

    def step_interval(self, direction: int) -> None:
        """Move the refresh interval one step along INTERVALS (+1 longer, -1 shorter)."""
        if direction > 0:
            longer = [i for i in INTERVALS if i > self.interval]
            self.set_interval_seconds(longer[0] if longer else self.interval)
        else:
            shorter = [i for i in INTERVALS if i < self.interval]
            self.set_interval_seconds(shorter[-1] if shorter else self.interval)

    def current_settings(self) -> Settings:
        """The settings as the monitor runs now: interval, theme, and each pane's sort and hidden columns."""
        panes = {}
        for pane_id, (sort, reverse, hidden, default) in self.main_screen.view_settings().items():
            if (sort, reverse, hidden) != default:
                panes[pane_id] = PaneSettings(sort, reverse, hidden)
        return Settings(self.interval, self.theme, panes)

    def apply_settings(self, settings: Settings, *, write: bool = False) -> None:
        """Use `settings` from now on (the settings screen); `write`: save them to the settings file too."""
        if settings.interval is not None and settings.interval != self.interval:
            self.set_interval_seconds(settings.interval)
        if settings.theme in self.available_themes:
            self.theme = settings.theme  # type: ignore[assignment]
        self.main_screen.apply_view_settings(settings)
        if not write:
            return
        if self.settings_path is None:
            self.notify("Applied; not saved: this monitor has no settings file.", severity="warning")
            return
        try:
            save(settings, self.settings_path)
        except SettingsError as error:
            self.notify(f"Applied, but not saved: {error}.", severity="error", timeout=8)
            return
        self.settings = settings
        self.notify(f"Saved to {self.settings_path}.")

    def set_interval_seconds(self, seconds: float) -> None:
        self.interval = seconds
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(seconds, self._tick)
        if self._scanner is not None:
            self._scanner.pace(seconds)
        self.main_screen.show_summary()
