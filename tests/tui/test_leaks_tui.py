"""The Leaks pane (7): real leaked segments with their reason, an attached one left out, and
removal from the monitor that removes exactly the confirmed object.

The live test confines the monitor to its own objects twice over: `-p` the pids
that made or hold them (fast scans on a busy machine), and LeakFilters with the
test's own keys, so that the pane can never offer another helper's object.
The fixture tests never confirm a removal: their ids are made up, and may name
real objects on this machine.
"""

from __future__ import annotations

import os

from ipctop.cleanup import LeakFilters
from ipctop.kernel import sysv
from ipctop.tui.app import IpctopApp
from ipctop.tui.forms.confirm import ConfirmScreen
from ipctop.tui.panes.leaks import LeaksPane
from tests.cleanup.helpers import create_segment_and_exit
from tests.demos.helpers import sysvipc_row
from tests.tui.helpers import (
    cell_text,
    fixture_app,
    notifications,
    play_fixture,
    row_keys,
    run_async,
    screen_text,
    table,
    wait_for,
)

INTERVAL = 0.3


def leaks_pane(app: IpctopApp) -> LeaksPane:
    pane = app.main_screen.pane("leaks")
    assert isinstance(pane, LeaksPane)
    return pane


def created_and_left(holders, key: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(shmid, pid) of a segment made by a child that then exited without IPC_RMID."""
    creator = holders.spawn("shm-create-exit", key, 4096)
    creator.popen.wait(timeout=10)
    return int(creator.ready.split()[1]), creator.pid


@run_async
async def test_leaks_pane_lists_a_leaked_segment_and_removes_exactly_it(ipc_key, holders):
    leaked_key, attached_key = ipc_key(), ipc_key()
    leaked, leaker = created_and_left(holders, leaked_key)
    # Made by a child that exited, like the leaked one, but attached at once by this process:
    # in use, so no candidate.  (Attached here rather than by a holder that takes a while to
    # start: nothing can take it for a leak in between.)
    attached, attached_creator = create_segment_and_exit(attached_key)
    address = sysv.shmat(attached)
    try:
        app = IpctopApp(
            interval=INTERVAL,
            pids=frozenset({leaker, attached_creator, os.getpid()}),
            leak_filters=LeakFilters(keys=frozenset({leaked_key, attached_key}), grace=0),  # seconds old
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("7")
            leaks = table(app, "leaks")
            await wait_for(pilot, lambda: leaks.row_for(f"shm:{leaked}"))
            reason = cell_text(app, "leaks", f"shm:{leaked}", "reason")
            assert f"creator pid {leaker} has exited" in reason and "nattch 0" in reason
            assert cell_text(app, "leaks", f"shm:{leaked}", "removable") == "yes"
            assert row_keys(app, "leaks") == [f"shm:{leaked}"]  # the attached one is not listed
            assert app.state.snapshot.shm[attached].nattch == 1  # though the monitor does see it
            app.set_paused(True)  # an idle app takes key presses at once
            leaks.move_cursor(row=leaks.get_row_index(f"shm:{leaked}"))
            await pilot.press("x")
            confirm = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
            assert f"shm {leaked} (key {leaked_key:#010x})" in confirm.question
            assert str(attached) not in confirm.question
            await pilot.press("y")
            await wait_for(pilot, lambda: sysvipc_row("shm", leaked) is None)
            assert sysvipc_row("shm", attached) is not None
            outcome = await wait_for(pilot, lambda: [n for n in notifications(app) if n.startswith("Removed")])
            assert outcome == ["Removed 1 of 1 leaked objects."]
            assert f"removed shm {leaked}" in screen_text(app)  # the outcome, object by object, under the table
            await wait_for(pilot, lambda: leaks.row_for(f"shm:{leaked}") is None or leaks.is_fading(f"shm:{leaked}"))
    finally:
        sysv.shmdt(address)
        for shmid in (leaked, attached):
            if sysvipc_row("shm", shmid) is not None:
                sysv.shm_remove(shmid)


@run_async
async def test_remove_all_asks_for_exactly_the_removable_candidates_and_a_reported_one_is_refused():
    app = fixture_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("7")
        leaks = table(app, "leaks")
        await wait_for(pilot, lambda: leaks.row_count == 3)
        assert cell_text(app, "leaks", "shm:7", "removable") == "no, reported"
        assert cell_text(app, "leaks", "msg:2", "removable") == "no, reported"
        leaks.move_cursor(row=leaks.get_row_index("shm:7"))
        await pilot.press("x")  # marked for removal but kept alive by a process: never removed
        await wait_for(
            pilot, lambda: any("shm 7 (key 0x4950d001) is reported, never removed" in n for n in notifications(app))
        )
        assert app.screen is app.main_screen
        await pilot.press("X")
        confirm = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert confirm.question.startswith("Remove this leaked object?")
        assert "shm 9 (key 0x00000000)" in confirm.question and "creator pid 8888 has exited" in confirm.question
        assert "shm 7" not in confirm.question and "msg 2" not in confirm.question
        await pilot.press("n")  # made-up ids: never say yes here
        await wait_for(pilot, lambda: app.screen is app.main_screen)


@run_async
async def test_readonly_shows_the_leaks_but_hides_removal():
    app = fixture_app(readonly=True)
    async with app.run_test(size=(120, 32)) as pilot:
        await play_fixture(pilot)
        await pilot.press("7")
        await wait_for(pilot, lambda: table(app, "leaks").row_count == 3)
        for action in ("leaks.remove", "leaks.remove_all"):
            assert not app.main_screen.check_action("do", (action,))
        await pilot.press("X")
        await pilot.pause(0)
        assert app.screen is app.main_screen
        assert "Remove all" not in screen_text(app)


def test_leaks_pane(snap_compare):
    """Removable first; the reported ones muted; the reason of the selected one in full below."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await play_fixture(pilot)
        await pilot.press("7")
        await wait_for(pilot, lambda: table(pilot.app, "leaks").row_count == 3)  # judged in a worker thread
        await pilot.pause(0)

    assert snap_compare(fixture_app(), terminal_size=(120, 32), run_before=run_before)
