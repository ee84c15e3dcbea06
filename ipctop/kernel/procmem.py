"""Read another process's view of a mapping through /proc/PID/mem, without side effects.

Reading a segment through a process that already has it mapped changes none of the
segment's fields (lpid, atime, dtime, nattch), unlike attaching to it (shmat sets
lpid and atime, shmdt lpid and dtime).  It needs the right to ptrace the process
(root, or the same user).  A page of the segment that nobody has touched yet is
made resident by the read, as any first read of it would.
"""

from __future__ import annotations

import os


def read_memory(pid: int, address: int, length: int) -> bytes:
    """`length` bytes of `pid`'s memory at `address`; OSError when it cannot be read."""
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.pread(fd, length, address)
    finally:
        os.close(fd)


def maps_line_at(pid: int, address: int) -> str | None:
    """The line of `pid`'s maps of the mapping that starts at `address`, or None."""
    prefix = f"{address:x}-"
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                if line.startswith(prefix):
                    return line.rstrip("\n")
    except OSError:
        return None
    return None
