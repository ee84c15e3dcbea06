"""The processes pane draws the tree whole: a parent that holds nothing stands, dimmed and by its name,
between the processes it joins.  Before, Chromium's renderers hung under a `(parent)` line of their
own at the top of the tree, and its GPU process (the only child of its zygote) stood alone there, as
if neither were the browser's."""

from __future__ import annotations

from ipctop.snapshot import Scanner
from ipctop.tui.app import IpctopApp
from tests.support.generations import three_generations
from tests.tui.action_helpers import INTERVAL, ScopedProcFS
from tests.tui.helpers import run_async, table, wait_for
from tests.tui.test_process_tree_exits import tree_problems


@run_async
async def test_a_parent_that_holds_nothing_is_drawn_between_its_parent_and_its_child():
    with three_generations() as (top, middle, grandchild):
        scanner = Scanner(ScopedProcFS(scope={top, middle, grandchild}), ancestry=True)
        app = IpctopApp(scanner.scan, interval=INTERVAL)
        async with app.run_test(size=(120, 30)) as pilot:
            app.main_screen.show_pane("processes")
            processes = table(app, "processes")
            await wait_for(pilot, lambda: processes.row_for(f"p{grandchild}") and processes.row_for(f"g{middle}"))
            group = processes.row_for(f"g{middle}")
            assert group.parent == f"p{top}" and processes.row_for(f"p{grandchild}").parent == f"g{middle}"
            assert group.cells[0].name.startswith("python") and group.cells[0].role == "muted"
            assert group.cells[3].plain.startswith("S")  # asleep in wait(): what it does is still shown
            assert tree_problems(app) == []
