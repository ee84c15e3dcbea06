"""The message queue keys of the monitor against a real queue: c, s, r (by type, waiting), x."""

from __future__ import annotations

import contextlib

import pytest

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.tui.forms import MsgCreateForm, MsgReceiveForm, MsgSendForm
from tests.tui.action_helpers import Scope, confirmation, fill_and_submit, notified, open_form, scoped_app, select_row
from tests.tui.helpers import cell_text, run_async, wait_for, wait_scans


def remove_quietly(msqid: int | None) -> None:
    if msqid is not None:
        with contextlib.suppress(IpcError):
            sysv.msg_remove(msqid)


@run_async
async def test_create_send_receive_by_type_wait_and_remove(ipc_key):
    key = ipc_key()
    app = scoped_app(Scope(ipc_key))
    msqid = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_scans(pilot, 1)
            app.set_paused(True)
            app.main_screen.show_pane("msg")

            form = await open_form(pilot, app, "c", MsgCreateForm)
            await fill_and_submit(pilot, form, key=str(key), mode="600")  # decimal works as well as hex
            await notified(pilot, app, "Created queue")
            msqid = sysv.msgget(key, 0)
            await select_row(pilot, app, "msg", msqid)

            for mtype, text in ((3, "three"), (1, "one")):
                form = await open_form(pilot, app, "s", MsgSendForm)
                await fill_and_submit(pilot, form, type=str(mtype), text=text)
                await notified(pilot, app, f"of type {mtype} to queue {msqid}")
            assert sysv.msg_stat(msqid).qnum == 2

            # -4: the first message of the lowest type <= 4, which is "one" although "three" came first
            form = await open_form(pilot, app, "r", MsgReceiveForm)
            await fill_and_submit(pilot, form, type="-4")
            await notified(pilot, app, f"Received a message of type 1 from queue {msqid}: 'one'")
            assert sysv.msg_stat(msqid).qnum == 1

            form = await open_form(pilot, app, "r", MsgReceiveForm)
            await fill_and_submit(pilot, form, type="0")
            await notified(pilot, app, f"Received a message of type 3 from queue {msqid}: 'three'")

            # The queue is empty: this receive waits (off the UI) until a message of type 7 comes.
            form = await open_form(pilot, app, "r", MsgReceiveForm)
            await fill_and_submit(pilot, form, type="7")
            await notified(pilot, app, f"Waiting for a message on queue {msqid}")
            assert app.screen is app.main_screen  # the monitor goes on while it waits
            sysv.msgsnd(msqid, 2, b"not this one")
            sysv.msgsnd(msqid, 7, b"late")
            await notified(pilot, app, f"Received a message of type 7 from queue {msqid}: 'late'")
            assert sysv.msg_stat(msqid).qnum == 1
            await wait_for(pilot, lambda: cell_text(app, "msg", str(msqid), "qnum") == "1")

            await pilot.press("x")
            question = (await confirmation(pilot, app)).question
            assert question.startswith(f"Remove queue {msqid} (key {key:#010x})? It is removed at once: its 1 waiting")
            await pilot.press("y")
            await notified(pilot, app, f"Removed queue {msqid}")
            with pytest.raises(IpcError):
                sysv.msg_stat(msqid)
    finally:
        remove_quietly(msqid)
