"""With --readonly no action that changes anything is shown or runs, whatever key is pressed."""

from __future__ import annotations

import contextlib

from ipctop.actions.requests import RemoveRequest
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.model import SHM_DEST
from ipctop.tui import registry
from tests.tui.action_helpers import Scope, notified, scoped_app, select_row
from tests.tui.helpers import run_async, screen_text, table, wait_for


def make_segment(key: int) -> int:
    return sysv.shmget(key, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)


def remove_quietly(shmid: int) -> None:
    with contextlib.suppress(IpcError):
        sysv.shm_remove(shmid)


@run_async
async def test_readonly_hides_and_refuses_every_changing_action(ipc_key):
    shmid = make_segment(ipc_key())
    app = scoped_app(Scope(ipc_key), readonly=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.set_paused(True)
            app.request_refresh()
            await select_row(pilot, app, "shm", shmid)
            main = app.main_screen
            changing = [spec for spec in registry.all_actions() if spec.mutates]
            assert {"shm.create", "shm.attach", "shm.remove", "msg.send", "sem.operate", "process.kill"} <= {
                spec.id for spec in changing
            }
            for pane_id in ("shm", "msg", "sem", "processes"):
                main.show_pane(pane_id)
                await wait_for(pilot, lambda pane_id=pane_id: main.current_pane.pane_id == pane_id)
                assert not [spec.id for spec in changing if main.check_action("do", (spec.id,))]
            main.show_pane("shm")
            await select_row(pilot, app, "shm", shmid)
            await wait_for(pilot, lambda: "Quit" in screen_text(app).splitlines()[-1])  # the Footer recomposes
            footer = screen_text(app).splitlines()[-1]
            assert "Quit" in footer and not any(word in footer for word in ("Create", "Attach", "Remove", "Write"))

            await pilot.press("x", "delete", "a", "c", "e")  # nothing opens, nothing changes
            assert app.screen is main
            main.context().perform(RemoveRequest("shm", shmid))  # and a handler that tried would be refused
            await notified(pilot, app, "--readonly")
            stat = sysv.shm_stat(shmid)
            assert stat.nattch == 0 and not stat.mode & SHM_DEST
            assert table(app, "shm").row_for(str(shmid)) is not None
    finally:
        remove_quietly(shmid)
