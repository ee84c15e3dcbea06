"""Demos in the monitor: picked with `D`, narrated in a panel, their objects marked ◆ in the
panes, taken step by step with `g`, stopped with ctrl+d or by quitting the monitor (q,
SIGHUP) — and then nothing they made is left: no process, no IPC object, no file.

The live tests run real demos and the monitor scans the real machine, showing only
what the demo's processes made or use (as `ipctop -p PIDS` would: other work on the
machine, thousands of segments at times, stays out of the tables).  The tests wait
on what the screen shows, never on sleeps.
"""

from __future__ import annotations

import os
import signal

import psutil

from ipctop.demos import DemoRun
from ipctop.model import Snapshot
from ipctop.query import filter_snapshot
from ipctop.snapshot import take_snapshot
from ipctop.tui.app import IpctopApp
from ipctop.tui.screens.demo_picker import DemoPicker
from ipctop.tui.widgets.narration import NarrationPanel
from tests.demos.helpers import sysvipc_row
from tests.tui.helpers import (
    cell_text,
    fixture_app,
    notifications,
    play_fixture,
    run_async,
    screen_text,
    table,
    wait_for,
)

INTERVAL = 0.3
FAST = "20"  # the demo's speed: 20 times faster than a lecture


class DemoScope:
    """A snapshot provider: the machine as the demo's processes see it, nothing else."""

    def __init__(self) -> None:
        self.app: IpctopApp | None = None

    def __call__(self) -> Snapshot:
        run = self.app.demo_session.run if self.app is not None else None
        pids = frozenset(run.made.pids) if run is not None else frozenset()
        return filter_snapshot(take_snapshot(), pids=pids)


def live_app(**options: object) -> IpctopApp:
    scope = DemoScope()
    app = IpctopApp(scope, interval=INTERVAL, **options)  # type: ignore[arg-type]
    scope.app = app
    return app


async def start_demo(pilot, name: str, speed: str = FAST, step: bool = False) -> DemoRun:  # type: ignore[no-untyped-def]
    """Open the picker with D, choose `name`, type the speed, start it (S: step by step)."""
    app: IpctopApp = pilot.app
    await pilot.press("D")
    picker = await wait_for(pilot, lambda: isinstance(app.screen, DemoPicker) and app.screen)
    options = picker.query_one("#demos")
    index = [options.get_option_at_index(i).id for i in range(options.option_count)].index(name)
    options.highlighted = index
    picker.query_one("#speed").value = speed
    await pilot.press("S" if step else "enter")
    await wait_for(pilot, lambda: app.screen is app.main_screen)
    run = app.demo_session.run
    assert run is not None and run.info.name == name
    return run


def leftovers(run: DemoRun) -> list[str]:
    """What the run made that the kernel or the file system still has (shm-leak's kept segment aside)."""
    made = run.made
    found = []
    for pid in made.pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(f"process {pid}")
        except psutil.NoSuchProcess:
            pass
    for kind in ("shm", "msg", "sem"):
        for ident in getattr(made, kind):
            row = sysvipc_row(kind, ident)
            if row is not None and (kind, ident) not in run.kept and row["key"] in (*made.keys, 0):
                found.append(f"{kind} {ident}")
    found += [path for path in made.paths if os.path.lexists(path)]
    return found + run.leftovers()


@run_async
async def test_step_by_step_demo_narrates_marks_its_segment_and_stops_with_its_key():
    app = live_app()
    run = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            run = await start_demo(pilot, "shm", step=True)
            panel = app.main_screen.query_one(NarrationPanel)
            assert panel.is_open
            # The gate holds each step until n: the segment appears at step 1 and is attached at step 2.
            while not (run.current.shm and run.current_step and run.current_step.number >= 2):
                awaiting = await wait_for(pilot, lambda: app.demo_session.awaiting, timeout=20)
                await pilot.press("g")
                await wait_for(pilot, lambda held=awaiting: app.demo_session.awaiting is not held)
            (shmid,) = run.current.shm
            await wait_for(pilot, lambda: any("shmget(" in line for line in panel.shown_lines))
            assert any(line.startswith("[1/7]") for line in panel.shown_lines)
            # The demo's segment is marked in pane 1, and its processes with their roles in pane 5.
            await wait_for(pilot, lambda: "◆" in (cell_text(app, "shm", str(shmid), "shmid") or ""), timeout=15)
            assert table(app, "shm").row_for(str(shmid)).role == "demo"
            server = run.current.pid_of("server")
            await pilot.press("5")
            await wait_for(pilot, lambda: "server ◆" in (cell_text(app, "processes", f"p{server}", "process") or ""))
            await wait_for(pilot, lambda: "g: next step" in screen_text(app))
            await pilot.press("ctrl+d")
            assert run.wait(15)
            await wait_for(pilot, lambda: panel.ended)
            assert run.outcome == "stopped"
            assert any("Everything it made is gone" in line for line in panel.shown_lines)
        assert leftovers(run) == []
    finally:
        if run is not None:
            run.stop()


@run_async
async def test_quitting_the_monitor_stops_a_running_demo_and_removes_all_it_made():
    app = live_app()
    run = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            run = await start_demo(pilot, "msgq-full", speed="1")
            await wait_for(pilot, lambda: run.current.msg and "sender" in run.current.pids.values(), timeout=20)
            await pilot.press("q")
        assert run.outcome == "stopped" and not run.running
        assert leftovers(run) == []
    finally:
        if run is not None:
            run.stop()


@run_async
async def test_sighup_to_the_monitor_stops_a_running_demo_and_removes_all_it_made():
    app = live_app(handle_signals=True)
    run = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            run = await start_demo(pilot, "fifo", speed="1")
            await wait_for(pilot, lambda: run.current.paths and len(run.current.pids) >= 2, timeout=20)
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(pilot, lambda: app.return_code is not None)  # the monitor exits…
            assert run.running
        assert run.outcome == "stopped"  # …and stopped the demo on its way out
        assert leftovers(run) == []
    finally:
        if run is not None:
            run.stop()


@run_async
async def test_the_picker_refuses_a_bad_speed_in_one_sentence_and_starts_nothing():
    app = fixture_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        await pilot.press("D")
        picker = await wait_for(pilot, lambda: isinstance(app.screen, DemoPicker) and app.screen)
        picker.query_one("#speed").value = "fast"
        await pilot.press("enter")
        await pilot.pause(0)
        assert app.screen is picker and app.demo_session.run is None
        assert "“fast” is not a speed: write a positive number" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        await pilot.press("g")  # no demo runs: says so, starts nothing
        await wait_for(pilot, lambda: any("No demo is running" in n for n in notifications(app)))
        assert app.demo_session.run is None


@run_async
async def test_readonly_hides_every_demo_key():
    app = fixture_app(readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await play_fixture(pilot)
        for action in ("demo.pick", "demo.next", "demo.stop", "demo.narration"):
            assert not app.main_screen.check_action("do", (action,))
        await pilot.press("D")
        await pilot.pause(0)
        assert app.screen is app.main_screen and app.demo_session.run is None
        assert "D Demo" not in screen_text(app)


def test_demo_running_over_the_fixture(snap_compare):
    """The narration panel and the pipes the (made-up) pipeline demo made, marked ◆."""
    from tests.support.fixture_demo import show_fixture_demo

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        show_fixture_demo(pilot.app)
        await pilot.pause(0)

    assert snap_compare(fixture_app(), press=["4"], terminal_size=(120, 32), run_before=run_before)
