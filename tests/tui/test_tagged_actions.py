"""Tagged rows (Space) acted on at once, with real objects: x removes every tagged segment after one
confirmation naming each (an attached one is only marked), and F9 signals every tagged process."""

from __future__ import annotations

import contextlib
import os
import pwd

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.tui.forms import KillForm
from tests.tui.action_helpers import Scope, confirmation, fill_and_submit, notified, open_form, scoped_app, select_row
from tests.tui.helpers import run_async, table, wait_for


def remove_quietly(shmid: int) -> None:
    with contextlib.suppress(IpcError):
        sysv.shm_remove(shmid)


def exists(shmid: int) -> bool:
    try:
        sysv.shm_stat(shmid)
    except IpcError:
        return False
    return True


@run_async
async def test_x_removes_every_tagged_segment_after_one_confirmation_naming_each(ipc_key, holders):
    shmids = [sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600) for _ in range(3)]
    spared = shmids[2]
    scope = Scope(ipc_key)
    app = scoped_app(scope)
    try:
        holder = holders.spawn("shm-attach", shmids[1])
        scope.pids.add(holder.pid)
        async with app.run_test(size=(120, 40)) as pilot:
            shm = table(app, "shm")
            await wait_for(pilot, lambda: all(shm.row_for(str(i)) for i in shmids))
            app.set_paused(True)
            for shmid in shmids[:2]:
                await select_row(pilot, app, "shm", shmid)
                await pilot.press("space")
            assert shm.tagged_keys == [str(i) for i in shmids[:2]]
            await pilot.press("f9")  # F9 as x: with rows tagged, every tagged row
            question = (await confirmation(pilot, app)).question
            assert question.startswith("Remove these 2 objects (IPC_RMID)?")
            assert f"• segment {shmids[0]} (key " in question and "destroyed at once" in question
            assert f"• segment {shmids[1]} (key " in question and f"[{holder.pid}], so only marked" in question
            assert f"segment {spared}" not in question
            await pilot.press("y")
            await notified(pilot, app, f"Removed segment {shmids[0]}. Marked segment {shmids[1]} for removal")
            assert not exists(shmids[0])
            assert sysv.shm_stat(shmids[1]).key == 0  # marked: it goes when its holder detaches
            assert exists(spared)
            assert shm.tagged_keys == []  # done with: untagged
    finally:
        for shmid in shmids:
            remove_quietly(shmid)


@run_async
async def test_f9_signals_every_tagged_process_after_one_confirmation_naming_each(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    scope = Scope(ipc_key)
    app = scoped_app(scope)
    try:
        tagged = [holders.spawn("shm-attach", shmid) for _ in range(2)]
        spared = holders.spawn("shm-attach", shmid)
        scope.pids.update(held.pid for held in (*tagged, spared))
        async with app.run_test(size=(120, 40)) as pilot:
            processes = table(app, "processes")
            app.main_screen.show_pane("processes")
            await wait_for(pilot, lambda: processes.row_for(f"p{spared.pid}"))
            app.set_paused(True)
            for held in tagged:
                await select_row(pilot, app, "processes", f"p{held.pid}")
                await pilot.press("space")
            form = await open_form(pilot, app, "f9", KillForm)
            assert "the 2 tagged processes" in str(form.form_title)
            await fill_and_submit(pilot, form)  # TERM, the default
            question = (await confirmation(pilot, app)).question
            assert question.startswith("Send SIGTERM to these 2 processes?")
            user = pwd.getpwuid(os.geteuid()).pw_name
            assert all(f"[{held.pid}] (user {user})" in question for held in tagged)
            assert f"[{spared.pid}]" not in question
            await pilot.press("y")
            await notified(pilot, app, "Sent it to ")
            assert [held.popen.wait(timeout=10) for held in tagged] == [0, 0]  # they exit 0 on TERM
            assert spared.popen.poll() is None
            assert processes.tagged_keys == []
    finally:
        remove_quietly(shmid)
