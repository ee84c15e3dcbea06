"""The semaphore keys of the monitor against a real set: c, o (waking a waiting process, and waiting itself), v, x."""

from __future__ import annotations

import contextlib

import pytest

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.tui.forms import SemCreateForm, SemOpForm, SemSetForm
from tests.support.holders import wait_until, wchan
from tests.tui.action_helpers import Scope, confirmation, fill_and_submit, notified, open_form, scoped_app, select_row
from tests.tui.helpers import run_async, wait_scans


def remove_quietly(semid: int | None) -> None:
    if semid is not None:
        with contextlib.suppress(IpcError):
            sysv.sem_remove(semid)


@run_async
async def test_create_operate_wake_a_waiter_set_and_remove(ipc_key, holders):
    key = ipc_key()
    scope = Scope(ipc_key)
    app = scoped_app(scope)
    semid = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_scans(pilot, 1)
            app.set_paused(True)
            app.main_screen.show_pane("sem")

            form = await open_form(pilot, app, "c", SemCreateForm)
            await fill_and_submit(pilot, form, key=f"{key:#x}", semaphores="2", values="0,1")
            await notified(pilot, app, "Created semaphore set")
            semid = sysv.semget(key, 0, 0)
            assert sysv.sem_getall(semid, 2) == (0, 1)

            waiter = holders.spawn("sem-wait", semid, 0, -1)  # blocks: semaphore 0 is 0
            wait_until(lambda: sysv.sem_get(semid, 0, sysv.GETNCNT) == 1 and "semtimedop" in wchan(waiter.pid))
            await select_row(pilot, app, "sem", semid)

            form = await open_form(pilot, app, "o", SemOpForm)
            await fill_and_submit(pilot, form, index="0", delta="+1")
            await notified(pilot, app, f"Did +1 on semaphore {semid}[0]")
            wait_until(lambda: "semtimedop" not in wchan(waiter.pid))  # woken: it took the 1
            assert sysv.sem_get(semid, 0, sysv.GETNCNT) == 0
            assert sysv.sem_getall(semid, 2) == (0, 1)

            # ipctop itself waits now (in a worker thread): semaphore 0 is 0 again.
            form = await open_form(pilot, app, "o", SemOpForm)
            await fill_and_submit(pilot, form, index="0", delta="-1")
            await notified(pilot, app, "it waits until it can be done")
            assert app.screen is app.main_screen

            form = await open_form(pilot, app, "v", SemSetForm)
            await fill_and_submit(pilot, form, index="0", value="3")
            await notified(pilot, app, f"Set semaphore {semid}[0] to 3")
            await notified(pilot, app, f"Did -1 on semaphore {semid}[0]")  # the wait is over
            assert sysv.sem_getall(semid, 2) == (2, 1)

            await pilot.press("x")
            question = (await confirmation(pilot, app)).question
            assert question.startswith(f"Remove semaphore set {semid} (key {key:#010x}, 2 semaphores)?")
            await pilot.press("y")
            await notified(pilot, app, f"Removed semaphore set {semid}")
            with pytest.raises(IpcError):
                sysv.sem_stat(semid)
    finally:
        remove_quietly(semid)
