"""The processes of a snapshot as a tree by parent, in display order.

Processes whose parent holds no IPC object would otherwise float apart; when
two or more of them share a parent, that parent is shown as a group line so
that siblings which inherited pipes from it (a shell pipeline) stay together.
Pure: no textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ipctop.model import Process


@dataclass(frozen=True, slots=True)
class TreeLine:
    pid: int  # the process, or for a group line the parent's pid
    depth: int
    prefix: str  # box-drawing guides to put before the label
    is_group: bool = False  # a parent outside the snapshot, shown only to group its children


def process_tree(processes: Mapping[int, Process]) -> list[TreeLine]:
    children: dict[int, list[int]] = {}
    roots: dict[int, list[int]] = {}  # missing parent -> its children in the snapshot
    for pid, process in processes.items():
        if process.ppid in processes and process.ppid != pid:
            children.setdefault(process.ppid, []).append(pid)
        else:
            roots.setdefault(process.ppid, []).append(pid)
    lines: list[TreeLine] = []

    def walk(pid: int, depth: int, guides: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(TreeLine(pid, depth, guides + branch))
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
