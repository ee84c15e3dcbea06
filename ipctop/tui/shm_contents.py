"""The first bytes of a segment as a hex dump, for the detail screen, or the sentence why not.

A segment ipctop holds is read through its attachment (no side effect, so it is
read again at every scan).  Any other segment is attached read-only for the
moment of the read and detached again, as `ipctop shm read` does: that updates
its atime, dtime and lpid, so the detail screen does it when it opens and on `r`,
not at every scan.  Only the segment the screen shows is read: if the kernel's
segment of that id was made by another process (the id was reused, or the
snapshot is a fixture) or is gone, there is nothing to show.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from ipctop.actions.hexdump import hexdump_lines
from ipctop.actions.holdings import HoldingError, Holdings, attached
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.model import ShmSegment
from ipctop.render.formatting import human_bytes

SHOWN_BYTES = 256  # 16 lines: the start of a segment, where headers and short texts are


@dataclass(frozen=True, slots=True)
class Contents:
    lines: tuple[str, ...]  # xxd-style lines; a run of repeated lines is one "*" line
    note: str  # how it was read and how much of it is shown, or why it could not be read
    held: bool  # read through ipctop's own attachment


def read_contents(segment: ShmSegment, holdings: Holdings, limit: int = SHOWN_BYTES) -> Contents | None:
    """The segment's first `limit` bytes; None when the kernel has no such segment (any more)."""
    shmid = segment.shmid
    holding = holdings.get(shmid)  # an attached segment is never destroyed: the id is still this one
    try:
        if holding is not None:
            size = holding.size
            data = holdings.read(shmid, 0, min(limit, size))
            how = f"read through ipctop's {'read-only' if holding.readonly else 'read-write'} attachment"
        else:
            if not _is_in_kernel(segment):
                return None
            with attached(shmid, readonly=True) as (brief, held):
                size = held.size
                data = brief.read(shmid, 0, min(limit, size))
            how = "attached read-only for the moment of reading"
    except (IpcError, HoldingError) as error:
        return Contents((), f"Cannot read it: {error}", holding is not None)
    shown = f"All {size} bytes" if len(data) == size else f"The first {len(data)} bytes of {human_bytes(size)}"
    return Contents(tuple(collapse_repeats(list(hexdump_lines(data)))), f"{shown}, {how}", holding is not None)


def _is_in_kernel(segment: ShmSegment) -> bool:
    """Whether the kernel's segment of this id is the one shown; a refusal to stat it is left to shmat to say."""
    try:
        stat = sysv.shm_stat(segment.shmid)
    except IpcError as error:
        return error.errno == errno.EACCES
    return (stat.cpid, stat.cuid, stat.size) == (segment.cpid, segment.cuid, segment.size)


def collapse_repeats(lines: list[str]) -> list[str]:
    """As `hexdump -C`: a line whose bytes repeat the line before it is left out, a run of them becomes `*`."""
    kept: list[str] = []
    previous = None
    for line in lines:
        body = line.partition(": ")[2]
        if body == previous:
            if kept[-1] != "*":
                kept.append("*")
            continue
        previous = body
        kept.append(line)
    if kept and kept[-1] == "*":
        kept.append(lines[-1])  # where it ends
    return kept
