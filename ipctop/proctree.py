"""The processes of a snapshot as a tree by parent, in display order.

A process whose parent holds no IPC object would otherwise float apart from the
others.  Where the monitor knows the ancestors that hold nothing
(Snapshot.ancestors), those between a process and its nearest listed ancestor are
drawn as group lines, so that a Chromium renderer stays under its zygote under the
browser.  A process with no listed ancestor starts a tree of its own; when two or
more such share a parent, that parent is a group line above them, so that siblings
which inherited pipes from it (a shell pipeline) stay together.
Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ipctop.model import Process

_NONE: Mapping[int, Process] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TreeLine:
    pid: int  # the process, or for a group line the parent's pid
    depth: int
    prefix: str  # box-drawing guides to put before the label
    is_group: bool = False  # a parent that holds nothing, shown only to join its descendants to the tree


def connecting(processes: Mapping[int, Process], ancestors: Mapping[int, Process]) -> dict[int, int]:
    """The ancestors (pid -> their ppid) that stand between a process and its nearest listed ancestor."""
    joining: dict[int, int] = {}
    for process in processes.values():
        chain: list[int] = []
        parent = process.ppid
        while parent not in processes and parent not in joining and parent in ancestors and parent not in chain:
            chain.append(parent)
            parent = ancestors[parent].ppid
        if chain and (parent in processes or parent in joining) and parent not in chain:
            joining.update((ancestor, ancestors[ancestor].ppid) for ancestor in chain)
    return joining


def process_tree(processes: Mapping[int, Process], ancestors: Mapping[int, Process] = _NONE) -> list[TreeLine]:
    parent_of = {pid: process.ppid for pid, process in processes.items()}
    groups = connecting(processes, ancestors) if ancestors else {}
    parent_of.update(groups)
    children: dict[int, list[int]] = {}
    roots: dict[int, list[int]] = {}  # missing parent -> its children in the snapshot
    for pid, ppid in parent_of.items():
        if ppid in parent_of and ppid != pid:
            children.setdefault(ppid, []).append(pid)
        else:
            roots.setdefault(ppid, []).append(pid)
    lines: list[TreeLine] = []

    def walk(pid: int, depth: int, guides: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(TreeLine(pid, depth, guides + branch, is_group=pid in groups))
        below = guides + ("" if top else ("   " if last else "│  "))
        kids = sorted(children.get(pid, ()))
        for i, kid in enumerate(kids):
            walk(kid, depth + 1, below, i == len(kids) - 1, False)

    for parent in sorted(roots):
        kids = sorted(roots[parent])
        if len(kids) > 1 and parent > 0:
            lines.append(TreeLine(parent, 0, "", is_group=True))
            for i, kid in enumerate(kids):
                walk(kid, 1, "", i == len(kids) - 1, False)
        else:
            for kid in kids:
                walk(kid, 0, "", True, True)
    return lines
