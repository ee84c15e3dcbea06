"""Every IPC namespace that has a live process, its members, a name a user knows it by, and its tables.

As `lsns -t ipc` does, the namespaces are found from `/proc/PID/ns/ipc` of every process
(a namespace without a process, held only by a bind mount or an open fd, is not found:
nothing could be entered through it).  Each is named after the container it belongs to,
from its members' cgroups (collectors/containers.py), else after its leader's cgroup when
that differs from ipctop's own, else after its leader's command (`comm[pid]`, the leader
being its lowest pid, as lsns shows).  ipctop's own namespace is `host`; when ipctop itself
runs in another one, the machine's first namespace is `init`.

`read_namespaces` reads, from inside each other namespace (kernel/ipcns.py), what a scan
reads of its own: the three System V tables, each queue's capacity, each semaphore set's
values, waiter counts and last pids, and the namespace's limits.  The cost is the work
of a scan of that namespace (one setns per namespace, not per object).

Without root only the reader's own processes' namespaces can be read, and none entered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol, TypeVar

from ipctop.collectors import containers, ipcstate, processes, sysvipc
from ipctop.collectors.limits import read_limits
from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.collectors.quiet import ScanMemory
from ipctop.collectors.split_read import Reader, read_split, worth_splitting
from ipctop.kernel.ipcns import Target, Unenterable, inode_of, visit
from ipctop.model import Limits

OWN_NAME = "host"
INIT_NAME = "init"
INIT_IPC_INODE = 0xEFFFFFFF  # PROC_IPC_INIT_INO: the machine's first IPC namespace
_NAMING_READS = 4  # members whose cgroup is read, at most, to recognise a container


class Discovery(NamedTuple):
    own: int  # the inode of ipctop's own namespace
    namespace_of: dict[int, int]  # pid -> inode, for every process whose namespace could be read
    members: dict[int, tuple[int, ...]]  # inode -> its pids in order; ipctop's own first
    unreadable: int  # processes whose namespace could not be read (another user's, when not root)


class NamespaceInfo(NamedTuple):
    """An IPC namespace as ipctop shows it."""

    inode: int
    name: str  # "host", "docker:3f2a1b4c5d6e", "pod:1f2e3d4c", "nsjail.service", "sleep[4242]"...
    kind: str  # "host", a container kind (containers.py), "cgroup" or "process"
    container_id: str  # the container's id, the pod's uid, or the machine's name ("" for none)
    cgroup: str  # the cgroup of the member it was named after
    leader: int  # its lowest pid
    members: tuple[int, ...]
    own: bool


class NamespaceTables(NamedTuple):
    """What a scan reads of one namespace's System V objects, read from inside it."""

    shm: list[sysvipc.ShmRow]
    msg: list[sysvipc.MsgRow]
    sem: list[sysvipc.SemRow]
    sem_states: dict[int, ipcstate.SemState]  # semid -> values, waiter counts, last pids
    qbytes: dict[int, int | None]  # msqid -> capacity
    limits: Limits


def discover(proc: ProcFS, pids: Iterable[int], own_link: str, memory: ScanMemory | None = None,
             exclude: Iterable[int] = (), earlier: tuple[object, Discovery] | None = None) -> Discovery:
    """The IPC namespace of every process that may be read; `own_link` is ipctop's own
    (`ipc:[N]`); with `memory`, the namespace of a process that has not run since is not read again.
    `earlier`: the pids and the answer of the previous discovery with this memory; when `pids` is
    that very list (no process came or went, quiet.ScanMemory.start_scan) and every process read
    again is where it was, that answer is the answer."""
    own = inode_of(own_link)
    remembered = memory.ns if memory is not None else {}
    if (earlier is not None and memory is not None and earlier[0] is pids and earlier[1].own == own and not exclude
            and _same_places(proc, memory, earlier[1])):
        return earlier[1]
    skip = set(exclude)
    namespace_of: dict[int, int] = {}
    members: dict[int, list[int]] = {own: []} if own else {}
    unreadable = 0
    inodes: dict[str, int] = {}  # a machine has a few namespaces: each link parsed once
    ahead = _read_ahead(proc, pids, skip) if memory is None else None
    for pid in pids:
        if pid in skip:
            continue
        link = remembered.get(pid)
        if ahead is not None:
            link = ahead.get(pid)
            if link is None:
                continue  # gone
            if link == _DENIED:
                unreadable += 1
                continue
        if link is None:
            try:
                link = proc.readlink_pid(pid, "ns/ipc")
            except Gone:
                continue
            except Denied:
                unreadable += 1
                continue
            if memory is not None:
                remembered[pid] = link
        inode = inodes.get(link)
        if inode is None:
            inode = inodes[link] = inode_of(link)
            if inode:
                members.setdefault(inode, [])
        if not inode:
            continue
        namespace_of[pid] = inode
        members[inode].append(pid)
    return Discovery(own, namespace_of, {inode: tuple(sorted(pids)) for inode, pids in members.items()}, unreadable)


_DENIED = ""  # a link read ahead that could not be read (a link is never empty)


def _read_ahead(proc: ProcFS, pids: Iterable[int], skip: set[int]) -> dict[int, str] | None:
    """Every process's link (or _DENIED; a process gone is left out), read by two processes at once
    (split_read.py) when there are many; None when they are not."""
    listed = [pid for pid in pids if pid not in skip]
    if not worth_splitting(proc, len(listed)):
        return None

    def link_of(pid: int) -> str | None:
        try:
            return proc.readlink_pid(pid, "ns/ipc")
        except Gone:
            return None
        except Denied:
            return _DENIED

    return read_split(proc, "ns/ipc", listed, Reader(link_of, str, str, None))


def _same_places(proc: ProcFS, memory: ScanMemory, earlier: Discovery) -> bool:
    """Whether every process of this scan whose namespace is not remembered (it ran) is in the
    namespace `earlier` found it in (each read is remembered, as discover's own loop does)."""
    remembered, before = memory.ns, earlier.namespace_of
    inodes: dict[str, int] = {}
    for pid in memory.unread(remembered):
        try:
            link = proc.readlink_pid(pid, "ns/ipc")
        except Denied:
            if pid in before:  # readable then: no longer counted the same
                return False
            continue  # unreadable then too, and counted as such
        except Gone:
            return False
        inode = inodes.get(link)
        if inode is None:
            inode = inodes[link] = inode_of(link)
        if not inode or before.get(pid) != inode:
            return False
        remembered[pid] = link
    return True


def _read_cgroup(proc: ProcFS, pid: int) -> str | None:
    try:
        return proc.read_pid_text(pid, "cgroup")
    except (Gone, Denied):
        return None


def name_namespace(proc: ProcFS, inode: int, members: tuple[int, ...], own: bool, own_cgroup: str) -> NamespaceInfo:
    """Name one namespace after its container, its leader's cgroup, or its leader's command."""
    leader = members[0] if members else 0
    if own:
        return NamespaceInfo(inode, OWN_NAME, "host", "", containers.main_cgroup(own_cgroup), leader, members, True)
    first_cgroup = ""
    for pid in members[:_NAMING_READS]:
        text = _read_cgroup(proc, pid)
        if text is None:
            continue
        found = containers.container_of(text)
        if found is not None:
            return NamespaceInfo(inode, found.name, found.kind, found.ident, containers.main_cgroup(text), leader,
                                 members, False)
        if not first_cgroup:
            first_cgroup = containers.main_cgroup(text)
    if inode == INIT_IPC_INODE:
        return NamespaceInfo(inode, INIT_NAME, "host", "", first_cgroup, leader, members, False)
    if first_cgroup not in ("", "/", containers.main_cgroup(own_cgroup)):
        return NamespaceInfo(inode, first_cgroup.rstrip("/").rsplit("/", 1)[-1], "cgroup", "", first_cgroup, leader,
                             members, False)
    try:
        comm = processes.read_comm(proc, leader)
    except (Gone, Denied, ValueError):
        comm = "?"
    return NamespaceInfo(inode, f"{comm}[{leader}]", "process", "", first_cgroup, leader, members, False)


def name_namespaces(proc: ProcFS, discovery: Discovery,
                    earlier: dict[int, NamespaceInfo] | None = None) -> list[NamespaceInfo]:
    """Every namespace found, named; ipctop's own first, then by leader.  Two namespaces that
    would have one name (two jails of one service) are told apart by their leaders.  `earlier`
    (by inode, as named before being told apart) is reused where a namespace's members are the
    same, and is updated."""
    try:
        own_cgroup = proc.read_text("self", "cgroup")
    except OSError:
        own_cgroup = ""
    earlier = earlier if earlier is not None else {}
    named = []
    for inode, members in discovery.members.items():
        info = earlier.get(inode)
        if info is None or info.members != members:
            info = name_namespace(proc, inode, members, inode == discovery.own, own_cgroup)
        named.append(info)
    earlier.clear()
    earlier.update((info.inode, info) for info in named)
    named.sort(key=lambda ns: (not ns.own, ns.leader))
    seen: dict[str, int] = {}
    for info in named:
        seen[info.name] = seen.get(info.name, 0) + 1
    return [
        info._replace(name=f"{info.name}[{info.leader}]")
        if seen[info.name] > 1 and not info.own and not info.name.endswith(f"[{info.leader}]") else info
        for info in named
    ]


class _Named(Protocol):
    inode: int
    name: str
    container_id: str
    members: tuple[int, ...]


N = TypeVar("N", bound=_Named)


def matching_namespaces(known: Sequence[N], word: str) -> list[N]:
    """The namespaces one word of `--ns` names: an inode, a pid in it, a name (`host`, `docker:3f2a…`,
    `sleep[42]`) exactly, else a container's id exactly, else the start of a name (with or
    without its `kind:`) or of a container's id (4 characters at least)."""
    if word.isdigit():
        number = int(word)
        return [ns for ns in known if ns.inode == number or number in ns.members]
    lowered = word.lower()
    for same in (lambda ns: ns.name.lower() == lowered, lambda ns: ns.container_id.lower() == lowered):
        found = [ns for ns in known if same(ns)]
        if found:
            return found
    return [ns for ns in known
            if ns.name.lower().startswith(lowered) or ns.name.lower().partition(":")[2].startswith(lowered)
            or (len(word) >= 4 and ns.container_id.lower().startswith(lowered))]


def read_tables(proc: ProcFS, parser: sysvipc.TableParser | None = None) -> NamespaceTables:
    """The System V objects and limits of the namespace the calling thread is in."""
    shm = sysvipc.read_shm(proc, parser)
    msg = sysvipc.read_msg(proc, parser)
    sem = sysvipc.read_sem(proc, parser)
    return NamespaceTables(
        shm=shm,
        msg=msg,
        sem=sem,
        sem_states={row.semid: ipcstate.semaphore_state(row.semid, row.nsems) for row in sem},
        qbytes={row.msqid: ipcstate.queue_capacity(row.msqid) for row in msg},
        limits=read_limits(proc, dev_shm=False),
    )


def read_namespaces(
    proc: ProcFS, targets: Iterable[Target], parsers: dict[int, sysvipc.TableParser] | None = None,
    before_each: Callable[[Target], None] | None = None,
) -> dict[int, NamespaceTables | Unenterable]:
    """Each namespace's tables, read from inside it, or why it could not be entered.  `parsers`
    (by inode) remember each namespace's latest parse, as a Scanner's own table parser does;
    `before_each(target)` is called inside each one first."""
    parsers = parsers if parsers is not None else {}

    def read(target: Target) -> NamespaceTables:
        if before_each is not None:
            before_each(target)
        parser = parsers.get(target.inode)
        if parser is None:
            parser = parsers[target.inode] = sysvipc.TableParser()
        return read_tables(proc, parser)

    return visit(targets, read, proc.root)


def read_shm_in(proc: ProcFS, target: Target, parser: sysvipc.TableParser | None = None) -> list[sysvipc.ShmRow]:
    """One namespace's segment table read again (to settle its attachers); [] when it is gone."""
    found = visit([target], lambda _target: sysvipc.read_shm(proc, parser), proc.root)[target.inode]
    return [] if isinstance(found, Unenterable) else found
