"""No process can fool the screen: a process named `\\e[2J\\e]0;PWNED\\a` (prctl PR_SET_NAME) that
holds a segment and a FIFO whose path holds a newline, seen by `ipctop list` and by the monitor.

Every control character shows as an escape (`\\x1b`, `\\n`): nothing reaches the terminal that
would clear it, retitle it or start a forged row.  JSON keeps the text exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ipctop.kernel import sysv
from ipctop.tui.app import IpctopApp
from tests.tui.helpers import run_async, screen_text, table, wait_for

HOSTILE_NAME = "\x1b[2J\x1b]0;PWNED\x07"  # clear the screen, retitle the terminal, bell: 14 bytes
SHOWN_NAME = "\\x1b[2J\\x1b]0;PWNED\\x07"
CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


def hostile(holders, ipc_key, tmp_path):  # type: ignore[no-untyped-def]
    """(holder, shmid, fifo path): a renamed process holding a segment and a FIFO named over two lines."""
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    fifo = tmp_path / "fifo\nFORGED ROW 1 2 3"
    os.mkfifo(fifo)
    holder = holders.spawn("hostile", HOSTILE_NAME, shmid, fifo)
    return holder, shmid, str(fifo)


def test_list_escapes_a_hostile_process_name_and_a_fifo_path_with_a_newline(holders, ipc_key, tmp_path):
    holder, shmid, fifo = hostile(holders, ipc_key, tmp_path)
    try:
        result = subprocess.run([sys.executable, "-m", "ipctop", "list", "--pid", str(holder.pid)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert not CONTROL & set(out.replace("\n", "")), repr(out)
        assert f"{SHOWN_NAME}[{holder.pid}]" in out
        [fifo_line] = [line for line in out.splitlines() if "FORGED ROW" in line]
        assert fifo_line.startswith(fifo.replace("\n", "\\n"))  # one row, the path escaped in it
        listed = json.loads(subprocess.run([sys.executable, "-m", "ipctop", "list", "--json", "--pid",
                                            str(holder.pid)], capture_output=True, text=True, timeout=60).stdout)
        assert any(f["path"] == fifo for f in listed["fifos"])  # JSON keeps it exact
        assert listed["processes"][0]["comm"] == HOSTILE_NAME
    finally:
        holders.end(holder)
        sysv.shm_remove(shmid)


def _cells(app: IpctopApp, pane_id: str) -> list[str]:
    """Every cell of the pane's rows, as it shows whole and as it shows cut to each narrower width (a
    narrow column has some cells rebuild their text from their parts: a chain's processes by comm)."""
    shown = table(app, pane_id)
    texts = []
    for cell in (cell for key in shown.ordered_keys if (row := shown.row_for(key)) for cell in row.cells):
        texts.append(cell.plain)
        texts.extend(str(cell.fitted(width)) for width in range(1, cell.cell_len))
    return texts


@run_async
async def test_the_monitor_escapes_them_in_every_pane(holders, ipc_key, tmp_path):
    holder, shmid, fifo = hostile(holders, ipc_key, tmp_path)
    try:
        app = IpctopApp(interval=0.3, pids=frozenset({holder.pid}))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: any(SHOWN_NAME in text for text in _cells(app, "shm")), timeout=30)
            for pane_id, key in (("shm", "1"), ("pipes", "4"), ("processes", "5")):
                await pilot.press(key)
                await wait_for(pilot, lambda pane_id=pane_id: _cells(app, pane_id), timeout=30)
                cells = _cells(app, pane_id)
                assert not any(CONTROL & set(text) for text in cells), (pane_id, cells)
                assert not CONTROL & set(screen_text(app).replace("\n", "")), pane_id
            assert any("fifo\\nFORGED ROW" in text for text in _cells(app, "pipes"))  # the name, escaped
            assert any(SHOWN_NAME in text for text in _cells(app, "processes"))
            await pilot.press("enter")  # the detail of the renamed process
            await wait_for(pilot, lambda: SHOWN_NAME in screen_text(app), timeout=30)
            assert not CONTROL & set(screen_text(app).replace("\n", ""))
    finally:
        holders.end(holder)
        sysv.shm_remove(shmid)
