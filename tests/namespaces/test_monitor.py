"""The monitor on real IPC namespaces: a Namespace column, the namespaces line, --ns and `/`, the detail
and actions of an object of another namespace, done inside it and never on its twin elsewhere."""

from __future__ import annotations

import os

import pytest

from ipctop.tui.screens.detail import DetailScreen
from tests.namespaces.helpers import lsipc_inside
from tests.support.keys import KeyAllocator
from tests.tui.action_helpers import Scope, confirmation, notified, scoped_app, select_row
from tests.tui.helpers import cell_text, row_keys, run_async, screen_text, table, wait_for, wait_scans

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def watching(ipc_key: KeyAllocator, *members) -> Scope:  # type: ignore[no-untyped-def]
    """The live system reduced to this test's processes: ipctop's own and the namespaces' members."""
    scope = Scope(ipc_key)
    for member in members:
        scope.pids.update({member.pid, *member.children})
    return scope


@run_async
async def test_twins_in_two_namespaces_have_rows_of_their_own_with_their_namespace(ipc_key, ipc_namespaces):
    key = 0x49501a01
    one = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "attach": 1}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 8192, "attach": 1}])
    (shmid,) = set(one.ids) | set(two.ids)
    app = scoped_app(watching(ipc_key, one, two))
    async with app.run_test(size=(160, 40)) as pilot:
        keys = (f"{shmid}@{one.inode}", f"{shmid}@{two.inode}")
        await wait_for(pilot, lambda: all(table(app, "shm").row_for(k) for k in keys))
        snapshot = app.state.snapshot
        names = {member.inode: snapshot.namespace(member.inode).name for member in (one, two)}
        assert [c.key for c in table(app, "shm").spec][:2] == ["shmid", "ns"]
        assert cell_text(app, "shm", keys[0], "ns") == names[one.inode]
        assert cell_text(app, "shm", keys[1], "size") == "8K"
        # the rows are in the table's model as soon as the scan is shown; the namespaces line, shown by the
        # same update, is on the screen once Textual has laid the screen out again (it failed once in CI)
        await wait_for(pilot, lambda: "IPC namespaces (3): host " in (text := screen_text(app))
                       and all(f"│ {name} 1 shm" in text for name in names.values()))

        await pilot.press("slash")
        for character in names[two.inode]:
            await pilot.press(character)
        await wait_for(pilot, lambda: row_keys(app, "shm") == [keys[1]])

        app.main_screen.clear_filter()
        await select_row(pilot, app, "shm", keys[0])
        await pilot.press("enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        assert (screen.kind, screen.ident, screen.ipc_ns) == ("shm", shmid, one.inode)
        detail = screen.detail
        assert detail.title == f"Shared memory segment {shmid} in {names[one.inode]}"
        assert ("IPC namespace", f"{names[one.inode]} ({one.inode})") in detail.fields
        assert [pid for pid, how in detail.users if how.startswith("attached")] == [one.pid]


@run_async
async def test_removing_an_object_of_another_namespace_names_it_and_is_done_inside_it(ipc_key, ipc_namespaces):
    key = 0x49501a02
    one = ipc_namespaces.spawn([{"kind": "msg", "key": key, "messages": [[1, "x"]]}])
    two = ipc_namespaces.spawn([{"kind": "msg", "key": key}])
    (msqid,) = set(one.ids) | set(two.ids)
    app = scoped_app(watching(ipc_key, one, two))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_scans(pilot, 1)  # (a pane shown before the tabs are up is not)
        await select_row(pilot, app, "msg", f"{msqid}@{two.inode}")
        name = app.state.snapshot.namespace(two.inode).name
        app.set_paused(True)
        await pilot.press("x")
        question = (await confirmation(pilot, app)).question
        assert question.startswith(f"Remove queue {msqid} (key {key:#010x}) in {name}? It is removed at once: it is")
        await pilot.press("y")
        await notified(pilot, app, f"Removed queue {msqid} in {name}")
    assert lsipc_inside(two.pid, "-q", "ID") == []
    assert [int(q["msgs"]) for q in lsipc_inside(one.pid, "-q", "MSGS")] == [1]  # its twin is untouched


@run_async
async def test_ns_shows_only_that_namespace(ipc_key, ipc_namespaces):
    one = ipc_namespaces.spawn([{"kind": "sem", "key": 0x49501a03, "values": [1]}])
    two = ipc_namespaces.spawn([{"kind": "sem", "key": 0x49501a04, "values": [2]}])
    app = scoped_app(watching(ipc_key, one, two), namespaces=str(two.pid))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_scans(pilot, 1)
        app.main_screen.show_pane("sem")
        await wait_for(pilot, lambda: row_keys(app, "sem") == [f"{two.ids[0]}@{two.inode}"])
        assert cell_text(app, "sem", f"{two.ids[0]}@{two.inode}", "values") == "2"
        assert f"only namespace {two.pid}" in screen_text(app)
