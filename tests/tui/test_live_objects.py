"""The monitor against real kernel objects that each test creates and removes.

The app scans the live system every 0.2 s, showing only what this test process
created or touches (`--pid` to itself: the segments it makes have it as creator),
so that other work on the machine does not fill its tables.  The tests wait on
what the screen shows, never on fixed sleeps.

Where a test must know which scan shows a change, its app scans only when asked
(`request_refresh`, or an action's refresh; the timer is an hour): a scan asked
for after the change began after it, and no other scan can come in between.  On
a loaded machine the timer would run more scans while the test waits, and a count
of them would measure the load, not the monitor.
"""

from __future__ import annotations

import contextlib
import os

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.tui.app import IpctopApp
from ipctop.tui.screens.detail import DetailScreen
from tests.tui.helpers import cell_text, notifications, row_keys, run_async, screen_text, table, wait_for

INTERVAL = 0.2
DEADLINE = 60.0  # seconds: only bounds a failure; a loaded machine may take many seconds for a step


def live_app(interval: float = INTERVAL) -> IpctopApp:
    return IpctopApp(interval=interval, pids=frozenset({os.getpid()}))


def scanning_when_asked() -> IpctopApp:
    """The live monitor whose timer never fires within a test: it scans on mount and when asked."""
    return live_app(interval=3600.0)


def make_segment(key: int, size: int = 4096) -> int:
    return sysv.shmget(key, size, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)


def remove_quietly(shmid: int) -> None:
    with contextlib.suppress(IpcError):
        sysv.shm_remove(shmid)


@run_async
async def test_a_new_segment_is_shown_by_the_first_scan_that_began_after_it_was_made(ipc_key):
    app = scanning_when_asked()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.scans == 1, timeout=DEADLINE)  # the scan on mount; no other is due
        shmid = make_segment(ipc_key())
        try:
            app.request_refresh()  # scan 2 begins now, after the segment was made
            await wait_for(pilot, lambda: table(app, "shm").row_for(str(shmid)), timeout=DEADLINE)
            assert app.state.scans == 2  # shown by that scan: no later one was asked for
            assert cell_text(app, "shm", str(shmid), "nattch") == "0"
        finally:
            remove_quietly(shmid)


@run_async
async def test_second_attach_changes_nattch_and_attachers(ipc_key, holders):
    shmid = make_segment(ipc_key())
    try:
        first = holders.spawn("shm-attach", shmid)
        app = live_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: cell_text(app, "shm", str(shmid), "nattch") == "1")
            assert f"[{first.pid}]" in cell_text(app, "shm", str(shmid), "attachers")
            second = holders.spawn("shm-attach", shmid)
            await wait_for(pilot, lambda: cell_text(app, "shm", str(shmid), "nattch") == "2")
            attachers = cell_text(app, "shm", str(shmid), "attachers")
            assert f"[{first.pid}]" in attachers and f"[{second.pid}]" in attachers
            holders.end(second)
            await wait_for(pilot, lambda: cell_text(app, "shm", str(shmid), "nattch") == "1")
            assert f"[{second.pid}]" not in cell_text(app, "shm", str(shmid), "attachers")
    finally:
        remove_quietly(shmid)


@run_async
async def test_removal_shows_in_the_event_log(ipc_key):
    shmid = make_segment(ipc_key())
    try:
        app = live_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: table(app, "shm").row_for(str(shmid)))
            sysv.shm_remove(shmid)
            await wait_for(pilot, lambda: any(e.event.object_id == shmid for e in app.state.events))
            app.set_paused(True)  # an idle app takes key presses at once (Pilot waits for idle)
            await pilot.press("6")
            assert app.main_screen.current_pane.pane_id == "events"

            def removal_logged() -> bool:
                events = table(app, "events")
                shown = (events.row_for(key) for key in row_keys(app, "events"))
                return any(row.obj.kind.value == "removed" and row.obj.object_label == f"shm {shmid}" for row in shown)

            await wait_for(pilot, removal_logged)
            assert f"shm {shmid}" in screen_text(app)
            await pilot.press("1")
            app.request_refresh()  # it faded for one refresh; after the next it is gone
            await wait_for(pilot, lambda: table(app, "shm").row_for(str(shmid)) is None)
    finally:
        remove_quietly(shmid)


@run_async
async def test_detail_screen_lists_the_attaching_pid(ipc_key, holders):
    shmid = make_segment(ipc_key())
    try:
        attacher = holders.spawn("shm-attach", shmid)
        app = live_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: cell_text(app, "shm", str(shmid), "nattch") == "1")
            app.set_paused(True)  # an idle app takes key presses at once (Pilot waits for idle)
            shm = table(app, "shm")  # (the one with a Namespace column on a machine with containers)
            shm.move_cursor(row=shm.get_row_index(str(shmid)))
            await pilot.press("enter")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
            assert (screen.kind, screen.ident) == ("shm", shmid)
            detail = screen.detail
            assert attacher.pid in [pid for pid, _how in detail.users]
            await pilot.pause(0)
            assert f"{attacher.pid}" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.main_screen)
    finally:
        remove_quietly(shmid)


def remove_selected_segment(ctx) -> None:  # type: ignore[no-untyped-def]
    """What a later handler module looks like: confirm, call the kernel, let the next scan show it."""
    segment = ctx.selected
    ctx.confirm(
        f"Remove segment {segment.shmid}?",
        lambda: ctx.attempt(lambda: sysv.shm_remove(segment.shmid), f"Segment {segment.shmid} removed."),
    )


def remove_missing_in_thread(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.run_in_thread(lambda: sysv.shm_remove(ctx.selected.shmid), done="removed twice?")


@run_async
async def test_a_registered_action_confirms_calls_the_kernel_and_refreshes(ipc_key, monkeypatch):
    from ipctop.tui import registry
    from ipctop.tui.forms.confirm import ConfirmScreen
    from ipctop.tui.registry import ActionSpec

    extra = (
        ActionSpec("test.remove", "", "Remove segment", remove_selected_segment, panes=frozenset({"shm"}),
                   mutates=True, needs_selection=True),
        ActionSpec("test.remove_again", "", "Remove again", remove_missing_in_thread, panes=frozenset({"shm"}),
                   mutates=True, needs_selection=True),
    )  # fmt: skip
    specs = (*registry.all_actions(), *extra)
    monkeypatch.setattr(registry, "all_actions", lambda: specs)
    shmid = make_segment(ipc_key())
    try:
        app = scanning_when_asked()  # so the only scan after the removal is the one the action asks for
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: table(app, "shm").row_for(str(shmid)), timeout=DEADLINE)  # the scan on mount
            shm = table(app, "shm")  # (the one with a Namespace column on a machine with containers)
            shm.move_cursor(row=shm.get_row_index(str(shmid)))
            await app.main_screen.run_registered("test.remove")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=DEADLINE)
            await pilot.press("y")
            # Shown removed (its row fades for one scan) by the refresh the action asked for: scan 2.
            await wait_for(pilot, lambda: shm.is_fading(str(shmid)), timeout=DEADLINE)
            assert app.state.scans == 2
            assert f"Segment {shmid} removed." in notifications(app)
            await app.main_screen.run_registered("test.remove_again")  # the row, fading, is still selected
            error = await wait_for(
                pilot, lambda: [n for n in notifications(app) if "EINVAL" in n or "EIDRM" in n], timeout=DEADLINE
            )
            assert len(error) == 1 and "\n" not in error[0]  # one sentence, no traceback
    finally:
        remove_quietly(shmid)
