"""The processes of a snapshot as a tree by parent, in display order.

A process whose parent holds no IPC object would otherwise float apart from the
others.  Where the monitor knows the ancestors that hold nothing
(Snapshot.ancestors), an ancestor is a group line, by its name, where the branches
of two listed processes meet (a shell that ran two pipelines), and on the way up from
a listed process or such a line to the nearest listed process above it (a Chromium
renderer under its zygote under the browser).  A group line with no listed process
above it heads a tree of its own, so that the tree is no deeper than its listed
processes make it.  Without them (a one-off look), a process whose
parent is not listed starts a tree of its own; when two or more such share a parent,
that parent is a group line above them, so that siblings which inherited pipes from
it (a shell pipeline) stay together.
Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ipctop.model import Process

_NONE: Mapping[int, Process] = MappingProxyType({})
HEADS_A_TREE = -1  # the parent `connecting` gives a meeting point with no listed process above it


@dataclass(frozen=True, slots=True)
class TreeLine:
    pid: int  # the process, or for a group line the parent's pid
    depth: int
    prefix: str  # box-drawing guides to put before the label
    is_group: bool = False  # a parent that holds nothing, shown only to join its descendants to the tree


def connecting(processes: Mapping[int, Process], ancestors: Mapping[int, Process]) -> dict[int, int]:
    """The ancestors to draw (pid -> their ppid): where the branches of listed processes meet (a shell
    that ran two pipelines, init), and each one on the way up from a listed process or a meeting point
    to the nearest listed process above it (a Chromium zygote).  A meeting point with no listed
    process above it heads a tree of its own, and a listed process with none above it starts one:
    init, a login shell and the shells it ran do not make every tree deeper than before."""
    leads: dict[int, set[int]] = {}  # an ancestor -> its children that lead down to a listed process
    for pid, process in processes.items():
        child, parent, seen = pid, process.ppid, set()
        while parent in ancestors and parent not in processes and parent not in seen:
            seen.add(parent)
            below = leads.setdefault(parent, set())
            if child in below:
                break  # the way up from here was walked from another listed process
            below.add(child)
            child, parent = parent, ancestors[parent].ppid
    meeting = {ancestor for ancestor, below in leads.items() if len(below) > 1}
    drawn = dict.fromkeys(meeting, HEADS_A_TREE)
    starts = [(pid, process.ppid) for pid, process in processes.items()]
    starts += [(pid, ancestors[pid].ppid) for pid in meeting]
    for pid, parent in starts:
        chain: list[int] = []
        while parent in ancestors and parent not in processes and parent not in chain and parent != pid:
            chain.append(parent)
            parent = ancestors[parent].ppid
        if parent in processes:
            if pid in meeting:
                drawn[pid] = ancestors[pid].ppid
            drawn.update((ancestor, ancestors[ancestor].ppid) for ancestor in chain)
    return drawn


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
