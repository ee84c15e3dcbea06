"""A monitor run with --pid keeps each row whole, and names every process on it as the whole machine's
monitor does: the filter leaves processes out of the Processes pane, not out of the names of the holders
and waiters shown (they were `[812]` in the pipes pane and `?` in a pipe's detail)."""

from __future__ import annotations

import os
import signal

from ipctop.tui.app import IpctopApp
from ipctop.tui.screens.detail import DetailScreen
from tests.tui.action_helpers import select_row
from tests.tui.helpers import cell_text, run_async, screen_text, wait_for

DEADLINE = 60.0


@run_async
async def test_with_a_pid_filter_the_other_holders_of_a_pipe_keep_their_names(holders):
    read_fd, write_fd = os.pipe()
    try:
        inode = os.fstat(read_fd).st_ino
        watched = holders.spawn("hold", pass_fds=(write_fd,))
        other = holders.spawn("hold", pass_fds=(read_fd,))
    finally:
        os.close(read_fd)
        os.close(write_fd)
    app = IpctopApp(interval=3600.0, pids=frozenset({watched.pid}))
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.state.scans >= 1, timeout=DEADLINE)
        assert other.pid not in app.state.snapshot.processes  # the filter: only the watched process is listed
        await select_row(pilot, app, "pipes", f"pipe:{inode}")
        flow = cell_text(app, "pipes", f"pipe:{inode}", "flow")
        assert flow == f"python child.py[{watched.pid}] ━▶ python child.py[{other.pid}]"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), timeout=DEADLINE)
        await pilot.pause(0.1)
        rows = [line.split() for line in screen_text(app).splitlines()]
        other_row = next(words for words in rows if words[:1] == [str(other.pid)])
        assert other_row[1:5] == ["python", f"child.py[{other.pid}]", "root", "S"]  # `python child.py[pid]`


@run_async
async def test_a_watched_pid_that_no_process_has_is_said_to_be_not_running(holders):
    """`ipctop -p PID` of a typo, or of a process that has exited, showed empty panes without a word."""
    watched = holders.spawn("hold")
    app = IpctopApp(interval=3600.0, pids=frozenset({watched.pid}))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.scans >= 1, timeout=DEADLINE)
        await pilot.pause(0.05)
        assert f"only pid {watched.pid}" in screen_text(app).splitlines()[0]
        assert "not running" not in screen_text(app).splitlines()[0]
        holders.end(watched)  # ended and reaped: its pid is in no process's /proc entry
        assert f"only pid {watched.pid} ({watched.pid} not running)" in await _summary_once_not_running(pilot, app)


@run_async
async def test_a_watched_pid_that_died_unreaped_is_said_to_be_not_running(holders):
    """A zombie is not running: its pid is still in /proc until its parent reaps it."""
    read_fd, write_fd = os.pipe()
    try:
        watched = holders.spawn("hold", pass_fds=(write_fd,))  # it holds a pipe: listed, then seen to die
        app = IpctopApp(interval=3600.0, pids=frozenset({watched.pid}))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.state.scans >= 1, timeout=DEADLINE)
            assert "not running" not in screen_text(app).splitlines()[0]
            os.kill(watched.pid, signal.SIGKILL)  # not reaped: Popen waits only when asked
            await wait_for(pilot, lambda: _state(watched.pid) == "Z", timeout=DEADLINE)
            summary = await _summary_once_not_running(pilot, app)
            assert f"only pid {watched.pid} ({watched.pid} not running)" in summary
            assert app.state.snapshot.is_zombie(watched.pid)
    finally:
        os.close(read_fd)
        os.close(write_fd)


async def _summary_once_not_running(pilot, app: IpctopApp) -> str:  # type: ignore[no-untyped-def]
    """The summary line after a new scan, once it says a watched pid is not running."""
    scans = app.state.scans
    app.request_refresh()
    await wait_for(pilot, lambda: app.state.scans > scans, timeout=DEADLINE)
    return await wait_for(pilot, lambda: "not running" in screen_text(app).splitlines()[0]
                          and screen_text(app).splitlines()[0], timeout=DEADLINE)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]
