"""Nothing of a demo outlives it: `kill -9` of `ipctop demo`'s runner and its demo process
together, at several moments, leaves processes that end on their own (PR_SET_PDEATHSIG) and
objects and files that the next demo, or `ipctop clean --yes`, removes.

Each trial runs in IPC and mount namespaces of its own, with a fresh /tmp and /dev/shm:
it sees only its own demo's objects, and everything it makes goes with the namespaces.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

DRIVER = os.path.join(os.path.dirname(__file__), "killed_demo.py")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="needs root and unshare for namespaces of its own")


def in_namespaces(*argv: str) -> dict:
    script = "mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /dev/shm && exec \"$@\""
    result = subprocess.run(
        ["unshare", "--ipc", "--mount", "sh", "-c", script, "sh", sys.executable, *argv],
        capture_output=True, text=True, timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.dirname(DRIVER))),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# (demo, lines printed before the kill): while objects, files and children are alive
MOMENTS = [("msgq", 6), ("msgq", 14), ("shm", 9), ("shm", 16), ("fifo", 8), ("msgq-full", 12), ("sem-race", 6)]


@pytest.mark.parametrize("then", ["demo", "clean"])
@pytest.mark.parametrize("name, lines", MOMENTS)
def test_a_demo_killed_with_its_runner_leaves_nothing_after_the_next_demo_or_clean(name, lines, then):
    trial = in_namespaces(DRIVER, name, str(lines), then)
    assert trial["lines"] == lines
    assert trial["children_ended"], trial["after_kill"]
    assert trial["after_kill"]["files"], "the kill left the demo's record at least"
    left = trial["left"]
    assert left == {"objects": [], "files": [], "processes": []}, trial
    if then == "clean":
        assert trial["cleaner"]["code"] == 0, trial["cleaner"]
        for thing in trial["after_kill"]["objects"]:
            assert f"removed {thing} " in trial["cleaner"]["out"], trial["cleaner"]["out"]
        assert "left by an ipctop demo" in trial["cleaner"]["out"] or not trial["after_kill"]["objects"]
