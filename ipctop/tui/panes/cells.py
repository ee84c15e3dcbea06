"""Cells the panes share: keys, owners, permissions, ages, processes, fill gauges, waiters."""

from __future__ import annotations

from ipctop.model import STOPPED_STATES, Snapshot, Wait
from ipctop.render.bars import bar, percent
from ipctop.render.formatting import hex_key, human_bytes, rwx
from ipctop.tui.panes.base import brief, who
from ipctop.tui.rows import AgeCell, Cell, ListCell, cut, num

GAUGE_WIDTH = 8


class RecoveredKeyCell(Cell):
    """The key of a segment marked for removal: the kernel reads 0 (IPC_RMID zeroed it); the original,
    from the maps name, is shown as `ipctop list` shows it, `0x00000000 (was 0x4950d001)`, or as much
    of that as the column has room for (`0x0 (was 0x4950d001)`, `(was 0x4950d001)`, then `was 0x4950d0…`)."""

    __slots__ = ("original",)

    def __init__(self, key: int, original: int) -> None:
        super().__init__(f"{hex_key(key)} (was {hex_key(original)})", sort=original, role="muted")
        self.original = original

    def fitted(self, width: int) -> str:
        was = f"(was {hex_key(self.original)})"
        for text in (self.plain, f"0x0 {was}", was, was[1:-1]):
            if len(text) <= width:
                return text
        return cut(f"was {hex_key(self.original)}", width)


def key_cell(key: int, original: int | None = None) -> Cell:
    if original is not None:
        return RecoveredKeyCell(key, original)
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


def condition(snapshot: Snapshot, pid: int) -> str:
    """What keeps a process from using its objects: `gone` once it has exited (`zombie` until it is
    reaped), `stopped` (by a signal or its debugger); '' for one running or asleep."""
    if not snapshot.is_alive(pid):
        return "zombie" if snapshot.is_zombie(pid) else "gone"
    process = snapshot.known_processes.get(pid)
    return "stopped" if process is not None and process.state in STOPPED_STATES else ""


def process_names(snapshot: Snapshot, pid: int) -> tuple[str, str, str]:
    """A process's name, its brief name (by comm), each followed by its `condition`, and that."""
    label, short, word = who(snapshot, pid), brief(snapshot, pid), condition(snapshot, pid)
    return (f"{label} {word}", f"{short} {word}", word) if word else (label, short, word)


def process_cell(snapshot: Snapshot, pid: int) -> Cell:
    """A process by name (by comm where the name does not fit), with its `condition`."""
    if not pid:
        return Cell("-", sort="", role="muted")
    label, short, word = process_names(snapshot, pid)
    return ListCell([label], sort=label.lower(), role="warn" if word else None, short=[short])


def gauge_cell(level: int | None, capacity: int | None, width: int = GAUGE_WIDTH) -> Cell:
    """`████····  50%`; alert from 90 %, warn from 70 %."""
    if level is None or not capacity:
        return Cell("-", sort=-1.0, role="muted")
    fraction = level / capacity
    role = "alert" if fraction >= 0.9 else "warn" if fraction >= 0.7 else None
    return Cell(f"{bar(fraction, width)} {percent(fraction):>4}", sort=fraction, role=role)


def waiters_cell(snapshot: Snapshot, waiters: tuple[Wait, ...], show: str = "detail") -> Cell:
    """Who is blocked on an object, with the wait's `detail` (`mq-server[5001] type 9`), its
    `call` (`reader[4101] read`) or nothing more; a guess ends in `?`.  Sorts by how many."""
    if not waiters:
        return Cell("-", sort=0, role="muted")
    items, short = [], []
    for wait in waiters:
        extra = wait.detail if show == "detail" else wait.call if show == "call" else ""
        mark = "" if wait.exact else "?"
        items.append(f"{who(snapshot, wait.pid)} {extra}".rstrip() + mark)
        short.append(f"{brief(snapshot, wait.pid)} {extra}".rstrip() + mark)
    return ListCell(items, sort=len(waiters), role="warn", short=short)
