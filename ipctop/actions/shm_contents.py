"""The first bytes of a segment as a hex dump, for the detail screen, or the sentence why not.

Looking changes nothing: a segment is read through ipctop's own attachment if it
has one, else through a process that already has it mapped (/proc/PID/mem at
that mapping's address, checked against the process's maps before and after the
read so that a detach meanwhile is not read as the segment).  Neither changes any
field of the segment, so both are read again at every scan.  Where nobody has it
mapped (or no mapper may be read), nothing is read until the user asks; then,
and only after saying so, ipctop attaches it read-only for the moment of the
read, which makes ipctop its last user (lpid) and sets its attach and detach
times.  Never under --readonly.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from ipctop.actions.hexdump import hexdump_lines
from ipctop.actions.holdings import HoldingError, Holdings, attached
from ipctop.kernel import procmem, sysv
from ipctop.kernel.errors import IpcError
from ipctop.model import ShmSegment
from ipctop.render.formatting import human_bytes

SHOWN_BYTES = 256  # 16 lines: the start of a segment, where headers and short texts are

ATTACH_COST = (
    "To read it ipctop must attach it for a moment (shmat, shmdt): that makes ipctop its last user "
    "(lpid) and sets its last attach and detach times."
)


@dataclass(frozen=True, slots=True)
class Contents:
    lines: tuple[str, ...]  # xxd-style lines; a run of repeated lines is one "*" line
    note: str  # how it was read and how much of it is shown, or why it could not be read
    held: bool  # read through ipctop's own attachment
    free: bool = True  # read again at no cost: ipctop's attachment, or another process's mapping
    needs_attach: bool = False  # nothing read: only attaching could read it (the user must ask)


def read_contents(
    segment: ShmSegment, holdings: Holdings, limit: int = SHOWN_BYTES, *, attach: bool = False
) -> Contents | None:
    """The segment's first `limit` bytes, read without side effects where possible; `attach`
    (only when the user asked, having been told the cost) allows attaching for the moment.
    None when the kernel has no such segment (any more)."""
    shmid = segment.shmid
    holding = holdings.get(shmid)  # an attached segment is never destroyed: the id is still this one
    try:
        if holding is not None:
            size = holding.size
            data = holdings.read(shmid, 0, min(limit, size))
            how = f"read through ipctop's {'read-only' if holding.readonly else 'read-write'} attachment"
            return _shown(data, segment.size, how, held=True)
        mapped = _read_through_a_mapper(segment, min(limit, segment.size))
        if mapped is not None:
            data, pid, comm = mapped
            return _shown(data, segment.size, f"read through {comm}[{pid}]'s mapping, changing nothing", held=False)
        if not _is_in_kernel(segment):
            return None
        if not attach:
            why = "Nobody has it mapped" if not segment.attachers else "No process that maps it may be read"
            return Contents((), f"{why}. {ATTACH_COST}", held=False, free=False, needs_attach=True)
        with attached(shmid, readonly=True) as (brief, held):
            size = held.size
            data = brief.read(shmid, 0, min(limit, size))
        return _shown(data, size, "attached read-only for the moment of reading", held=False, free=False)
    except (IpcError, HoldingError) as error:
        return Contents((), f"Cannot read it: {error}", holding is not None, free=False)


def _shown(data: bytes, size: int, how: str, *, held: bool, free: bool = True) -> Contents:
    shown = f"All {size} bytes" if len(data) == size else f"The first {len(data)} bytes of {human_bytes(size)}"
    return Contents(tuple(collapse_repeats(list(hexdump_lines(data)))), f"{shown}, {how}", held, free)


@dataclass(frozen=True, slots=True)
class Mapper:
    """A process that has the segment mapped, and the maps line of that mapping when found."""

    pid: int
    comm: str
    start: int
    end: int
    line: str

    def read(self, offset: int, length: int) -> bytes:
        """Bytes of the segment through this mapping; OSError when they cannot be read."""
        return procmem.read_memory(self.pid, self.start + offset, max(0, min(length, self.end - self.start - offset)))

    def still_mapped(self) -> bool:
        """Whether the mapping read is still this one (checked after reading, against a detach meanwhile)."""
        return procmem.maps_line_at(self.pid, self.start) == self.line


def mapper_of(segment: ShmSegment) -> Mapper | None:
    """The first attacher of `segment` whose mapping of it can be read, or None."""
    for attacher in segment.attachers:
        line = procmem.maps_line_at(attacher.pid, attacher.start)
        if line is None or not _maps_this_segment(line, segment.shmid):
            continue
        mapper = Mapper(attacher.pid, attacher.comm, attacher.start, attacher.end, line)
        try:
            mapper.read(0, 1)
        except OSError:
            continue  # not ours to read (another user's process, when not root)
        return mapper
    return None


def _read_through_a_mapper(segment: ShmSegment, length: int) -> tuple[bytes, int, str] | None:
    """(bytes, pid, comm) read at an attacher's mapping of this very segment, or None."""
    mapper = mapper_of(segment)
    if mapper is None:
        return None
    try:
        data = mapper.read(0, length)
    except OSError:
        return None
    return (data, mapper.pid, mapper.comm) if mapper.still_mapped() else None


def _maps_this_segment(line: str, shmid: int) -> bool:
    fields = line.split(maxsplit=5)
    return len(fields) == 6 and fields[4] == str(shmid) and fields[5].startswith("/SYSV")


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
