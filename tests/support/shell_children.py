"""The processes a shell started, once each has become the program it runs.

A shell forks first and execs later: for a moment its child is a copy of the shell (comm `sh`), and
after exec sets the new comm the command line still reads empty until the new argument area is in
place. A test that takes a child's name or command line must wait for both.
"""

from __future__ import annotations

from collections.abc import Collection

from tests.support.holders import wait_until


def children_of(pid: int) -> list[int]:
    """`pid`'s children, by /proc's children list; [] once `pid` is gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    """`pid` and every process under it, by /proc's children lists (a process gone on the way is left out)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children_of(current))
    return found


def comm_of(pid: int) -> str:
    """`pid`'s command name; "" once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _has_cmdline(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return bool(f.read(1))
    except OSError:
        return False


def execed_children(shell: int, comms: Collection[str], timeout: float = 60) -> dict[int, str]:
    """`shell`'s children by pid with their comm, once they are exactly `comms` and each has its command line."""

    def settled() -> dict[int, str] | None:
        named = {pid: comm_of(pid) for pid in children_of(shell)}
        if sorted(named.values()) != sorted(comms) or not all(map(_has_cmdline, named)):
            return None
        return named

    return wait_until(settled, timeout)
