"""A made-up demo run over the fixture machine, for pictures of the monitor showing a demo.

`FixtureDemoRun` looks to the monitor like a DemoRun of `pipeline` in its third
step, whose shell and three commands are the fixture's `sleep 1000 | sleep 2000
| sleep 3000` (pids 2100–2103): their pipes and processes are marked, and the
narration is what the real demo prints, with the fixture's pids.  It starts no
process and touches nothing.
"""

from __future__ import annotations

from types import MappingProxyType

from ipctop.demos import DemoStep, MadeObjects, find
from ipctop.tui.app import IpctopApp

PIDS = {2100: "shell", 2101: "a", 2102: "b", 2103: "c"}
NARRATION = (
    "[1/4] The shell makes two pipes for a | b | c",
    "  shell 2100: pipe([3, 5]) = 0",
    "  shell 2100: pipe([6, 7]) = 0",
    "[2/4] The shell forks a, b and c; each dup2()s its ends onto 0 and 1 and closes the rest",
    "  shell 2100: fork() = 2101",
    "  a 2101: dup2(5, 1) = 1",
    "  shell 2100: fork() = 2102",
    "  b 2102: dup2(3, 0) = 0",
    "  b 2102: dup2(7, 1) = 1",
    "  shell 2100: fork() = 2103",
    "  c 2103: dup2(6, 0) = 0",
    "[3/4] The shell closes all four ends: each pipe has one writer and one reader",
    "  shell 2100: close(3) = 0",
    "  shell 2100: close(5) = 0",
    "  shell 2100: close(6) = 0",
    "  shell 2100: close(7) = 0",
    "  # look: a 2101 writes pipe 1, b 2102 reads it and writes pipe 2, c 2103 reads pipe 2",
)


class FixtureDemoRun:
    """What the monitor reads of a DemoRun, fixed."""

    def __init__(self) -> None:
        info = find("pipeline")
        assert info is not None
        self.info = info
        self.speed = 1.0
        self.current_step = DemoStep(
            3, 4, "close", "The shell closes all four ends: each pipe has one writer and one reader"
        )
        self.current = self.made = MadeObjects(
            MappingProxyType(PIDS), frozenset(), frozenset(), frozenset(), frozenset(), frozenset()
        )
        self.running = True
        self.outcome: str | None = None
        self.error: str | None = None
        self.kept: dict[tuple[str, int], int] = {}
        self.started_at = self.ended_at = 0.0

    def stop(self) -> None:
        pass

    def leftovers(self) -> list[str]:
        return []


def show_fixture_demo(app: IpctopApp) -> None:
    """Make the monitor show the made-up pipeline demo, narration and marks."""
    session = app.demo_session
    session.follow(FixtureDemoRun())  # type: ignore[arg-type]
    for line in NARRATION:
        session.narrate(line)
    session.poll()
    app.main_screen.show_state()
