"""Time the monitor from the inside: refresh ticks, key presses, peak memory.

Run by benchmarks.run in a subprocess of its own (so that its peak RSS is the
monitor's): `python -m benchmarks.tui_probe --ticks 10 --presses 5`; prints JSON.

The app runs headless under Textual's test harness at 200x50 with its timer set
out of the way; the probe drives every tick itself.  A tick is timed from the
request to scan until the last time the screen is painted for it (worker scan +
diff, then the panes' update, the layout and render of the screen, and the
terminal's escape codes, made as a terminal's driver makes them though the headless
driver writes nothing); a key press from posting the key until the last paint it
caused.  The probe then waits until the app is idle (every message handled, no paint
for WINDOW_S) before the next one: that wait is not timed.  Textual's test harness
(`pilot._wait_for_screen`) posts a message to every widget to find idleness, some
5 ms a round on the monitor's screen: it runs only once the app is idle, so that
it cannot delay a paint being timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from ipctop.tui.app import IpctopApp


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


WINDOW_S = 0.1  # no paint for this long after the last one: the tick or key press is over


def timed(record: list[float], function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            record.append(time.perf_counter() - started)

    return wrapper


async def settle(pilot: Pilot) -> None:
    """Handle every pending message (handlers post more, hence the rounds), then compose."""
    for _ in range(3):
        await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()
    await pilot._wait_for_screen()


def record_paints(app: IpctopApp) -> list[float]:
    """The times the app's screen is painted, from now on; each paint also makes the terminal's escape
    codes, which the headless driver of the test harness skips."""
    painted: list[float] = []
    display = app._display

    def painting(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count:
            if app.is_headless:
                renderable.render_segments(app.console)  # what a terminal's driver would write
            painted.append(time.perf_counter())

    app._display = painting  # type: ignore[method-assign]
    return painted


async def until_painted(pilot: Pilot, painted: list[float], started: float, done: Callable[[], bool]) -> float:
    """Seconds from `started` to the last paint once `done()` holds and nothing was painted for
    WINDOW_S (or to the moment `done()` was seen, if nothing was painted); then the app is settled."""
    seen: float | None = None

    def ended(seen: float) -> float:
        return max(seen, painted[-1]) if painted and painted[-1] > started else seen

    while True:
        await asyncio.sleep(0.002)
        now = time.perf_counter()
        if seen is None:
            if not done():
                continue
            seen = now
        if now - ended(seen) >= WINDOW_S:
            break
    await settle(pilot)  # every message handled; a paint this forces is counted
    return ended(seen) - started


async def press(pilot: Pilot, painted: list[float], key: str, character: str | None = None) -> float:
    started = time.perf_counter()
    event = events.Key(key, character)
    event.set_sender(pilot.app)
    pilot.app._driver.send_message(event)  # type: ignore[union-attr]
    return await until_painted(pilot, painted, started, lambda: True)


async def probe(ticks: int, presses: int, width: int, height: int) -> dict[str, Any]:
    # the filter line's cursor blinks twice a second: a paint that is no key press's
    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]
    app = IpctopApp(interval=3600.0)
    # a pane switch slides the tabs' underline for 300 ms, a paint every frame, after the pane itself
    # is painted: the probe times what the key changes, not the slide (TEXTUAL_ANIMATIONS=none)
    app.animation_level = "none"
    scans: list[float] = []
    ui_updates: list[float] = []
    app.feed.next = timed(scans, app.feed.next)  # type: ignore[method-assign]
    app._scan_done = timed(ui_updates, app._scan_done)  # type: ignore[method-assign]
    result: dict[str, Any] = {}
    async with app.run_test(size=(width, height)) as pilot:
        painted = record_paints(app)
        started = time.perf_counter()
        while app.state.scans < 1:
            await asyncio.sleep(0.001)
        await settle(pilot)
        result["first_screen_s"] = time.perf_counter() - started
        snapshot = app.state.snapshot
        assert snapshot is not None
        result["objects"] = {"shm": len(snapshot.shm), "msg": len(snapshot.msg), "sem": len(snapshot.sem),
                             "pipes": len(snapshot.pipes), "processes": len(snapshot.processes)}
        tick_times = []
        scans.clear()
        ui_updates.clear()
        for _ in range(ticks):
            count = app.state.scans
            started = time.perf_counter()
            app.request_refresh()
            tick_times.append(await until_painted(pilot, painted, started,
                                                  lambda c=count: app.state.scans > c))  # type: ignore[misc]
        result["tick_s"] = tick_times
        result["tick_scan_s"] = scans[:]
        result["tick_ui_s"] = ui_updates[:]

        keys: dict[str, list[float]] = {"pane switch": [], "sort": [], "filter": []}
        # the keys are pressed in the pane with the most rows: segments (1), pipes (4) or processes (5)
        rows = {"1": len(snapshot.shm), "4": len(snapshot.pipes), "5": len(snapshot.processes)}
        home = max(rows, key=rows.__getitem__)
        result["pane"], result["pane_rows"] = home, rows[home]
        await press(pilot, painted, home, home)
        for _ in range(presses):
            keys["pane switch"].append(await press(pilot, painted, "2", "2"))
            keys["pane switch"].append(await press(pilot, painted, home, home))  # back to the biggest pane
        for _ in range(presses):
            keys["sort"].append(await press(pilot, painted, "greater_than_sign", ">"))
        for _ in range(presses):
            keys["filter"].append(await press(pilot, painted, "slash", "/"))  # open the filter line
            keys["filter"].append(await press(pilot, painted, "4", "4"))  # every row is filtered again
            keys["filter"].append(await press(pilot, painted, "escape"))  # and shown again in full
        result["keys_s"] = keys
        result["key_s"] = [t for times in keys.values() for t in times]
        result["peak_rss_mb"] = peak_rss_mb()
        await pilot.press("q")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--presses", type=int, default=5)
    parser.add_argument("--size", default="200x50")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    result = asyncio.run(probe(args.ticks, args.presses, width, height))
    result["tick_median_s"] = statistics.median(result["tick_s"])
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
