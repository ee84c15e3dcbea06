"""The processes pane's tree while real processes exit (issue 11 §4): an exited process stays one scan,
struck through, where it stood, and the lines of the tree stay right around it and after it.

Before, the row of an exited process kept its old place while the tree was built again without
it: `└─` under the wrong parent, two `└─` under one parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ipctop.kernel import sysv
from ipctop.tui.panes.processes import TreeCell
from tests.support.holders import wait_until
from tests.tui.action_helpers import Scope, scoped_app
from tests.tui.helpers import pause_scans, run_async, table, wait_for, wait_scans

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# P attaches a segment and forks C1, C2 and C3 (which inherit it); C3 forks G.  Each waits for a
# signal; P reaps its children.  P prints the pids, in that order.
FAMILY = textwrap.dedent(f"""
    import os, signal, sys
    sys.path.insert(0, {ROOT!r})
    from ipctop.kernel import sysv
    sysv.shmat(int(sys.argv[1]))
    def wait():
        while True:
            signal.pause()
    kids = []
    read_end, write_end = os.pipe()
    for n in range(3):
        pid = os.fork()
        if pid == 0:
            if n == 2:
                grandchild = os.fork()
                if grandchild == 0:
                    wait()
                os.write(write_end, str(grandchild).encode() + b"\\n")
            wait()
        kids.append(pid)
    grandchild = int(os.read(read_end, 64).decode())
    signal.signal(signal.SIGCHLD, lambda *_: [os.waitpid(-1, os.WNOHANG) for _ in range(3)])
    print(os.getpid(), *kids, grandchild, flush=True)
    wait()
""")


def tree_problems(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Where the drawn tree disagrees with the processes' parents (an exited one: its last parent)."""
    processes = table(app, "processes")
    stack: list[str] = []
    children: dict[str | None, list[tuple[str, str]]] = {}
    problems = []
    for key in processes.ordered_keys:
        row = processes.row_for(key)
        cell = row.cells[0]
        prefix = cell.prefix if isinstance(cell, TreeCell) else ""
        depth = len(prefix) // 3
        del stack[depth:]
        parent = stack[-1] if stack else None
        if parent is not None and row.obj is not None and parent not in (f"p{row.obj.ppid}", f"g{row.obj.ppid}"):
            problems.append(f"{key} drawn under {parent}, its parent is {row.obj.ppid}")
        children.setdefault(parent, []).append((key, prefix[-3:]))
        stack.append(key)
    for parent, kids in children.items():
        if parent is None:
            continue
        branches = [branch for _key, branch in kids]
        if branches != ["├─ "] * (len(kids) - 1) + ["└─ "]:
            problems.append(f"under {parent}: {[f'{k} {b}' for k, b in kids]}")
    return problems


@run_async
async def test_the_tree_stays_right_while_a_process_with_a_child_exits(ipc_key):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    family = subprocess.Popen([sys.executable, "-c", FAMILY, str(shmid)], stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        pids = [int(pid) for pid in family.stdout.readline().split()]  # type: ignore[union-attr]
        parent, first, second, third, grandchild = pids
        scope = Scope(ipc_key)
        scope.pids.update(pids)
        app = scoped_app(scope)
        async with app.run_test(size=(120, 30)) as pilot:
            app.main_screen.show_pane("processes")
            processes = table(app, "processes")
            await wait_for(pilot, lambda: all(processes.row_for(f"p{pid}") for pid in pids))
            await pause_scans(pilot)
            await wait_for(pilot, lambda: processes.row_for(f"p{grandchild}").parent == f"p{third}")
            assert tree_problems(app) == []
            os.kill(third, signal.SIGKILL)  # the last child, with a child of its own: G goes to init
            wait_until(lambda: not os.path.exists(f"/proc/{third}"), timeout=30)
            wait_until(lambda: _ppid(grandchild) != third, timeout=30)
            scans = app.state.scans
            app.request_refresh()
            await wait_scans(pilot, scans + 1)
            await wait_for(pilot, lambda: processes.row_for(f"p{grandchild}").parent != f"p{third}")
            assert processes.is_fading(f"p{third}")  # one scan, struck through, in its place
            keys = list(processes.ordered_keys)
            assert keys.index(f"p{third}") == keys.index(f"p{second}") + 1
            assert tree_problems(app) == []
            app.request_refresh()
            await wait_scans(pilot, scans + 2)
            assert processes.row_for(f"p{third}") is None
            assert tree_problems(app) == []
            assert processes.row_for(f"p{second}").cells[0].prefix.endswith("└─ ")  # the last child now
    finally:
        for pid in reversed(pids):
            if os.path.exists(f"/proc/{pid}"):
                os.kill(pid, signal.SIGKILL)
        family.wait(timeout=30)
        if family.stdout:
            family.stdout.close()
        if pids:
            wait_until(lambda: not os.path.exists(f"/proc/{pids[-1]}"), timeout=30)
        sysv.shm_remove(shmid)


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except FileNotFoundError:
        pytest.fail(f"process {pid} is gone")


def test_a_name_that_does_not_fit_is_cut_before_the_lines_of_the_tree():
    child = TreeCell("│  └─ ", "postgres: checkpointer", sort=2)
    assert child.fitted(20) == "│  └─ postgres: che…"  # still drawn under its parent
    assert child.fitted(28) == "│  └─ postgres: checkpointer"
    deep = TreeCell("│  │     │  ├─ ", "python child.py", sort=9)
    assert deep.fitted(16) == "… │  ├─ python …"  # too deep: the leftmost lines go, behind …
    assert TreeCell("", "postgres", sort=0).fitted(5) == "post…"
    # siblings too deep for the column keep their lines in one column, whatever their names' lengths
    # (a zombie is named by its comm alone, often shorter than its live siblings' names)
    for width in range(12, 21):
        short, long = TreeCell("│     │  ├─ ", "py", sort=1), TreeCell("│     │  ├─ ", "python3 worker", sort=2)
        assert short.fitted(width).index("├") == long.fitted(width).index("├"), width
