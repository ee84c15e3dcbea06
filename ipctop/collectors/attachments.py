"""Who is attached to which System V segment, from /proc/PID/maps, exactly or said not to be.

An attachment is a mapping named `/SYSV%08x` (the key) whose inode is the shmid.
Device 00:01 is shared with memfd and /dev/zero mappings, so both the name and
the inode are matched.  `nattch` counts mappings (VMAs), not shmat calls: a fork
copies them, and an mprotect of part of an attachment splits it into several
lines, each counted.  Lines of one attachment are shown as one attacher, but
counted as the kernel counts them.

The first pass reads every process's maps (a monitor's scan takes those of
processes that have not run since from memory, quiet.py).  It cannot stop once
the counts are met: under churn a count can be met with the wrong mappings (a
process's brief attach counted, a steady holder not yet read), and the row can
read the same after a whole attach-fork-exit-detach cycle within one second.
Reading every process once, a steady holder is always found, and a brief
mapping makes the count exceed nattch.  The pass is then checked: the table is
read again, and a segment is settled when its use (nattch, lpid, atime, dtime:
every attach, detach, fork and exit changes them) did not change while its
processes were read and the mappings found add up to its nattch.  An unsettled segment is looked for
again among every process that could hold it, between two more readings of the
table; if it is still not settled it is reported incomplete (what was found, not
all) rather than shown with a wrong number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.collectors.quiet import ScanMemory
from ipctop.collectors.sysvipc import ShmRow


class MapsAttachment(NamedTuple):  # a tuple: made by the ten thousand at 10,000 segments
    shmid: int
    pid: int
    start: int
    end: int
    mode: str  # "r" or "rw"
    name_key: int  # the key in the mapping's name (the original key of a `dest` segment)
    vmas: int = 1  # maps lines (the kernel's count) this attachment spans: more after an mprotect split


class AttachmentScan:
    """The attachments found of every attached segment, and which segments could not be settled."""

    __slots__ = ("by_shmid", "denied", "incomplete", "attachers", "nattch", "rows")

    def __init__(self) -> None:
        self.by_shmid: dict[int, list[MapsAttachment]] = {}
        self.denied: dict[int, str] = {}
        self.incomplete: frozenset[int] = frozenset()  # shmids whose attachments do not add up
        self.attachers: frozenset[int] = frozenset()  # the pids of every attachment found
        self.nattch: dict[int, int] = {}  # nattch of each attached segment, as settled
        self.rows: list[ShmRow] = []  # the table the attachments were settled against


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
            found[-1] = MapsAttachment(inode, pid, previous.start, end, mode, name_key, previous.vmas + 1)
        else:
            found.append(MapsAttachment(inode, pid, start, end, mode, name_key))
    return found, frozenset(inodes)


_Parse = tuple[frozenset[int], frozenset[int], tuple[MapsAttachment, ...]]  # /SYSV inodes, those kept, attachments
_BARE: tuple[None, _Parse] = (None, (frozenset(), frozenset(), ()))  # maps without a /SYSV line: most processes


class MapsParser:
    """Parses maps files, remembering each process's latest parse (a Scanner holds one).

    The attachments are a function of a maps text and of which of its inodes are looked
    for, so a process's maps read the same as last time are not parsed again: at 10,000
    segments the parse, not the read, was most of a scan's time.  Only texts with a /SYSV
    line are kept to compare (a text without one is parsed by one search), and a process
    that has not run since its maps were read (quiet.py) is not read again: its parse is
    trusted as long as it stays quiet, without its text kept (a maps file is some
    kilobytes; at 10,000 processes their texts were 40 MB of the monitor's memory)."""

    __slots__ = ("_parses", "_now", "_trusted", "bare")

    def __init__(self) -> None:
        self._parses: dict[int, tuple[bytes | None, _Parse]] = {}  # pid -> (its text if it has /SYSV lines, parse)
        self._now: dict[int, tuple[bytes | None, _Parse]] = {}
        self._trusted: set[int] = set()  # pids whose parse holds while they stay quiet
        self.bare: set[int] = set()  # trusted pids whose maps have no /SYSV line at all

    def start_scan(self, quiet: set[int] | None) -> None:
        """Begin a scan; `quiet`: the pids that have not run since their latest parse was trusted."""
        self._now = {}
        self._trusted = self._trusted & quiet if quiet is not None else set()

    def end_scan(self) -> None:
        self._parses, self._now = self._now, {}
        self.bare = {pid for pid in self._trusted if pid in self._parses and not self._parses[pid][1][0]}

    def still_bare(self, pids: set[int]) -> None:
        """`pids` (trusted and quiet) still map no segment."""
        parses, now = self._parses, self._now
        for pid in pids:
            now[pid] = parses[pid]

    def trusted_attachments(self, pid: int, shmids: set[int]) -> list[MapsAttachment] | None:
        """A quiet process's attachments of `shmids` from its latest parse; None when its maps must be read."""
        if pid not in self._trusted:
            return None
        remembered = self._now.get(pid) or self._parses.get(pid)
        if remembered is None or remembered[1][0] & shmids != remembered[1][1]:
            return None
        self._now[pid] = remembered
        return list(remembered[1][2])

    def attachments_in(self, pid: int, data: bytes, shmids: set[int], trust: bool = False) -> list[MapsAttachment]:
        """`pid`'s attachments of `shmids` in its maps text `data`; `trust`: read after its run counts, so the
        parse holds while it stays quiet."""
        earlier = self._now.get(pid) or self._parses.get(pid)
        if earlier is not None and earlier[0] is not None and earlier[0] == data \
                and earlier[1][0] & shmids == earlier[1][1]:
            parse = earlier[1]
        elif b"/SYSV" not in data:
            parse = _BARE[1]
        else:
            found, inodes = _parse_maps(pid, data, shmids)
            parse = (inodes, inodes & shmids, tuple(found))
        self._now[pid] = (data, parse) if parse[0] else _BARE
        if trust:
            self._trusted.add(pid)
        else:
            self._trusted.discard(pid)
        return list(parse[2])


def scan_attachments(
    proc: ProcFS,
    rows: list[ShmRow],
    read_rows: Callable[[], list[ShmRow]],
    likely_pids: Iterable[int],
    all_pids: list[int],
    own_ipc_ns: str,
    memory: ScanMemory | None = None,
    parser: MapsParser | None = None,
    namespace: int = 0,
    read_maps: Callable[[int], bytes] | None = None,
) -> AttachmentScan:
    """Find the attachments of every segment of `rows`, reading no more maps than needed, and
    settle them (read_rows reads the table again); with `memory`, the maps of a process that has
    not run since they were read are taken from it (quiet.py).  `scan.rows` is the table to show
    with them: `rows` itself, or a later reading when one was needed.  `namespace`: the inode of
    the IPC namespace `rows` are of, when it is not the reader's own (own_ipc_ns is then its link).
    `read_maps(pid)` (raising Gone or Denied) gives the maps this scan has read already for another
    reader (mappings.py), used by the first pass; a second look always reads them again."""
    nattch_by_shmid = {row.shmid: row.nattch for row in rows if row.nattch > 0}
    if memory is not None:
        earlier = memory.namespace_attachments.get(namespace) if namespace else memory.attachments
        # Every attachment found last time is still there (its process has not run: only a
        # process's own calls or exit detach it), and they still add up to each segment's
        # nattch: so there is no other, and nothing to read or settle.  A process whose maps
        # could not be read held none then (they added up without it), and cannot hold one now
        # unless a nattch grew.
        if (
            isinstance(earlier, AttachmentScan)
            and not earlier.incomplete
            and earlier.nattch == nattch_by_shmid
            and memory.all_unchanged(earlier.attachers)
        ):
            listed = set(all_pids)
            earlier.rows = rows
            earlier.denied = {pid: why for pid, why in earlier.denied.items() if pid in listed}
            return earlier
    parser = parser or MapsParser()
    parser.start_scan(memory.quiet_pids() if memory is not None else None)
    try:
        scan = _find(proc, rows, read_rows, likely_pids, all_pids, own_ipc_ns, memory, parser, read_maps)
    finally:
        parser.end_scan()
    proc.done()
    scan.attachers = frozenset(a.pid for found in scan.by_shmid.values() for a in found)
    if memory is not None:
        if namespace:
            memory.namespace_attachments[namespace] = scan
        else:
            memory.attachments = scan
    return scan


def without_attachers(
    by_shmid: dict[int, list[MapsAttachment]], pids: set[int]
) -> tuple[dict[int, list[MapsAttachment]], frozenset[int]]:
    """The attachments without those of `pids`, and the segments that lost one."""
    lost = {shmid for shmid, found in by_shmid.items() if any(a.pid in pids for a in found)}
    if not lost:
        return by_shmid, frozenset()
    kept = {shmid: [a for a in found if a.pid not in pids] if shmid in lost else found
            for shmid, found in by_shmid.items()}
    return kept, frozenset(lost)


def _use(row: ShmRow) -> tuple[int, int, int, int]:
    """What every attach, detach, fork and exit changes in a segment's row."""
    return row.nattch, row.lpid, row.atime, row.dtime


class _Pass:
    """One reading of the maps of some processes, counting each segment's mappings."""

    def __init__(self, proc: ProcFS, own_ipc_ns: str, memory: ScanMemory | None, parser: MapsParser,
                 denied: dict[int, str], read_maps: Callable[[int], bytes] | None = None) -> None:
        self.proc, self.own_ipc_ns, self.memory, self.parser, self.denied = proc, own_ipc_ns, memory, parser, denied
        self.read: set[int] = set()
        self.read_maps = read_maps

    def attachments_of(self, pid: int, shmids: set[int], fresh: bool) -> list[MapsAttachment] | None:
        """`pid`'s attachments of `shmids`; None when it is gone, denied, or in another IPC namespace."""
        self.read.add(pid)
        memory = self.memory
        found = None if fresh or memory is None else self.parser.trusted_attachments(pid, shmids)
        if found is None:
            self.proc.reading(pid, "maps")
            try:
                data = self.read_maps(pid) if self.read_maps is not None and not fresh \
                    else self.proc.read_shared_maps(pid)
            except Gone:
                return None
            except Denied:
                self.denied[pid] = "permission denied"
                return None
            trust = memory is not None and pid in memory.now and not fresh  # read after its run counts
            found = self.parser.attachments_in(pid, data, shmids, trust)
        if found and self.own_ipc_ns and _ipc_ns(self.proc, pid, memory) not in ("", self.own_ipc_ns):
            return None  # same shmids in another IPC namespace are other segments
        return found


def _find(
    proc: ProcFS,
    rows: list[ShmRow],
    read_rows: Callable[[], list[ShmRow]],
    likely_pids: Iterable[int],
    all_pids: list[int],
    own_ipc_ns: str,
    memory: ScanMemory | None,
    parser: MapsParser,
    read_maps: Callable[[int], bytes] | None = None,
) -> AttachmentScan:
    scan = AttachmentScan()
    need = {row.shmid: row.nattch for row in rows if row.nattch > 0}
    scan.rows, scan.nattch = rows, dict(need)
    if not need:
        return scan
    first = _Pass(proc, own_ipc_ns, memory, parser, scan.denied, read_maps)
    by_shmid = _first_pass(first, need, likely_pids, all_pids)

    # settle: was each segment's use the same after its processes were read as before?
    before = {row.shmid: row for row in rows}
    after_rows = read_rows()
    after = {row.shmid: row for row in after_rows}
    unsettled = _unsettled(before, after_rows, by_shmid)
    incomplete: set[int] = set()
    if unsettled and scan.denied:
        # some processes may not be read: where nothing attached or detached meanwhile, another
        # look would read the same, and the missing mappings are in those processes
        unchanged = {shmid for shmid in unsettled if shmid in before and _use(before[shmid]) == _use(after[shmid])}
        incomplete |= unchanged
        unsettled -= unchanged
    if unsettled:
        # look again for those, among every process that could hold them, between two readings
        candidates = _candidates(proc, unsettled, by_shmid, after_rows, all_pids, first.read)
        again = _Pass(proc, own_ipc_ns, memory, parser, scan.denied)
        fresh: dict[int, list[MapsAttachment]] = {}
        for pid in candidates:
            for attachment in again.attachments_of(pid, unsettled, fresh=True) or ():
                fresh.setdefault(attachment.shmid, []).append(attachment)
        for shmid in unsettled:
            kept = [a for a in by_shmid.get(shmid, ()) if a.pid not in again.read]
            by_shmid[shmid] = kept + fresh.get(shmid, [])
        final = {row.shmid: row for row in read_rows() if row.shmid in unsettled}
        # every process that could hold them was read again: their count is now checked alone
        incomplete.update(
            shmid for shmid, row in final.items() if sum(a.vmas for a in by_shmid.get(shmid, ())) != row.nattch
        )
        # the settled segments as they were settled, the others as read last (or gone)
        after_rows = [
            final.get(row.shmid, row) for row in after_rows if row.shmid in final or row.shmid not in unsettled
        ]
    attached_now = {row.shmid: row.nattch for row in after_rows if row.nattch > 0}
    scan.by_shmid = {shmid: found for shmid, found in by_shmid.items() if found and shmid in attached_now}
    scan.rows, scan.nattch, scan.incomplete = after_rows, attached_now, frozenset(incomplete & set(attached_now))
    return scan


def _first_pass(reading: _Pass, need: dict[int, int], likely_pids: Iterable[int],
                all_pids: list[int]) -> dict[int, list[MapsAttachment]]:
    """Every process's mappings of the attached segments (each process read once)."""
    shmids = set(need)
    by_shmid: dict[int, list[MapsAttachment]] = {}
    order = dict.fromkeys([*likely_pids, *all_pids])
    if reading.memory is not None:
        # a quiet process whose maps had no /SYSV line has none now: not looked at again
        bare = reading.parser.bare & reading.memory.quiet_pids()
        reading.parser.still_bare(bare)
        reading.read.update(bare)
        order = [pid for pid in order if pid not in bare]
    for pid in order:
        for attachment in reading.attachments_of(pid, shmids, fresh=False) or ():
            by_shmid.setdefault(attachment.shmid, []).append(attachment)
    return by_shmid


def _unsettled(before: dict[int, ShmRow], after_rows: list[ShmRow],
               by_shmid: dict[int, list[MapsAttachment]]) -> set[int]:
    """Segments attached in either reading whose use changed between them, or whose mappings found
    do not add up to nattch."""
    unsettled = set()
    for row in after_rows:
        earlier = before.get(row.shmid)
        if row.nattch == 0 and (earlier is None or earlier.nattch == 0):
            continue
        counted = sum(a.vmas for a in by_shmid.get(row.shmid, ()))
        if earlier is None or _use(earlier) != _use(row) or counted != row.nattch:
            unsettled.add(row.shmid)
    return unsettled


def _candidates(proc: ProcFS, unsettled: set[int], by_shmid: dict[int, list[MapsAttachment]],
                rows: list[ShmRow], all_pids: list[int], read: set[int]) -> list[int]:
    """Every process that could hold an unsettled segment now: those found holding one, its last
    user and creator, their children, every process not read in the first pass, and new ones."""
    near = {a.pid for shmid in unsettled for a in by_shmid.get(shmid, ())}
    near.update(pid for row in rows if row.shmid in unsettled for pid in (row.lpid, row.cpid) if pid > 0)
    for pid in list(near):
        near.update(_children(proc, pid))
    listed = set(all_pids)
    try:
        now_listed = set(proc.pids())
    except OSError:
        now_listed = listed
    near.update(now_listed - listed)
    near.update(listed - read)
    return sorted(near)


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
