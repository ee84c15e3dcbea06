"""Cells the panes share: keys, owners, permissions, ages, processes, fill gauges, waiters."""

from __future__ import annotations

from ipctop.model import Snapshot, Wait
from ipctop.render.bars import bar, percent
from ipctop.render.formatting import hex_key, human_bytes, proc_label, rwx
from ipctop.tui.panes.base import shorten, who
from ipctop.tui.rows import AgeCell, Cell, num

GAUGE_WIDTH = 8


def key_cell(key: int, original: int | None = None) -> Cell:
    if original is not None:
        return Cell(hex_key(original), sort=original, role="muted")  # IPC_RMID zeroed it; the maps name kept it
    if key == 0:
        return Cell("private", sort=0, role="muted")
    return Cell(hex_key(key), sort=key)


def perms_cell(perms: int) -> Cell:
    return Cell(rwx(perms), sort=perms)


def bytes_cell(n: int | None) -> Cell:
    return num(n, human_bytes(n))


def age_cell(since: float, now: float) -> Cell:
    if not since:
        return Cell("-", sort=float("-inf"), role="muted", justify="right")  # before every AgeCell (-since)
    return AgeCell(since, now)


def process_cell(snapshot: Snapshot, pid: int) -> Cell:
    if not pid:
        return Cell("-", sort="", role="muted")
    label = who(snapshot, pid)
    alive = snapshot.is_alive(pid)
    return Cell(label if alive else f"{label} gone", sort=label.lower(), role=None if alive else "warn")


def gauge_cell(level: int | None, capacity: int | None, width: int = GAUGE_WIDTH) -> Cell:
    """`████····  50%`; alert from 90 %, warn from 70 %."""
    if level is None or not capacity:
        return Cell("-", sort=-1.0, role="muted")
    fraction = level / capacity
    role = "alert" if fraction >= 0.9 else "warn" if fraction >= 0.7 else None
    return Cell(f"{bar(fraction, width)} {percent(fraction):>4}", sort=fraction, role=role)


def waiters_cell(waiters: tuple[Wait, ...], show: str = "detail", limit: int = 30) -> Cell:
    """Who is blocked on an object, briefly, with the wait's `detail` (`mq-server[5001] type 9`),
    its `call` (`reader[4101] read`) or nothing more; a guess ends in `?`.  Sorts by how many."""
    if not waiters:
        return Cell("-", sort=0, role="muted")
    parts = []
    for wait in waiters:
        extra = wait.detail if show == "detail" else wait.call if show == "call" else ""
        text = f"{proc_label(wait.comm, wait.pid)} {extra}".rstrip()
        parts.append(text if wait.exact else f"{text}?")
    return Cell(shorten(parts, limit), sort=len(waiters), role="warn")
