"""Drive the monitor in tests: wait on conditions (never on fixed sleeps) and read its tables."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import time
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from ipctop.tui.app import IpctopApp
from ipctop.tui.panes.base import Pane
from ipctop.tui.widgets.object_table import ObjectTable
from tests.support.animations import describe
from tests.support.fixture_evidence import FIXTURE_LEAK_FILTERS, fixture_evidence
from tests.support.fixture_snapshot import SCANS, FixtureFeed
from tests.support.holders import WAIT_SECONDS
from tests.support.notifications import raised_notifications

# Under pytest-timeout's 120 s.  Its alarm raises out of the event loop once, and asyncio.run then cancels
# every task at once, the app's own with the test's (in stop 30's CI a test stuck in a key press was never
# heard of again).  Cancelling the test alone, the app still runs and shuts down as after a failed assertion.
ASYNC_TEST_SECONDS = 100.0


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test function in a fresh event loop (the suite has no asyncio plugin), failing it
    with where it waited if it has not ended within ASYNC_TEST_SECONDS."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(_bounded(test(*args, **kwargs), ASYNC_TEST_SECONDS))

    return run


async def _bounded(test: Coroutine[Any, Any, None], seconds: float) -> None:
    task = asyncio.ensure_future(test)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    where = "\n".join(_awaiting(test) + _animators(test))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    raise AssertionError(f"the test did not end within {seconds:g} s; it waited here:\n{where}")


def _frames(awaitable: object) -> Iterator[object]:
    """A suspended coroutine's frame, then that of what it awaits, and so on down; last, what the
    innermost one awaits if it is no coroutine (a future)."""
    while awaitable is not None:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
        if frame is None:
            yield awaitable
            return
        yield frame
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "ag_await", None)


def _awaiting(awaitable: object) -> list[str]:
    """Where a suspended coroutine waits, line by line down the chain of awaits."""
    return [f"  {f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}" if isinstance(f, FrameType) else f"  {f!r}"
            for f in _frames(awaitable)]


def _animators(awaitable: object) -> list[str]:
    """What the animator of each app the waiting frames know holds: a pilot's key press waits until it
    has nothing left."""
    apps: dict[int, App[Any]] = {}
    for frame in _frames(awaitable):
        for value in frame.f_locals.values() if isinstance(frame, FrameType) else ():
            value = getattr(value, "app", value)  # a pilot's
            if isinstance(value, App):
                apps[id(value)] = value
    return [f"  {type(app).__name__}'s animator: {describe(app._animator)}" for app in apps.values()]


def notifications(app: App) -> list[str]:
    """Every notification `app` has shown in this test, oldest first, those already gone included."""
    return raised_notifications(app)


async def wait_for(pilot: Pilot, predicate: Callable[[], object], timeout: float = WAIT_SECONDS) -> object:
    """Let the app run until `predicate()` is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)


async def wait_scans(pilot: Pilot, count: int) -> None:
    app: IpctopApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.state.scans >= count)
    await pilot.pause(0)  # not pause(): waiting for an idle CPU takes long on a busy machine


async def pause_scans(pilot: Pilot) -> None:
    """Pause the monitor's timer and wait for the scan in flight, if any, to be shown: from then on the
    only scans are those the test asks for (a scan begun before a kill and shown after it would be one
    more, and a row that fades for one scan would be gone by the time the test looks)."""
    app: IpctopApp = pilot.app  # type: ignore[assignment]
    app.set_paused(True)
    await wait_for(pilot, lambda: not app._scanning)
    await pilot.pause(0)


async def shm_table_showing(pilot: Pilot, rows: int) -> ObjectTable:
    """The live monitor's segments table once its first scan shows `rows` rows on screen, settled."""
    app: IpctopApp = pilot.app  # type: ignore[assignment]
    await wait_scans(pilot, 1)
    shm = table(app, "shm")
    await wait_for(pilot, lambda: shm.row_count == rows and shm.size.height > 0)
    await pilot.pause(0)
    return shm


async def play_fixture(pilot: Pilot) -> None:
    """Feed every scan of the fixture, one after the other, then let the screen settle."""
    app: IpctopApp = pilot.app  # type: ignore[assignment]
    for scan in range(1, SCANS + 1):
        await wait_scans(pilot, scan)
        if scan < SCANS:
            app.request_refresh()
    await pilot.pause(0)


def fixture_app(**options: object) -> IpctopApp:
    """The monitor over the fixed fixture; it scans only when asked (the timer never fires).  Its Leaks
    pane judges with the fixture's made-up evidence, never this machine's /proc."""
    options.setdefault("leak_evidence", fixture_evidence)
    options.setdefault("leak_filters", FIXTURE_LEAK_FILTERS)
    return IpctopApp(FixtureFeed(), interval=3600.0, **options)  # type: ignore[arg-type]


def pane(app: IpctopApp, pane_id: str) -> Pane:
    return app.main_screen.pane(pane_id)


def table(app: IpctopApp, pane_id: str) -> ObjectTable:
    return pane(app, pane_id).table


def cell_text(app: IpctopApp, pane_id: str, row_key: str, column: str) -> str | None:
    """The plain text of one cell, or None while the row is not shown."""
    t = table(app, pane_id)
    row = t.row_for(row_key)
    if row is None:
        return None
    index = [c.key for c in t.spec].index(column)
    return row.cells[index].plain


def row_keys(app: IpctopApp, pane_id: str) -> list[str]:
    """Row keys in display order."""
    t = table(app, pane_id)
    return list(t.ordered_keys)


def screen_text(app: IpctopApp) -> str:
    """What the terminal shows now, as plain text."""
    lines = app.screen._compositor.render_update(full=True)
    console = Console(width=app.size.width, record=True, file=io.StringIO(), color_system=None)
    console.print(lines)
    return console.export_text()
