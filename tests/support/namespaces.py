"""Real IPC namespaces for tests: `unshare --ipc` members holding real objects, ended for sure.

Every member gets a lifeline (tests/support/ns_member.py): a pipe whose write end only
this process holds, so the members exit even if the test run is killed; `close()` kills
them by pid and waits until no process is left in their namespaces, and the leak guard
(tests/conftest.py) fails a test whose namespace still has a process afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from tests.support.shell_children import children_of

MEMBER = os.path.join(os.path.dirname(__file__), "ns_member.py")


@dataclass
class Member:
    """One namespace's first process (host pid), what it made, and its namespace's inode."""

    pid: int
    inode: int
    ids: list[int]
    children: list[int]
    popen: subprocess.Popen
    lifeline: int  # our write end
    made: set[tuple[int, int]] = field(default_factory=set)  # (pid, start time) of every process of it

    @property
    def link(self) -> str:
        return f"ipc:[{self.inode}]"


def _start_of(pid: int) -> tuple[int, str] | None:
    """(start time in ticks, state) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]), fields[0]


def still_running(made: set[tuple[int, int]]) -> set[int]:
    """The pids of `made` ((pid, start time) pairs) that still run: a zombie has left its
    namespaces already.  (A namespace's inode is not compared: a freed one's is soon reused.)"""
    alive = set()
    for pid, start in made:
        now = _start_of(pid)
        if now is not None and now[0] == start and now[1] != "Z":
            alive.add(pid)
    return alive


class Namespaces:
    """Starts members of new IPC namespaces; `close()` ends them all."""

    def __init__(self, registry: set[tuple[int, int]] | None = None) -> None:
        self.members: list[Member] = []
        self.registry = registry if registry is not None else set()  # (pid, start time) of every process made

    def _register(self, pids: list[int]) -> set[tuple[int, int]]:
        made = set()
        for pid in pids:
            start = _start_of(pid)
            if pid > 0 and start is not None:
                made.add((pid, start[0]))
        self.registry.update(made)
        return made

    def spawn(self, objects: list[dict], *, pid_namespace: bool = False) -> Member:
        """A new IPC namespace (and pid and mount namespaces, like a container's, with
        `pid_namespace`) whose first process makes `objects` (ns_member.py's SPEC)."""
        read_end, write_end = os.pipe()
        os.set_inheritable(read_end, True)
        unshare = ["unshare", "--ipc"]
        if pid_namespace:
            unshare += ["--pid", "--fork", "--kill-child", "--mount-proc"]
        try:
            popen = subprocess.Popen(
                [*unshare, sys.executable, MEMBER, str(read_end), json.dumps(objects)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                pass_fds=(read_end,),
                text=True,
            )
        finally:
            os.close(read_end)
        line = popen.stdout.readline().strip()
        pid = popen.pid
        children_inside = []
        if pid_namespace:  # unshare forked: the member is its child, and its children's pids are the host's
            pid = (children_of(popen.pid) or [0])[0]
            children_inside = children_of(pid) if pid else []
        inode = 0
        with contextlib.suppress(OSError):
            inode = os.stat(f"/proc/{pid}/ns/ipc").st_ino
        answer = json.loads(line[len("ready "):]) if line.startswith("ready ") else {"ids": [], "children": []}
        children = children_inside if pid_namespace else answer["children"]
        member = Member(pid, inode, answer["ids"], children, popen, write_end)
        member.made = self._register([popen.pid, pid, *children])
        self.members.append(member)
        if not line.startswith("ready "):
            raise RuntimeError(f"namespace member failed: {line!r}")
        return member

    def end(self, member: Member) -> None:
        """Kill every process of the member's namespace that this made, and wait until none is left."""
        with contextlib.suppress(OSError):
            os.close(member.lifeline)
        for pid in [*member.children, member.pid, member.popen.pid]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        member.popen.wait(timeout=10)
        if member.popen.stdout:
            member.popen.stdout.close()
        deadline = time.monotonic() + 10
        while still_running(member.made) and time.monotonic() < deadline:
            time.sleep(0.02)  # the members' children are reaped by init, not by us

    def close(self) -> None:
        for member in self.members:
            self.end(member)
        self.members.clear()
