"""The other IPC namespaces' part of a scan: found, named, read from inside, and their segments'
attachers looked for among their own processes.

A shmid (or msqid, semid) is unique only inside one IPC namespace, so each namespace is
handled apart: its tables are read by a thread of ipctop's that joins it (kernel/ipcns.py,
collectors/namespaces.py), its segments' attachers are looked for only among its members,
and its records carry its inode and name.  ipctop's own namespace is read by the Scanner
as before; its records carry its inode and `host`.

What is remembered between scans, per namespace (by inode), is what a Scanner remembers of
its own: the latest parse of each table, of each maps file, and the previous records, each
used only where its inputs are equal; and each namespace's name, made again when its
members change.  Namespaces that are gone are forgotten.

Entering a namespace needs CAP_SYS_ADMIN: without it only ipctop's own is looked at, and
the snapshot says so (`namespace_note`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ipctop.collectors import attachments, namespaces, sysvipc
from ipctop.collectors.procfs import ProcFS
from ipctop.collectors.quiet import ScanMemory
from ipctop.kernel.ipcns import Target, Unenterable, may_enter
from ipctop.model import IpcNamespace, Limits, MsgQueue, SemSet, ShmSegment
from ipctop.records import RecordMemo, queue_records, set_records, users_of

NOT_ROOT_NOTE = ("Other IPC namespaces (containers) are not shown: entering one needs root (CAP_SYS_ADMIN); "
                 "this is ipctop's own.")


class NamespaceMemory:
    """What a Scanner remembers of one other namespace (as `Memory` does of its own)."""

    __slots__ = ("tables", "maps", "records")

    def __init__(self) -> None:
        self.tables = sysvipc.TableParser()
        self.maps = attachments.MapsParser()
        self.records = RecordMemo()


class NamespacesMemory:
    """What a Scanner remembers of the other namespaces, by inode."""

    __slots__ = ("by_inode", "names", "discovered")

    def __init__(self) -> None:
        self.by_inode: dict[int, NamespaceMemory] = {}
        self.discovered: tuple[object, namespaces.Discovery] | None = None  # the pids and the latest discovery
        # the latest naming of each (ipctop's own included), reused while its members are the same
        self.names: dict[int, namespaces.NamespaceInfo] = {}

    def of(self, inode: int) -> NamespaceMemory:
        found = self.by_inode.get(inode)
        if found is None:
            found = self.by_inode[inode] = NamespaceMemory()
        return found

    def keep_only(self, inodes: set[int]) -> None:
        """Forget the namespaces that are gone."""
        self.by_inode = {inode: m for inode, m in self.by_inode.items() if inode in inodes}


class Reading:
    """One scan's reading of the other namespaces, before the processes are read."""

    __slots__ = ("own", "infos", "namespace_of", "tables", "errors", "attachments", "note")

    def __init__(self, own: int, note: str = "") -> None:
        self.own = own
        self.infos: list[namespaces.NamespaceInfo] = []  # every namespace found, ipctop's own first
        self.namespace_of: dict[int, int] = {}  # pid -> inode
        self.tables: dict[int, namespaces.NamespaceTables] = {}  # of those read
        self.errors: dict[int, str] = {}  # of those that could not be entered: why
        self.attachments: dict[int, attachments.AttachmentScan] = {}
        self.note = note

    def own_pids(self, pids: list[int]) -> list[int]:
        """The pids not known to be in another namespace (a process whose namespace is unknown may be ours)."""
        if not self.namespace_of:
            return pids
        of, own = self.namespace_of, self.own
        return [pid for pid in pids if of.get(pid, own) == own]

    def pids_named(self) -> set[int]:
        """Every pid the other namespaces' objects name: attachers, creators, last users."""
        named: set[int] = set()
        for inode, tables in self.tables.items():
            scan = self.attachments.get(inode)
            if scan is not None:
                named.update(scan.attachers)
                rows = scan.rows
            else:
                rows = tables.shm
            named.update(pid for row in rows for pid in (row.cpid, row.lpid))
            named.update(pid for row in tables.msg for pid in (row.lspid, row.lrpid))
            named.update(pid for state in tables.sem_states.values() for pid in state.pids)
        named.discard(0)
        return named


def read(proc: ProcFS, pids: list[int], own_link: str, quiet: ScanMemory | None,
         memory: NamespacesMemory) -> Reading:
    """Find every other namespace, name it, read its tables from inside and its segments' attachers
    among its members.  Only ipctop's own (and a note why) when it may not enter namespaces."""
    own = namespaces.inode_of(own_link)
    if not proc.is_live or not own:
        return Reading(own)  # (without knowing its own, it could not tell the others from it)
    if not may_enter():
        memory.keep_only(set())
        return Reading(own, NOT_ROOT_NOTE)
    reading = Reading(own)
    discovery = namespaces.discover(proc, pids, own_link, quiet, earlier=memory.discovered)
    memory.discovered = (pids, discovery) if quiet is not None else None
    reading.namespace_of = discovery.namespace_of
    reading.infos = _named(proc, discovery, memory)
    memory.keep_only({info.inode for info in reading.infos if not info.own})
    if quiet is not None:
        quiet.namespace_attachments = {
            inode: scan for inode, scan in quiet.namespace_attachments.items() if inode in memory.by_inode
        }
    others = [Target(info.inode, info.members) for info in reading.infos if not info.own]
    if not others:
        return reading
    parsers = {target.inode: memory.of(target.inode).tables for target in others}
    try:
        # noting each visit as a read of its first member lets the Scanner's watchdog give up a stuck one
        found = namespaces.read_namespaces(proc, others, parsers,
                                           lambda target: proc.reading(target.pids[0], "its IPC namespace"))
    finally:
        proc.done()
    by_inode = {info.inode: info for info in reading.infos}
    for inode, tables in found.items():
        if isinstance(tables, Unenterable):
            reading.errors[inode] = tables.reason
            continue
        reading.tables[inode] = tables
        info = by_inode[inode]
        if any(row.nattch > 0 for row in tables.shm):
            reading.attachments[inode] = _attachments(proc, info, tables, quiet, memory.of(inode))
        elif quiet is not None:
            quiet.namespace_attachments.pop(inode, None)
    return reading


def _named(proc: ProcFS, discovery: namespaces.Discovery, memory: NamespacesMemory) -> list[namespaces.NamespaceInfo]:
    return namespaces.name_namespaces(proc, discovery, memory.names)


def _attachments(proc: ProcFS, info: namespaces.NamespaceInfo, tables: namespaces.NamespaceTables,
                 quiet: ScanMemory | None, memory: NamespaceMemory) -> attachments.AttachmentScan:
    """The attachers of one namespace's segments, looked for among its own members only."""
    target = Target(info.inode, info.members)
    likely = [pid for row in tables.shm if row.nattch > 0 for pid in (row.lpid, row.cpid) if pid > 0]
    return attachments.scan_attachments(
        proc,
        tables.shm,
        lambda: namespaces.read_shm_in(proc, target, memory.tables),
        likely,
        sorted(info.members, reverse=True),
        f"ipc:[{info.inode}]",
        quiet,
        memory.maps,
        namespace=info.inode,
    )


class Built:
    """The other namespaces' records, and what the process records need of them."""

    __slots__ = ("namespaces", "mapped", "used_queues", "used_sets")

    def __init__(self) -> None:
        self.namespaces: list[IpcNamespace] = []
        self.mapped: dict[int, tuple[int, ...]] = {}  # pid -> shmids it maps, in its namespace
        self.used_queues: dict[int, set[int]] = {}
        self.used_sets: dict[int, set[int]] = {}


def build(
    reading: Reading,
    memory: NamespacesMemory,
    comm: Callable[[int], str],
    vanished: set[int],
    own: tuple[Mapping[int, ShmSegment], Mapping[int, MsgQueue], Mapping[int, SemSet], Limits | None],
) -> Built:
    """Every namespace's record (ipctop's own from `own`: its segments, queues, sets and limits)."""
    built = Built()
    own_shm, own_msg, own_sem, own_limits = own
    for info in reading.infos:
        common = dict(inode=info.inode, name=info.name, kind=info.kind, container_id=info.container_id,
                      cgroup=info.cgroup, leader=info.leader, members=info.members, own=info.own)
        if info.own:
            built.namespaces.append(IpcNamespace(**common, shm=own_shm, msg=own_msg, sem=own_sem, limits=own_limits))
            continue
        tables = reading.tables.get(info.inode)
        if tables is None:
            why = reading.errors.get(info.inode, "it was not read")
            built.namespaces.append(IpcNamespace(**common, error=why))  # type: ignore[arg-type]
            continue
        namespace = (info.inode, info.name)
        scan = reading.attachments.get(info.inode)
        rows, by_shmid, incomplete, attachers = tables.shm, {}, frozenset(), frozenset()
        if scan is not None:
            rows, by_shmid, incomplete, attachers = scan.rows, scan.by_shmid, scan.incomplete, scan.attachers
            if vanished & attachers:
                by_shmid, lost = attachments.without_attachers(by_shmid, vanished)
                incomplete, attachers = incomplete | lost, attachers - vanished
        records = memory.of(info.inode).records
        segments = records.segments_of(rows, by_shmid, attachers, incomplete, comm, namespace)
        queues = queue_records(tables.msg, tables.qbytes.get, namespace)
        sets = set_records(tables.sem, tables.sem_states, namespace)
        for shmid, segment in segments.items():
            for attacher in segment.attachers:
                built.mapped.setdefault(attacher.pid, ())
                if shmid not in built.mapped[attacher.pid]:
                    built.mapped[attacher.pid] += (shmid,)
        used_queues, used_sets = users_of(queues, sets)
        for pid, ids in used_queues.items():
            built.used_queues.setdefault(pid, set()).update(ids)
        for pid, ids in used_sets.items():
            built.used_sets.setdefault(pid, set()).update(ids)
        built.namespaces.append(IpcNamespace(**common, shm=segments, msg=queues, sem=sets,  # type: ignore[arg-type]
                                             limits=tables.limits))
    built.mapped = {pid: tuple(sorted(shmids)) for pid, shmids in built.mapped.items()}
    return built

