"""The snapshot's POSIX and unnamed shared memory records, joined from what the collectors read.

`PosixScan.read()` gathers, for one scan: the files of /dev/shm and of the mqueue
filesystem (collectors/posix.py), the fds every process holds on them and on
memfds (collectors/fds.py), and every shared mapping (collectors/mappings.py);
it groups holders by object (device and inode).  `holder_pids` then tells the
snapshot which processes to read, and `records(comm)` builds the records:

- a file of /dev/shm is POSIX shared memory, or a named semaphore when named
  `sem.NAME`; one held but no longer listed was unlinked (`unlinked`), like a
  System V segment marked `dest`;
- a memfd or shared anonymous mapping is grouped per inode;
- a queue is listed from the mounted mqueue filesystem, or known from the fds
  of processes of this IPC namespace when it is not mounted.

Sizes and owners of objects known only from a holder (unlinked, memfd,
anonymous) come from statx(AT_STATX_DONT_SYNC) on the holder's fd or
/proc/PID/map_files entry (root only); otherwise what the mappings show.
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ipctop.collectors import posix as collect
from ipctop.collectors.fds import RawObjectFd
from ipctop.collectors.mappings import MEMFD, POSIX, SharedMapping
from ipctop.collectors.processes import user_name
from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.kernel import posix
from ipctop.model import HeldObject, Holder, PosixQueue, PosixSem, PosixShm, UnnamedShm, Wait

KINDS = ("pshm", "psem", "pmsg", "memfd")


class RawHolder(NamedTuple):
    pid: int
    fd: int | None
    mode: str
    start: int = 0
    end: int = 0
    offset: int = 0


class _Unnamed(NamedTuple):
    source: str
    name: str
    extent: int


def _HOLDER_ORDER(h: RawHolder) -> tuple[int, bool, int, int]:  # noqa: N802 - a key function, named as one
    return h.pid, h.fd is None, h.fd or 0, h.start


def _made(status: posix.FileStatus | None) -> float:
    if status is None:
        return 0.0
    return status.btime or min(status.atime, status.mtime, status.ctime)


def _no_waiters(_kind: str, _inode: int) -> tuple[Wait, ...]:
    return ()


def _deleted(name: str) -> tuple[str, bool]:
    return (name[: -len(" (deleted)")], True) if name.endswith(" (deleted)") else (name, False)


class PosixMemo:
    """The previous scan's holders and records of POSIX and unnamed objects, each with what it was made from
    (a Scanner keeps one).  A record whose inputs are equal is the very same record again, so that the diff
    and the panes skip it by identity; it never changes a result."""

    __slots__ = ("holders", "records", "mapped", "holders_now", "records_now", "mapped_now")

    def __init__(self) -> None:
        self.holders: dict[tuple[str, int], tuple[tuple, tuple, tuple[Holder, ...], list[HeldObject]]] = {}
        self.records: dict[tuple[str, int], tuple[tuple, object]] = {}
        # pid -> (its shared mappings, a holder for each): a quiet process's mappings are the very tuple again
        self.mapped: dict[int, tuple[tuple[SharedMapping, ...], tuple[RawHolder, ...]]] = {}
        self.holders_now: dict = {}
        self.records_now: dict = {}
        self.mapped_now: dict[int, tuple[tuple[SharedMapping, ...], tuple[RawHolder, ...]]] = {}

    def record(self, kind: str, inode: int, inputs: tuple, make: Callable[[], object]) -> object:
        earlier = self.records.get((kind, inode))
        record = earlier[1] if earlier is not None and earlier[0] == inputs else make()
        self.records_now[(kind, inode)] = (inputs, record)
        return record

    def end_scan(self) -> None:
        self.holders, self.records, self.mapped = self.holders_now, self.records_now, self.mapped_now
        self.holders_now, self.records_now, self.mapped_now = {}, {}, {}


class PosixScan:
    """What one scan found of POSIX objects and unnamed shared memory, grouped by object."""

    def __init__(self, proc: ProcFS, places: collect.Places, own_ns: str, read_queue_files: bool = False,
                 memo: PosixMemo | None = None) -> None:
        self.memo = memo or PosixMemo()
        self.proc = proc
        self.places = places
        self.own_ns = own_ns
        self.read_queue_files = read_queue_files
        self.shm_files: dict[int, collect.ShmFile] = {}
        self.queue_files: dict[int, collect.QueueFile] = {}
        self.shm_holders: dict[int, list[RawHolder]] = {}
        self.shm_links: dict[int, str] = {}  # name from a holder, for an unlinked object
        self.unnamed_holders: dict[int, list[RawHolder]] = {}
        self.unnamed: dict[int, _Unnamed] = {}
        self.queue_holders: dict[int, list[RawHolder]] = {}
        self.queue_links: dict[int, tuple[int, int, str]] = {}  # a holder (pid, fd) and its link text
        self.notes: list[str] = []
        self.mappings: dict[int, tuple[SharedMapping, ...]] = {}
        self._queue_fds: dict[tuple[int, int], int] | None = None
        self._waiters_on: Callable[[str, int], tuple[Wait, ...]] = _no_waiters

    # --- gathering ------------------------------------------------------------------

    def read(self, objects: Iterable[RawObjectFd], mappings: dict[int, tuple[SharedMapping, ...]]) -> PosixScan:
        places = self.places
        if self.proc.is_live:
            self.shm_files = collect.list_dev_shm()
            if places.mqueue_point is not None:
                self.queue_files = collect.list_mqueues(places.mqueue_point)
            else:
                self.notes.append(
                    "/dev/mqueue is not mounted: POSIX message queues are shown only while a process holds them "
                    "open (`ipctop list --mount-mqueue` mounts it, as `mount -t mqueue none /dev/mqueue` does)"
                )
        queue_fds: list[RawObjectFd] = []
        for found in objects:
            end = found.end
            holder = RawHolder(end.pid, end.fd, end.mode)
            if found.kind == "shm":
                if found.dev == places.shm_dev:
                    self.shm_holders.setdefault(found.inode, []).append(holder)
                    self.shm_links.setdefault(found.inode, found.link)
            elif found.kind == "memfd":
                name, _ = _deleted(found.link.removeprefix("/memfd:"))
                self._unnamed(found.inode, MEMFD, name, 0)
                self.unnamed_holders.setdefault(found.inode, []).append(holder)
            elif found.kind == "mqueue":
                queue_fds.append(found)
        self.mappings = mappings
        # in pid order, whatever order the maps were read in (a monitor's scan keeps the quiet processes'
        # and reads the others'): the same holders make the same list, and _holders keeps their records
        earlier_mapped, mapped = self.memo.mapped, self.memo.mapped_now
        for pid in sorted(mappings):
            pid_mappings = mappings[pid]
            earlier = earlier_mapped.get(pid)
            if earlier is not None and earlier[0] is pid_mappings:
                holders = earlier[1]
            else:
                holders = tuple(RawHolder(m.pid, None, m.mode, m.start, m.end, m.offset) for m in pid_mappings)
            mapped[pid] = (pid_mappings, holders)
            for mapping, holder in zip(pid_mappings, holders, strict=True):
                if mapping.kind == POSIX:
                    self.shm_holders.setdefault(mapping.inode, []).append(holder)
                    self.shm_links.setdefault(mapping.inode, mapping.name)
                else:
                    if mapping.kind == MEMFD:
                        name = _deleted(mapping.name.removeprefix("/memfd:"))[0]
                    else:
                        name = mapping.name[len("[anon_shmem:"):-1] if mapping.name.startswith("[") else ""
                    self._unnamed(mapping.inode, mapping.kind, name, mapping.offset + mapping.end - mapping.start)
                    self.unnamed_holders.setdefault(mapping.inode, []).append(holder)
        self._queues(queue_fds)
        self.proc.done()
        return self

    def _unnamed(self, inode: int, source: str, name: str, extent: int) -> None:
        known = self.unnamed.get(inode)
        if known is None:
            self.unnamed[inode] = _Unnamed(source, name, extent)
        elif extent > known.extent:
            self.unnamed[inode] = known._replace(extent=extent)

    def _queues(self, fds: list[RawObjectFd]) -> None:
        places = self.places
        ns_of: dict[int, str] = {}
        for found in fds:
            pid = found.end.pid
            if found.mnt_id in places.mount_ids and found.mnt_id not in places.mqueue_mounts:
                continue  # a file at the top of a mounted filesystem, not a queue
            if pid not in ns_of:
                try:
                    ns_of[pid] = self.proc.readlink_pid(pid, "ns/ipc")
                except (Gone, Denied):
                    ns_of[pid] = ""
            if self.own_ns and ns_of[pid] not in ("", self.own_ns):
                continue  # a queue of another IPC namespace
            if found.inode not in self.queue_files and found.inode not in self.queue_links:
                # only known from fds: make sure it is a queue (statx never waits on a filesystem)
                self.proc.reading(pid, "a queue it holds")
                status = collect.fd_status(self.proc, pid, found.end.fd) if self.proc.is_live else None
                if status is None or not stat.S_ISREG(status.mode) or status.size != collect.MQUEUE_FILE_SIZE:
                    continue
            self.queue_links.setdefault(found.inode, (pid, found.end.fd, found.link))
            self.queue_holders.setdefault(found.inode, []).append(RawHolder(pid, found.end.fd, found.end.mode))

    # --- what a blocked process waits on (collectors/waits.py asks) -----------------------

    def at_address(self, pid: int, address: int) -> tuple[str, int, str, int] | None:
        """(kind, inode, name, offset in the object) of what `pid` maps at `address`: a psem or pshm by its
        name, or memfd (`memfd:NAME`, or `anonymous` shared memory); None when it maps none of them there."""
        for mapping in self.mappings.get(pid, ()):
            if mapping.start <= address < mapping.end:
                offset = mapping.offset + address - mapping.start
                if mapping.kind == MEMFD:
                    return "memfd", mapping.inode, "memfd:" + _deleted(mapping.name.removeprefix("/memfd:"))[0], offset
                if mapping.kind != POSIX:
                    return "memfd", mapping.inode, "anonymous", offset
                base = self._file_name(mapping.inode, mapping.name)
                if base.startswith(posix.SEM_PREFIX):
                    return "psem", mapping.inode, "/" + base[len(posix.SEM_PREFIX):], offset
                return "pshm", mapping.inode, "/" + base, offset
        return None

    def queue_at_fd(self, pid: int, fd: int) -> tuple[int, str] | None:
        """The inode and name of the queue `pid` has open as `fd` (one of ipctop's own IPC namespace), or None."""
        if self._queue_fds is None:
            self._queue_fds = {(h.pid, h.fd): inode for inode, holders in self.queue_holders.items()
                               for h in holders if h.fd is not None}
        inode = self._queue_fds.get((pid, fd))
        if inode is None:
            return None
        listed = self.queue_files.get(inode)
        if listed is not None:
            return inode, "/" + listed.name
        link = self.queue_links.get(inode)
        return inode, "/" + _deleted(link[2])[0].rsplit("/", 1)[-1] if link else "?"

    def _file_name(self, inode: int, mapped_name: str) -> str:
        """The name in /dev/shm (`sem.NAME` for a semaphore), as listed, else as its holders show it."""
        listed = self.shm_files.get(inode)
        if listed is not None:
            return listed.name
        return _deleted(self.shm_links.get(inode, mapped_name).removeprefix(collect.DEV_SHM + "/"))[0]

    @property
    def holder_pids(self) -> set[int]:
        pids: set[int] = set()
        for table in (self.shm_holders, self.unnamed_holders, self.queue_holders):
            for holders in table.values():
                pids.update(h.pid for h in holders)
        return pids

    # --- records ------------------------------------------------------------------------

    def records(self, comm: Callable[[int], str], vanished: set[int] | frozenset[int] = frozenset(),
                waiters_on: Callable[[str, int], tuple[Wait, ...]] | None = None) -> PosixRecords:
        """The records, named by `comm`; the holders in `vanished` (exited meanwhile) left out;
        `waiters_on(kind, inode)`: the threads blocked on a semaphore or queue (records.Waiting.on)."""
        self._waiters_on = waiters_on or _no_waiters
        if vanished:
            for table in (self.shm_holders, self.unnamed_holders, self.queue_holders):
                for inode, holders in list(table.items()):
                    kept = [h for h in holders if h.pid not in vanished]
                    if kept:
                        table[inode] = kept
                    else:
                        del table[inode]
            self.unnamed = {inode: known for inode, known in self.unnamed.items() if inode in self.unnamed_holders}
        result = PosixRecords(notes=tuple(self.notes))
        for inode, holders in self.shm_holders.items():
            if inode not in self.shm_files:
                self._unlinked_shm(result, inode, holders, comm)
        for inode, listed in self.shm_files.items():
            self._listed_shm(result, listed, self.shm_holders.get(inode, ()), comm)
        for inode, known in self.unnamed.items():
            self._unnamed_record(result, inode, known, self.unnamed_holders[inode], comm)
        for inode in {*self.queue_files, *self.queue_holders}:
            self._queue(result, inode, self.queue_holders.get(inode, ()), comm)
        self.proc.done()
        self.memo.end_scan()
        return result

    def _holders(self, result: PosixRecords, kind: str, inode: int, raw: Iterable[RawHolder],
                 comm: Callable[[int], str]) -> tuple[Holder, ...]:
        raw = tuple(raw)
        names = tuple(comm(h.pid) for h in raw)
        earlier = self.memo.holders.get((kind, inode))
        if earlier is not None and earlier[0] == raw and earlier[1] == names:
            holders, held = earlier[2], earlier[3]
        else:
            ordered = sorted(zip(raw, names, strict=True), key=lambda item: _HOLDER_ORDER(item[0]))
            held = [HeldObject(kind, inode, h.fd, h.mode, h.start) for h, _ in ordered]  # type: ignore[arg-type]
            holders = tuple(Holder(h.pid, name, h.mode, h.fd, h.start, h.end) for h, name in ordered)  # type: ignore[arg-type]
        self.memo.holders_now[(kind, inode)] = (raw, names, holders, held)
        for holder, one in zip(holders, held, strict=True):
            result.held.setdefault(holder.pid, []).append(one)
        return holders

    def _listed_shm(self, result: PosixRecords, listed: collect.ShmFile, raw: Iterable[RawHolder],
                    comm: Callable[[int], str]) -> None:
        is_sem = listed.name.startswith(posix.SEM_PREFIX)
        if is_sem:
            name = "/" + listed.name[len(posix.SEM_PREFIX):]
            holders = self._holders(result, "psem", listed.inode, raw, comm)
            value = self._semaphore(f"{collect.DEV_SHM}/{listed.name}", holders) if self.proc.is_live else None
            waiters = self._waiters_on("psem", listed.inode)
            inputs = (listed, holders, value, waiters)
            result.psem[listed.inode] = self.memo.record("psem", listed.inode, inputs, lambda: PosixSem(
                name=name, inode=listed.inode, perms=listed.mode & 0o777, uid=listed.uid, gid=listed.gid,
                owner=user_name(listed.uid), mtime=listed.mtime, ctime=listed.ctime,
                value=value.value if value else None, blocked=value.waiters if value else None,
                layout="glibc" if value else "unknown", holders=holders, made=listed.made_by, waiters=waiters,
            ))  # type: ignore[assignment]
            return
        holders = self._holders(result, "pshm", listed.inode, raw, comm)
        result.pshm[listed.inode] = self.memo.record("pshm", listed.inode, (listed, holders), lambda: PosixShm(
            name="/" + listed.name, inode=listed.inode, size=listed.size, allocated=listed.blocks * 512,
            perms=listed.mode & 0o777, uid=listed.uid, gid=listed.gid, owner=user_name(listed.uid),
            atime=listed.atime, mtime=listed.mtime, ctime=listed.ctime, holders=holders, made=listed.made_by,
        ))  # type: ignore[assignment]

    def _unlinked_shm(self, result: PosixRecords, inode: int, raw: list[RawHolder],
                      comm: Callable[[int], str]) -> None:
        link = self.shm_links.get(inode, "")
        base, _ = _deleted(link.removeprefix(collect.DEV_SHM + "/"))
        status = self._status(raw)
        uid = status.uid if status else -1
        common = dict(inode=inode, perms=(status.mode & 0o777) if status else 0, uid=uid,
                      gid=status.gid if status else -1, owner=user_name(uid) if status else "?",
                      mtime=status.mtime if status else 0.0, ctime=status.ctime if status else 0.0, unlinked=True,
                      made=_made(status))
        if base.startswith(posix.SEM_PREFIX):
            holders = self._holders(result, "psem", inode, raw, comm)
            value = self._semaphore(None, holders) if self.proc.is_live else None
            result.psem[inode] = PosixSem(
                name="/" + base[len(posix.SEM_PREFIX):], value=value.value if value else None,
                blocked=value.waiters if value else None, layout="glibc" if value else "unknown",
                holders=holders, waiters=self._waiters_on("psem", inode), **common,  # type: ignore[arg-type]
            )
            return
        extent = max((h.offset + h.end - h.start for h in raw if h.fd is None), default=0)
        result.pshm[inode] = PosixShm(
            name="/" + base, size=status.size if status else extent,
            allocated=status.blocks * 512 if status else None, atime=status.atime if status else 0.0,
            holders=self._holders(result, "pshm", inode, raw, comm), **common,  # type: ignore[arg-type]
        )

    def _status(self, raw: Iterable[RawHolder]) -> posix.FileStatus | None:
        """The attributes of an object known from its holders: through an fd, else a map_files entry."""
        if not self.proc.is_live:
            return None
        ordered = sorted(raw, key=lambda h: h.fd is None)
        for h in ordered:
            self.proc.reading(h.pid, "an fd or map_files entry")
            if h.fd is not None:
                status = collect.fd_status(self.proc, h.pid, h.fd)
            else:
                try:
                    status = posix.statx_nosync(self.proc.path(h.pid, "map_files", f"{h.start:x}-{h.end:x}"))
                except OSError:
                    status = None
            if status is not None:
                return status
        return None

    def _semaphore(self, path: str | None, holders: tuple[Holder, ...]) -> posix.GlibcSemaphore | None:
        mappers = [(h.pid, h.start) for h in holders if h.fd is None]
        if path is None and not mappers:
            return None
        if mappers:
            self.proc.reading(mappers[0][0], "a semaphore it maps")
        data = collect.read_semaphore(path or "", mappers) if path or mappers else None
        return posix.decode_glibc_semaphore(data) if data else None

    def _unnamed_record(self, result: PosixRecords, inode: int, known: _Unnamed, raw: list[RawHolder],
                        comm: Callable[[int], str]) -> None:
        status = self._status(raw)
        holders = self._holders(result, "memfd", inode, raw, comm)
        result.memfd[inode] = self.memo.record("memfd", inode, (known, status, holders), lambda: UnnamedShm(
            inode=inode, source=known.source, name=known.name,  # type: ignore[arg-type]
            size=status.size if status else known.extent,
            allocated=status.blocks * 512 if status else None,
            uid=status.uid if status else None, owner=user_name(status.uid) if status else "?",
            holders=holders,
        ))  # type: ignore[assignment]

    def _queue(self, result: PosixRecords, inode: int, raw: Iterable[RawHolder], comm: Callable[[int], str]) -> None:
        listed = self.queue_files.get(inode)
        if listed is not None:
            path = listed.path
            name, unlinked = "/" + listed.name, False
            perms, uid, gid, mtime = listed.mode & 0o777, listed.uid, listed.gid, listed.mtime
            made = listed.made_by
        else:
            pid, fd, link = self.queue_links[inode]
            self.proc.reading(pid, "a queue it holds")
            path = self.proc.path(pid, "fd", fd)
            if self.proc.is_live:
                # read again: the fds of a quiet holder come from memory, and another process may
                # have unlinked the queue since (which changes the link's text, not the holder)
                with contextlib.suppress(Gone, Denied):
                    link = self.proc.readlink_pid(pid, f"fd/{fd}")
            base, unlinked = _deleted(link)
            name = "/" + base.rsplit("/", 1)[-1]
            status = collect.fd_status(self.proc, pid, fd) if self.proc.is_live else None
            perms = (status.mode & 0o777) if status else None
            uid = status.uid if status else None
            gid = status.gid if status else None
            mtime = status.mtime if status else 0.0
            made = _made(status)
        attributes = collect.queue_attributes(path) if self.proc.is_live else None
        status_text = collect.queue_status(path) if self.read_queue_files and self.proc.is_live else None
        holders = self._holders(result, "pmsg", inode, raw, comm)
        waiters = self._waiters_on("pmsg", inode)
        inputs = (name, perms, uid, gid, mtime, made, attributes, status_text, unlinked, listed is not None, holders,
                  waiters)
        result.pmsg[inode] = self.memo.record("pmsg", inode, inputs, lambda: PosixQueue(
            name=name, inode=inode, perms=perms, uid=uid, gid=gid, owner=user_name(uid) if uid is not None else "?",
            mtime=mtime, messages=attributes.messages if attributes else None,
            max_messages=attributes.max_messages if attributes else None,
            message_size=attributes.message_size if attributes else None,
            queued_bytes=status_text.queued_bytes if status_text else None,
            notify_pid=status_text.notify_pid if status_text else None,
            unlinked=unlinked, listed=listed is not None, holders=holders, made=made, waiters=waiters,
        ))  # type: ignore[assignment]


class PosixRecords:
    """The records of one scan, by inode, and what each process holds."""

    __slots__ = ("pshm", "psem", "pmsg", "memfd", "held", "notes")

    def __init__(self, notes: tuple[str, ...] = ()) -> None:
        self.pshm: dict[int, PosixShm] = {}
        self.psem: dict[int, PosixSem] = {}
        self.pmsg: dict[int, PosixQueue] = {}
        self.memfd: dict[int, UnnamedShm] = {}
        self.held: dict[int, list[HeldObject]] = {}
        self.notes = notes

    def held_by(self, pid: int) -> tuple[HeldObject, ...]:
        return tuple(self.held.get(pid, ()))


def own_places(proc: ProcFS) -> collect.Places:
    if not proc.is_live:
        return collect.Places(None, frozenset(), None, frozenset(), frozenset())
    return collect.find_places(proc)
