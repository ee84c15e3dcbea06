"""What the action tests share: the live monitor scoped to one test's objects, and form driving.

The app scans the real kernel (take_snapshot over the real /proc) but reads only
the processes the test names, its own (ipctop, which attaches) and its holder
children, and shows only the objects whose key the test was handed (ipc_key) or
whose id it registered here.  So a scan stays quick and the tables hold a row or
two, whatever else the machine runs (a benchmark with 10,000 segments, say).
"""

from __future__ import annotations

import os

from textual.pilot import Pilot
from textual.widgets import Input

from ipctop.collectors.procfs import Gone, ProcFS
from ipctop.frozen import Factory, frozen, replace
from ipctop.model import Snapshot
from ipctop.snapshot import take_snapshot
from ipctop.tui.app import IpctopApp
from ipctop.tui.forms.base import FormScreen
from ipctop.tui.forms.confirm import ConfirmScreen
from tests.support.keys import KeyAllocator
from tests.tui.helpers import notifications, table, wait_for

INTERVAL = 0.5  # the actions ask for a scan themselves; the timer only catches what children do


@frozen
class ScopedProcFS(ProcFS):
    """The real /proc, where only the processes in `scope` exist."""

    scope: set[int] = Factory(set)  # type: ignore[assignment]

    def pids(self) -> list[int]:
        return [pid for pid in self.scope if os.path.exists(f"/proc/{pid}")]

    def _check(self, pid: int | str) -> None:
        if pid != "self" and pid not in self.scope:
            raise Gone(pid)

    def read_pid_bytes(self, pid: int, name: str) -> bytes:
        self._check(pid)
        return ProcFS.read_pid_bytes(self, pid, name)

    def read_pid_record(self, pid: int, name: str) -> bytes:
        self._check(pid)
        return ProcFS.read_pid_record(self, pid, name)

    def readlink_pid(self, pid: int, name: str) -> str:
        self._check(pid)
        return ProcFS.readlink_pid(self, pid, name)


class Scope:
    """A snapshot provider: the live system reduced to what one test made."""

    def __init__(self, keys: KeyAllocator) -> None:
        self.keys = keys
        self.ids: dict[str, set[int]] = {"shm": set(), "msg": set(), "sem": set()}
        self.pids = {os.getpid()}

    def __call__(self) -> Snapshot:
        snapshot = take_snapshot(ScopedProcFS(scope=self.pids))
        keys = self.keys.handed_out

        def mine(kind: str, ident: int, key: int) -> bool:
            return key in keys or ident in self.ids[kind]

        return replace(
            snapshot,
            shm={i: s for i, s in snapshot.shm.items() if mine("shm", i, s.display_key)},
            msg={i: q for i, q in snapshot.msg.items() if mine("msg", i, q.key)},
            sem={i: s for i, s in snapshot.sem.items() if mine("sem", i, s.key)},
            pipes={},
            fifos={},
        )


def scoped_app(scope: Scope, **options: object) -> IpctopApp:
    return IpctopApp(scope, interval=INTERVAL, **options)  # type: ignore[arg-type]


async def notified(pilot: Pilot, app: IpctopApp, text: str) -> str:
    """Wait for a notification containing `text`; return it."""
    try:
        found = await wait_for(pilot, lambda: [m for m in notifications(app) if text in m])
    except AssertionError:
        raise AssertionError(f"no notification with {text!r}; shown: {notifications(app)}") from None
    return found[-1]  # type: ignore[index]


async def select_row(pilot: Pilot, app: IpctopApp, pane_id: str, row_key: object) -> None:
    """Show the pane, wait for the row and put the cursor on it.  Until it stays: Textual's tabs make
    their first tab active once they are up, and on a loaded machine that can come after the first
    scan, taking back a pane shown before it (then a key meant for this row went to another pane)."""
    for _ in range(20):
        if app.main_screen.current_pane.pane_id != pane_id:
            app.main_screen.show_pane(pane_id)
        await wait_for(pilot, lambda: table(app, pane_id).row_for(str(row_key)))
        t = table(app, pane_id)  # after the first scan: with a Namespace column where there are several
        t.move_cursor(row=t.get_row_index(str(row_key)))
        await wait_for(pilot, lambda: app.main_screen.current_pane.selected is not None)
        await pilot.pause(0.05)
        if app.main_screen.current_pane.pane_id == pane_id and app.main_screen.current_pane.selected is not None:
            return
    raise AssertionError(f"pane {pane_id} did not stay shown")


async def open_form(pilot: Pilot, app: IpctopApp, key: str, form_type: type) -> FormScreen:
    await pilot.press(key)
    return await wait_for(pilot, lambda: isinstance(app.screen, form_type) and app.screen)  # type: ignore[return-value]


async def fill_and_submit(pilot: Pilot, form: FormScreen, **values: str) -> None:
    """Type values into the form's inputs (by field id) and press Enter in the last one, as a user would."""
    field = ""
    for field, text in values.items():
        form.query_one(f"#input-{field.replace('_', '-')}", Input).value = text
    target = form.query_one(f"#input-{field.replace('_', '-')}", Input) if field else form.query_one("#ok")
    target.focus()
    await pilot.press("enter")


async def confirmation(pilot: Pilot, app: IpctopApp) -> ConfirmScreen:
    return await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)  # type: ignore[return-value]
