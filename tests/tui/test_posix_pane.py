"""Pane 8 against real POSIX objects: rows with their holders, the detail's hex view read without side
effects, and the keys: create, write, send and receive, post, unlink; --readonly hides them."""

from __future__ import annotations

import contextlib
import os

from ipctop.frozen import replace
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError
from ipctop.model import Snapshot
from ipctop.tui.forms.posix_forms import PosixCreateForm, PosixReceiveForm, PosixSemOpForm, PosixSendForm
from ipctop.tui.screens.detail import DetailScreen
from tests.support.posix_names import PosixNames
from tests.tui.action_helpers import Scope, confirmation, fill_and_submit, notified, open_form, scoped_app, select_row
from tests.tui.helpers import cell_text, row_keys, run_async, wait_for, wait_scans


class PosixScope(Scope):
    """The live system reduced to the test's processes and the POSIX objects named in the suite's range."""

    def __init__(self, keys, names: PosixNames) -> None:  # type: ignore[no-untyped-def]
        super().__init__(keys)
        self.names = names

    def __call__(self) -> Snapshot:
        snapshot = super().__call__()
        prefix = self.names.prefix

        def mine(table):  # type: ignore[no-untyped-def]
            return {i: o for i, o in table.items() if o.name.lstrip("/").startswith(prefix)}

        return replace(snapshot, pshm=mine(snapshot.pshm), psem=mine(snapshot.psem), pmsg=mine(snapshot.pmsg),
                       memfd={i: o for i, o in snapshot.memfd.items() if {h.pid for h in o.holders} & self.pids})


def _unlink_all(*pairs: tuple) -> None:
    for unlink, name in pairs:
        with contextlib.suppress(IpcError):
            unlink(name)


@run_async
async def test_a_held_object_its_holders_and_its_bytes_read_through_the_holder(ipc_key, posix_name, holders):
    name = posix_name()
    holder = holders.spawn("pshm-hold", name, 8192, "create")  # writes its name at the start
    scope = PosixScope(ipc_key, posix_name)
    scope.pids.add(holder.pid)
    inode = os.stat(posix.shm_path(name)).st_ino
    atime = os.stat(posix.shm_path(name)).st_atime_ns
    app = scoped_app(scope)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_scans(pilot, 1)
            await select_row(pilot, app, "posix", f"pshm:{inode}")
            assert cell_text(app, "posix", f"pshm:{inode}", "name") == name
            assert cell_text(app, "posix", f"pshm:{inode}", "kind") == "shm"
            assert cell_text(app, "posix", f"pshm:{inode}", "size") == "8K"
            held = cell_text(app, "posix", f"pshm:{inode}", "held")
            assert held is not None and f"[{holder.pid}] " in held and held.endswith("map")
            await pilot.press("enter")
            detail = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
            contents = await wait_for(pilot, lambda: detail.contents)  # type: ignore[union-attr]
            assert f"read through python[{holder.pid}]'s mapping, changing nothing" in contents.note
            assert contents.lines[0].startswith("00000000: 2f69")  # "/i", the start of the name
            assert os.stat(posix.shm_path(name)).st_atime_ns == atime
    finally:
        _unlink_all((posix.shm_unlink, name))


@run_async
async def test_create_send_receive_post_and_unlink_from_the_pane(ipc_key, posix_name):
    queue, sem = posix_name(), posix_name()
    app = scoped_app(PosixScope(ipc_key, posix_name))
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_scans(pilot, 1)
            app.set_paused(True)
            app.main_screen.show_pane("posix")

            form = await open_form(pilot, app, "c", PosixCreateForm)
            form.query_one("#choice-kind").action_next_button()  # type: ignore[attr-defined]
            form.query_one("#choice-kind").action_next_button()  # type: ignore[attr-defined]
            await pilot.press("enter")  # the third choice: a queue
            await wait_for(pilot, lambda: form.choice("kind") == 2)
            await fill_and_submit(pilot, form, name=queue, capacity="4x64")
            await notified(pilot, app, f"Created queue {queue}")
            # held open here: without a mounted mqueue filesystem, a queue is seen while it is held
            held = posix.mq_open(queue, os.O_RDONLY)
            attributes = posix.mq_getattr(held)
            inode = os.fstat(held).st_ino
            assert (attributes.max_messages, attributes.message_size) == (4, 64)
            app.request_refresh()
            await select_row(pilot, app, "posix", f"pmsg:{inode}")

            for priority, text in ((1, "low"), (5, "high")):
                form = await open_form(pilot, app, "s", PosixSendForm)
                await fill_and_submit(pilot, form, text=text, priority=str(priority))
                await notified(pilot, app, f"of priority {priority} to queue {queue}")
            form = await open_form(pilot, app, "r", PosixReceiveForm)
            form.query_one("#ok").focus()
            await pilot.press("enter")
            await notified(pilot, app, f"Received a message of priority 5 from queue {queue}: 'high'")

            form = await open_form(pilot, app, "s", PosixSendForm)
            await fill_and_submit(pilot, form, text="x" * 65)
            assert "more than the queue's message size (64)" in form.shown_errors()["text"]  # nothing sent
            await pilot.press("escape")

            await pilot.press("x")
            question = await confirmation(pilot, app)
            assert f"Unlink {queue}?" in question.question
            assert f"python[{os.getpid()}] still holds it, so it lives on" in question.question
            await pilot.press("enter")
            await notified(pilot, app, f"Unlinked queue {queue}")
            os.close(held)
            with contextlib.suppress(IpcError):
                os.close(posix.mq_open(queue, os.O_RDONLY))
                raise AssertionError(f"{queue} is still there")

            posix.sem_close(posix.sem_open(sem, os.O_CREAT | os.O_EXCL, 0o600, 0))
            app.request_refresh()
            inode = os.stat(posix.sem_path(sem)).st_ino
            await select_row(pilot, app, "posix", f"psem:{inode}")
            form = await open_form(pilot, app, "o", PosixSemOpForm)
            await fill_and_submit(pilot, form, count="3")
            await notified(pilot, app, f"Posted semaphore {sem} 3 times: its value is 3")
            await wait_for(pilot, lambda: cell_text(app, "posix", f"psem:{inode}", "state") == "value 3")
    finally:
        _unlink_all((posix.mq_unlink, queue), (posix.sem_unlink, sem))


@run_async
async def test_readonly_hides_every_changing_key_of_the_pane(ipc_key, posix_name):
    name = posix_name()
    os.close(posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    app = scoped_app(PosixScope(ipc_key, posix_name), readonly=True)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_scans(pilot, 1)
            await select_row(pilot, app, "posix", f"pshm:{os.stat(posix.shm_path(name)).st_ino}")
            for key in ("c", "x", "w", "e"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is app.main_screen, key
            assert os.path.exists(posix.shm_path(name))
    finally:
        _unlink_all((posix.shm_unlink, name))


@run_async
async def test_named_objects_come_before_a_big_memfd(ipc_key, posix_name, holders):
    """A browser holds hundreds of memfds; a program's own semaphore must not sort below them all
    (the pane put memory first: every memfd before any semaphore)."""
    name = posix_name()
    memfd = os.memfd_create("ipctop-test-big")
    try:
        os.ftruncate(memfd, 1 << 20)
        memfd_holder = holders.spawn("memfd-map", memfd, 1 << 20, pass_fds=(memfd,))
        sem_holder = holders.spawn("psem-hold", name, 1)
        scope = PosixScope(ipc_key, posix_name)
        scope.pids.update((memfd_holder.pid, sem_holder.pid))
        sem_inode = os.stat(posix.sem_path(name)).st_ino
        memfd_inode = os.fstat(memfd).st_ino
        app = scoped_app(scope)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_scans(pilot, 1)
            app.main_screen.show_pane("posix")
            await wait_for(pilot, lambda: {f"psem:{sem_inode}", f"memfd:{memfd_inode}"} <= set(row_keys(app, "posix")))
            keys = row_keys(app, "posix")
            assert keys.index(f"psem:{sem_inode}") < keys.index(f"memfd:{memfd_inode}")
    finally:
        os.close(memfd)
        _unlink_all((posix.sem_unlink, name))
