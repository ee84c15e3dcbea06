"""Shared mappings of POSIX and unnamed shared memory, from /proc/PID/maps.

A line whose permissions end in `s` is a MAP_SHARED mapping.  Of those, these
are IPC (the others, a shared mapping of an ordinary file, are not):

- on the device of /dev/shm: POSIX shared memory or a named semaphore.  Matched
  by device and inode, never by name: glibc's sem_open builds a semaphore under
  a temporary name, so its creator's mapping reads `/dev/shm/sem.XXXXXX (deleted)`
  while the semaphore lives on under its real name;
- `/memfd:NAME (deleted)`: a memfd;
- `/dev/zero (deleted)` or `[anon_shmem:NAME]`: shared anonymous memory (mmap
  MAP_SHARED|MAP_ANONYMOUS, inherited across fork), where PostgreSQL keeps its
  buffers;
- `/SYSV%08x`: System V attachments, read by collectors/attachments.py.

Maps files are large and most of their lines private: where the kernel can be
asked for the shared lines alone (PROCMAP_QUERY, kernel/procmap.py) only those are
read (ProcFS.read_shared_maps), and on the whole text of an older kernel the parser
jumps from one `s ` to the next instead of splitting lines.  `MapsPass` reads each process's
maps once per scan for every reader, and a Scanner's quiet memory keeps the
parse (not the text) of processes that have not run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from os import makedev
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.collectors.quiet import ScanMemory
from ipctop.collectors.split_read import Reader, read_split, worth_splitting

POSIX, MEMFD, ANONYMOUS = "posix", "memfd", "anonymous"


class SharedMapping(NamedTuple):
    """One shared mapping of a POSIX or unnamed object (mprotect's splits merged)."""

    kind: str  # POSIX, MEMFD or ANONYMOUS
    pid: int
    start: int
    end: int
    mode: str  # "r" or "rw"
    offset: int
    dev: int
    inode: int
    name: str  # the path as maps shows it


_ANON_NAMES = (b"/dev/zero (deleted)", b"[anon_shmem:")
_GONE, _DENIED = 0, 1  # a maps file read ahead that could not be read, and why


def parse_shared_mappings(pid: int, data: bytes, shm_dev: int | None) -> tuple[SharedMapping, ...]:
    """Every shared mapping of an object on `shm_dev` (/dev/shm), of a memfd or of shared anonymous memory."""
    found: list[SharedMapping] = []
    find = data.find
    at = find(b"s ")
    while at >= 0:
        # `s ` ends the permissions field only when a space comes four bytes before it
        if at < 4 or data[at - 4] != 0x20 or data[at - 1] not in b"x-":
            at = find(b"s ", at + 2)
            continue
        line_start = data.rfind(b"\n", 0, at) + 1
        line_end = find(b"\n", at)
        if line_end < 0:
            line_end = len(data)
        next_at = find(b"s ", line_end)
        if find(b" /SYSV", at, line_end) >= 0:
            at = next_at  # a System V attachment: the attachment scan's (a server may have thousands)
            continue
        at = next_at
        fields = data[line_start:line_end].split(None, 5)
        if len(fields) < 6:
            continue  # a shared mapping with no file: not possible for MAP_SHARED, ignore
        path = fields[5]
        try:
            major, minor = fields[3].split(b":")
            dev = makedev(int(major, 16), int(minor, 16))
            inode = int(fields[4])
            start_text, end_text = fields[0].split(b"-")
            start, end = int(start_text, 16), int(end_text, 16)
            offset = int(fields[2], 16)
        except ValueError:
            continue
        if shm_dev is not None and dev == shm_dev:
            kind = POSIX
        elif path.startswith(b"/memfd:"):
            kind = MEMFD
        elif path.startswith(_ANON_NAMES):
            kind = ANONYMOUS
        else:
            continue
        mode = "rw" if fields[1][1:2] == b"w" else "r"
        previous = found[-1] if found else None
        # mprotect splits one mmap into several lines; a split continues the file offset
        if previous is not None and previous.inode == inode and previous.dev == dev and previous.end == start \
                and offset == previous.offset + (start - previous.start):
            found[-1] = previous._replace(end=end, mode="rw" if "w" in mode + previous.mode else "r")
        else:
            name = path.decode("utf-8", "replace")
            found.append(SharedMapping(kind, pid, start, end, mode, offset, dev, inode, name))
    return tuple(found)


class MapsPass:
    """Every process's shared mappings for one scan; each maps file read at most once a scan.

    With a ScanMemory, a process that has not run since the previous scan keeps that
    scan's parse (memory.shared).  Another reader of the same files (the System V
    attachment scan) reads them through `read`, which parses the shared mappings of the
    text it hands over at once: no text is kept for later (at 10,000 processes, keeping
    them all until the end of the pass held 40 MB at once)."""

    __slots__ = ("proc", "memory", "shm_dev", "read_pids", "denied", "gone", "mappings", "ahead")

    def __init__(self, proc: ProcFS, memory: ScanMemory | None, shm_dev: int | None) -> None:
        self.proc = proc
        self.memory = memory
        self.shm_dev = shm_dev
        self.read_pids: set[int] = set()  # the processes whose maps this scan has read and parsed
        self.denied: dict[int, str] = {}
        self.gone: set[int] = set()
        self.mappings: dict[int, tuple[SharedMapping, ...]] = {}
        self.ahead: dict[int, bytes | int] = {}  # maps read ahead (read_ahead), each handed over once

    def read_ahead(self, pids: list[int]) -> None:
        """Read the maps of `pids` now, half of them in a forked child (split_read.py), for `read` to hand
        over: for a one-off scan of many processes, where every maps file is read anyway."""
        if not worth_splitting(self.proc, len(pids)):
            return
        found = read_split(self.proc, "maps", pids, Reader(self._maps_or_error, bytes, bytes, b""))
        self.ahead = {pid: found.get(pid, b"") for pid in pids}

    def _maps_or_error(self, pid: int) -> bytes | int:
        try:
            return self.proc.read_shared_maps(pid)
        except Gone:
            return _GONE
        except Denied:
            return _DENIED

    def read(self, pid: int) -> bytes:
        """The maps of `pid`, read now (or read ahead), its shared mappings noted; raises Gone or Denied
        as ProcFS does."""
        if pid in self.gone:
            raise Gone(str(pid))
        if pid in self.denied:
            raise Denied(str(pid))
        try:
            data = self.ahead.pop(pid, None)
            if data is None:
                data = self.proc.read_shared_maps(pid)
            elif data.__class__ is int:
                raise Gone(str(pid)) if data == _GONE else Denied(str(pid))
        except Gone:
            self.gone.add(pid)
            raise
        except Denied:
            self.denied[pid] = "permission denied"
            raise
        self._parsed(pid, data)
        return data

    def _parsed(self, pid: int, data: bytes) -> None:
        found = parse_shared_mappings(pid, data, self.shm_dev) if b"s " in data else ()
        memory = self.memory
        if memory is not None and pid in memory.now:
            memory.shared[pid] = found
        self.read_pids.add(pid)
        if found:
            self.mappings[pid] = found
        else:
            self.mappings.pop(pid, None)

    def scan(self, pids: Iterable[int]) -> dict[int, tuple[SharedMapping, ...]]:
        """pid -> its shared mappings (only processes that have some)."""
        memory = self.memory
        remembered = memory.shared if memory is not None else None
        quiet = memory.quiet_pids() if memory is not None else set()
        done = self.read_pids
        if memory is not None and remembered is not None:
            # what is remembered is of quiet processes only (quiet.py): the others are read, found by set
            # operations, in pid order
            for pid in sorted(memory.unread(remembered) - done):
                self.proc.reading(pid, "maps")
                with contextlib.suppress(Gone, Denied):
                    self.read(pid)
            self.mappings.update({pid: found for pid, found in remembered.items() if found and pid not in done})
            self.proc.done()
            return self.mappings
        for pid in pids:
            if pid in done:
                continue
            found = remembered.get(pid) if remembered is not None and pid in quiet else None
            if found is None:
                self.proc.reading(pid, "maps")  # a process stuck in a page fault holds its maps' lock
                with contextlib.suppress(Gone, Denied):  # noted in gone or denied
                    self.read(pid)
                continue
            if found:
                self.mappings[pid] = found
        self.proc.done()
        return self.mappings
