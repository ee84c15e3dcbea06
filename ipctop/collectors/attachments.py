"""Who is attached to which System V segment, from /proc/PID/maps.

An attachment is a mapping named `/SYSV%08x` (the key) whose inode is the shmid.
Device 00:01 is shared with memfd and /dev/zero mappings, so both the name and
the inode are matched.  Reading maps is the most expensive read of a scan, so it
stops as soon as the attachments found add up to the sum of nattch, and it reads
the likeliest processes first: creators and last users, then the children of
every process found attached (a fork copies attachments).  The order only
changes how soon the scan stops, never what it finds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.collectors.quiet import ScanMemory


class MapsAttachment(NamedTuple):  # a tuple: made by the ten thousand at 10,000 segments
    shmid: int
    pid: int
    start: int
    end: int
    mode: str  # "r" or "rw"
    name_key: int  # the key in the mapping's name (the original key of a `dest` segment)


class AttachmentScan:
    __slots__ = ("by_shmid", "denied", "complete", "attachers", "nattch")

    def __init__(self) -> None:
        self.by_shmid: dict[int, list[MapsAttachment]] = {}
        self.denied: dict[int, str] = {}
        self.complete = True  # False when some nattch could not be accounted for
        self.attachers: frozenset[int] = frozenset()  # the pids of every attachment found
        self.nattch: dict[int, int] = {}  # what was accounted for


def parse_sysv_maps(pid: int, data: bytes, shmids: set[int] | None = None) -> list[MapsAttachment]:
    """Every /SYSV mapping in one maps file, with split mappings of one attach merged."""
    return _parse_maps(pid, data, shmids)[0]


def _parse_maps(pid: int, data: bytes, shmids: set[int] | None) -> tuple[list[MapsAttachment], frozenset[int]]:
    """parse_sysv_maps, and the inodes of every /SYSV line read (kept by `shmids` or not)."""
    found: list[MapsAttachment] = []
    inodes: set[int] = set()
    # Jump from one /SYSV to the next rather than splitting every line: most lines of a
    # maps file are libraries.  Each line is then read as before, from its first /SYSV.
    find = data.find
    at = find(b"/SYSV")
    while at >= 0:
        line_start = data.rfind(b"\n", 0, at) + 1
        line_end = find(b"\n", at)
        if line_end < 0:
            line_end = len(data)
        line = data[line_start:line_end]
        slash = at - line_start
        at = find(b"/SYSV", line_end)
        fields = line[:slash].split()
        if len(fields) < 5:
            continue
        try:
            inode = int(fields[4])
            name_key = int(line[slash + 5 : slash + 13], 16)
            start_text, end_text = fields[0].split(b"-")
            start, end = int(start_text, 16), int(end_text, 16)
            offset = int(fields[2], 16)
        except ValueError:
            continue
        inodes.add(inode)
        if shmids is not None and inode not in shmids:
            continue
        mode = "rw" if fields[1][1:2] == b"w" else "r"
        previous = found[-1] if found else None
        # mprotect can split one attach into several lines; a split continues the file
        # offset, while a second attach of the same segment starts again at offset 0.
        continues = previous is not None and previous.end == start and offset == start - previous.start
        if previous and continues and previous.shmid == inode and previous.pid == pid:
            found[-1] = MapsAttachment(inode, pid, previous.start, end, mode, name_key)
        else:
            found.append(MapsAttachment(inode, pid, start, end, mode, name_key))
    return found, frozenset(inodes)


class MapsParser:
    """Parses maps files, remembering the latest scan's parses (a Scanner holds one).

    The attachments are a function of a maps text and of which of its inodes are looked
    for, so an unchanged maps file is not parsed again: at 10,000 segments the parse,
    not the read, was most of a scan's time."""

    __slots__ = ("_parses", "_now")

    def __init__(self) -> None:
        # (pid, maps text) -> (inodes of its /SYSV lines, those that were kept, attachments)
        self._parses: dict[tuple[int, bytes], tuple[frozenset[int], frozenset[int], tuple[MapsAttachment, ...]]] = {}
        self._now: dict[tuple[int, bytes], tuple] = {}

    def start_scan(self) -> None:
        self._now = {}

    def end_scan(self) -> None:
        self._parses, self._now = self._now, {}

    def attachments_in(self, pid: int, data: bytes, shmids: set[int]) -> list[MapsAttachment]:
        entry = self._parses.get((pid, data)) or self._now.get((pid, data))
        if entry is None or entry[0] & shmids != entry[1]:
            found, inodes = _parse_maps(pid, data, shmids)
            entry = (inodes, inodes & shmids, tuple(found))
        self._now[(pid, data)] = entry
        return list(entry[2])


def scan_attachments(
    proc: ProcFS,
    nattch_by_shmid: dict[int, int],
    likely_pids: Iterable[int],
    all_pids: Iterable[int],
    own_ipc_ns: str,
    memory: ScanMemory | None = None,
    parser: MapsParser | None = None,
) -> AttachmentScan:
    """Find the attachments of every segment, reading no more maps than needed; with `memory`,
    the maps of a process that has not run since they were read are taken from it (quiet.py)."""
    if memory is not None:
        earlier = memory.attachments
        # Every attachment found last time is still there (its process has not run), and they
        # still add up to every segment's nattch: so there is no other, and nothing to read.
        if (
            isinstance(earlier, AttachmentScan)
            and earlier.complete
            and not earlier.denied
            and earlier.nattch == nattch_by_shmid
            and memory.all_unchanged(earlier.attachers)
        ):
            return earlier
    parser = parser or MapsParser()
    parser.start_scan()
    scan = _scan_attachments(proc, nattch_by_shmid, likely_pids, all_pids, own_ipc_ns, memory, parser)
    parser.end_scan()
    scan.nattch = nattch_by_shmid
    scan.attachers = frozenset(a.pid for found in scan.by_shmid.values() for a in found)
    if memory is not None:
        memory.attachments = scan
    return scan


def _scan_attachments(
    proc: ProcFS,
    nattch_by_shmid: dict[int, int],
    likely_pids: Iterable[int],
    all_pids: Iterable[int],
    own_ipc_ns: str,
    memory: ScanMemory | None,
    parser: MapsParser,
) -> AttachmentScan:
    scan = AttachmentScan()
    remaining = sum(nattch_by_shmid.values())
    if remaining <= 0:
        return scan
    shmids = set(nattch_by_shmid)
    seen: set[int] = set()
    first = deque(likely_pids)
    rest = iter(all_pids)
    while remaining > 0:
        pid = first.popleft() if first else next(rest, None)
        if pid is None:
            break
        if pid in seen:
            continue
        seen.add(pid)
        data = memory.maps.get(pid) if memory is not None else None
        if data is None:
            try:
                data = proc.read_pid_bytes(pid, "maps")
            except Gone:
                continue
            except Denied:
                scan.denied[pid] = "permission denied"
                continue
            if memory is not None and pid in memory.now:  # read after its run counts: valid while they hold
                memory.maps[pid] = data
        attachments = parser.attachments_in(pid, data, shmids)
        if attachments and own_ipc_ns and _ipc_ns(proc, pid, memory) not in ("", own_ipc_ns):
            continue  # same shmids in another IPC namespace are other segments
        for attachment in attachments:
            scan.by_shmid.setdefault(attachment.shmid, []).append(attachment)
            remaining -= 1
        if attachments and remaining > 0:
            # fork copies attachments (and names the parent as lpid): pre-fork servers'
            # workers hold them too, so an attacher's children are read next.
            first.extendleft(reversed(_children(proc, pid)))
    scan.complete = remaining <= 0
    return scan


def _children(proc: ProcFS, pid: int) -> list[int]:
    try:
        return [int(child) for child in proc.read_pid_record(pid, f"task/{pid}/children").split()]
    except (Gone, Denied, ValueError):
        return []


def _ipc_ns(proc: ProcFS, pid: int, memory: ScanMemory | None) -> str:
    ns = memory.ns.get(pid) if memory is not None else None
    if ns is None:
        try:
            ns = proc.readlink_pid(pid, "ns/ipc")
        except (Gone, Denied):
            return ""
        if memory is not None:  # for the rest of this scan (read_process), and later ones while quiet
            memory.ns[pid] = ns
    return ns
