"""The first bytes of POSIX shared memory or of a memfd as a hex dump, for the detail screen.

Read without side effects, as the rest of ipctop reads: through a process that
maps it (process_vm_readv at its mapping: no field of the object changes), else,
for a file of /dev/shm, from the file with O_NOATIME (its owner or root).  Both
change nothing, so they are read again at every scan.  Where neither is allowed,
nothing is read and the note says why (any other read would set its atime).
"""

from __future__ import annotations

import os

from ipctop.actions.hexdump import hexdump_lines
from ipctop.actions.shm_contents import SHOWN_BYTES, Contents, collapse_repeats
from ipctop.kernel import posix
from ipctop.model import PosixShm, UnnamedShm
from ipctop.render.formatting import human_bytes


def read_posix_contents(obj: PosixShm | UnnamedShm, limit: int = SHOWN_BYTES) -> Contents:
    """The object's first `limit` bytes, or a note saying why they cannot be read without side effects."""
    size = obj.size
    wanted = min(limit, size)
    if wanted <= 0:
        return Contents((), "It is empty (size 0).", held=False)
    for holder in obj.holders:
        if holder.fd is not None or holder.end - holder.start < wanted:
            continue
        try:
            data = posix.process_vm_read(holder.pid, holder.start, wanted)
        except OSError:
            continue
        if len(data) == wanted:
            return _shown(data, size, f"read through {holder.comm}[{holder.pid}]'s mapping, changing nothing")
    if isinstance(obj, PosixShm) and not obj.unlinked:
        try:
            data = posix.read_noatime(posix.shm_path(obj.name), wanted)
        except OSError:
            pass
        else:
            if obj.inode == _inode(obj.name):
                return _shown(data, size, "read from its file with O_NOATIME, changing nothing")
    return Contents((), "Not read: no process that maps it may be read, and only its owner or root may read its "
                        "file without changing its atime.", held=False, free=True)


def _inode(name: str) -> int:
    try:
        return os.stat(posix.shm_path(name)).st_ino
    except OSError:
        return -1


def _shown(data: bytes, size: int, how: str) -> Contents:
    shown = f"All {size} bytes" if len(data) == size else f"The first {len(data)} bytes of {human_bytes(size)}"
    return Contents(tuple(collapse_repeats(list(hexdump_lines(data)))), f"{shown}, {how}", held=False)
