"""Objects created from a monitor that runs with --pid: the creation says when the filter hides them.

The app scans only when asked (the timer is an hour), so the scan after a creation
is the one the action asks for; what the notification says is checked against
what that scan lists.
"""

from __future__ import annotations

import contextlib
import os

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.tui.app import IpctopApp
from ipctop.tui.forms import MsgCreateForm, SemCreateForm, ShmCreateForm
from tests.tui.action_helpers import Scope, fill_and_submit, notified, open_form
from tests.tui.helpers import run_async, table, wait_for

DEADLINE = 60.0


def remove_by_key(*keys: int) -> None:
    """Remove whatever the test made with these keys (a failed step may have made some of it)."""
    for key in keys:
        with contextlib.suppress(IpcError):
            sysv.shm_remove(sysv.shmget(key, 0, 0))
        with contextlib.suppress(IpcError):
            sysv.msg_remove(sysv.msgget(key, 0))
        with contextlib.suppress(IpcError):
            sysv.sem_remove(sysv.semget(key, 0, 0))


async def create(pilot, app: IpctopApp, pane: str, form_type: type, **values: str) -> str:  # type: ignore[no-untyped-def]
    """Create from the pane's form; the notification, once the scan after it was shown."""
    scans = app.state.scans
    app.main_screen.show_pane(pane)
    form = await open_form(pilot, app, "c", form_type)
    await fill_and_submit(pilot, form, **values)
    said = await notified(pilot, app, "Created ")
    await wait_for(pilot, lambda: app.state.scans == scans + 1, timeout=DEADLINE)
    return said


@run_async
async def test_watching_another_pid_a_created_object_is_said_to_be_unlisted(ipc_key, holders):
    watched = holders.spawn("hold")
    shm_key, msg_key, sem_key = ipc_key(), ipc_key(), ipc_key()
    app = IpctopApp(Scope(ipc_key), interval=3600.0, pids=frozenset({watched.pid}))
    because = f"It is not listed: the monitor shows what pid {watched.pid} uses, and only ipctop[{os.getpid()}] " \
              "has used it yet."  # fmt: skip
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.state.scans == 1, timeout=DEADLINE)
            said = await create(pilot, app, "shm", ShmCreateForm, key=hex(shm_key), size="64")
            shmid = sysv.shmget(shm_key, 0, 0)
            assert said == f"Created segment {shmid} (key {shm_key:#010x}). {because}"
            assert table(app, "shm").row_for(str(shmid)) is None  # and indeed the scan after it left it out

            said = await create(pilot, app, "msg", MsgCreateForm, key=hex(msg_key))
            msqid = sysv.msgget(msg_key, 0)
            assert said == f"Created queue {msqid} (key {msg_key:#010x}). {because}"
            assert table(app, "msg").row_for(str(msqid)) is None

            said = await create(pilot, app, "sem", SemCreateForm, key=hex(sem_key), semaphores="1", values="1")
            semid = sysv.semget(sem_key, 0, 0)
            assert said == f"Created semaphore set {semid} (key {sem_key:#010x}). {because}"
            assert table(app, "sem").row_for(str(semid)) is None
    finally:
        remove_by_key(shm_key, msg_key, sem_key)


@run_async
async def test_watching_ipctop_itself_a_created_segment_is_listed_and_nothing_is_said(ipc_key):
    key = ipc_key()
    app = IpctopApp(Scope(ipc_key), interval=3600.0, pids=frozenset({os.getpid()}))  # the creator is ipctop
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.state.scans == 1, timeout=DEADLINE)
            said = await create(pilot, app, "shm", ShmCreateForm, key=hex(key), size="64")
            shmid = sysv.shmget(key, 0, 0)
            assert said == f"Created segment {shmid} (key {key:#010x})"
            await wait_for(pilot, lambda: table(app, "shm").row_for(str(shmid)), timeout=DEADLINE)
    finally:
        remove_by_key(key)
