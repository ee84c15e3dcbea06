"""Take snapshots: run every collector once and join what they found.

`Scanner` takes one snapshot after another of one procfs root and owns everything
that is remembered between them (what follows is the whole list):

- `quiet`: what was read of each process and its run counts then, so that a
  process that has not run since is not read again (collectors/quiet.py says why
  that is exact, and its exceptions);
- `tables`: the latest parse of each /proc/sysvipc table, so that unchanged lines
  give the same rows (collectors/sysvipc.py);
- `maps`: the latest parse of each maps file (collectors/attachments.py);
  within `quiet`, the shared mappings of each process (collectors/mappings.py);
- `records`: the previous snapshot's records with their inputs, so that an
  unchanged object is the very same record (records.py);
- `namespaces`: the same three memories for each other IPC namespace, and each
  namespace's name (namespace_scan.py);
- `waits`: the system calls each process's threads slept in, so that a quiet
  process's are not read again (collectors/waits.py);
- `posix`: the same for POSIX and unnamed objects and their holders (posix_records.py);
- `capacities`: each queue's msg_qbytes, while its ctime shows no msgctl(IPC_SET) can
  have changed it since (collectors/ipcstate.py).

Each memory is used only where its inputs are equal to the new ones: it makes a
scan cheaper, never different.  A scan that fails half-way forgets all of it.  A
Scanner is for one thread at a time (a lock makes a second caller wait).
`take_snapshot()` is the one-off: a fresh Scanner that reads everything and
keeps nothing.

POSIX objects and shared memory without a name (posix_records.py) need every
process's maps: one pass reads each maps file once, for them and for the System V
attachments alike.  A scanner asked only for other kinds (`kinds`) skips it.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter
from types import MappingProxyType

from ipctop import namespace_scan
from ipctop.ancestors import AncestorMemo
from ipctop.collectors import attachments, fds, ipcstate, processes, quiet, sysvipc, waits
from ipctop.collectors.limits import read_limits
from ipctop.collectors.mappings import MapsPass
from ipctop.collectors.namespaces import OWN_NAME
from ipctop.collectors.procfs import Abandoned, Denied, Gone, ProcFS, Progress
from ipctop.collectors.split_read import Reader, read_split, worth_splitting
from ipctop.frozen import replace
from ipctop.kernel.ipcns import inode_of
from ipctop.model import (
    EXITED_STATES,
    STOPPED_STATES,
    MsgQueue,
    SemSet,
    ShmSegment,
    Snapshot,
    Uninspectable,
    hides_processes,
)
from ipctop.posix_records import KINDS as POSIX_KINDS
from ipctop.posix_records import PosixMemo, PosixRecords, PosixScan, own_places
from ipctop.records import RecordMemo, Waiting, queue_records, set_records, shm_status, users_of

LIVE = ProcFS()

__all__ = ["LIVE", "Scanner", "own_ipc_namespace", "shm_status", "take_snapshot"]

_CPID, _LPID = attrgetter("cpid"), attrgetter("lpid")


def own_ipc_namespace(proc: ProcFS) -> str:
    """The IPC namespace whose /proc/sysvipc this thread reads (namespaces are per thread)."""
    for name in ("thread-self", "self") if proc.is_live else ("self",):
        try:
            return proc.readlink_pid(name, "ns/ipc")  # type: ignore[arg-type]
        except (Gone, Denied):
            continue
    return ""


# How long one read of one process may take before the scan gives that process up. A read
# of /proc/PID waits in the kernel for locks the process holds; on a healthy machine it
# takes microseconds, under heavy load milliseconds.
STALL_SECONDS = 2.0


class Memory:
    """Everything a Scanner remembers between scans (see the module's docstring)."""

    __slots__ = ("quiet", "tables", "maps", "records", "namespaces", "waits", "posix", "capacities", "ancestors")

    def __init__(self, remember_quiet: bool, whole_view: bool = False, full_every: int = quiet.FULL_EVERY) -> None:
        self.quiet = quiet.ScanMemory(whole_view, full_every) if remember_quiet else None
        self.tables = sysvipc.TableParser()
        self.maps = attachments.MapsParser()
        self.records = RecordMemo()
        self.namespaces = namespace_scan.NamespacesMemory()
        self.waits = waits.WaitMemory()
        self.posix = PosixMemo()
        self.capacities = ipcstate.QueueCapacities()
        self.ancestors = AncestorMemo()


class Scanner:
    """Snapshots of one procfs root, each scan cheaper for what the previous ones read.

    `remember_quiet=False` reads every process in full at every scan (the other
    memories, which never change a result, are kept).  `kinds` (None: all) are the
    kinds of object wanted: without any POSIX kind, the maps of every process are not
    read.  `read_queue_files` reads each POSIX queue's file for QSIZE and NOTIFY_PID,
    which sets the queue's atime and ctime (collectors/posix.py).  `ancestry` also
    reads the listed processes' ancestors that hold nothing (Snapshot.ancestors): the
    monitor's process tree is drawn with them.

    No process can freeze a scan: the scan runs in a thread of its own, watched.  When
    one read of one process has not returned after STALL_SECONDS (it waits in the
    kernel, e.g. for a FUSE or NFS server that does not answer), the scan is given up
    and started again without that process, which is named in the snapshot's
    `uninspectable` as long as the read that got stuck has not returned."""

    def __init__(self, proc: ProcFS = LIVE, *, remember_quiet: bool = True, kinds: frozenset[str] | None = None,
                 read_queue_files: bool = False, ancestry: bool = False) -> None:
        self.proc = proc
        self.ancestry = ancestry
        self._remember_quiet = remember_quiet and proc.is_live
        self.posix = kinds is None or bool(kinds & set(POSIX_KINDS))
        self.read_queue_files = read_queue_files
        self._lock = threading.Lock()
        self._whole_view = self._remember_quiet and proc.shows_every_process()
        self._hidden_note = proc.hidden_note()  # how /proc is mounted: read once
        self._processes_hidden = hides_processes(self._hidden_note)
        self._full_every = quiet.FULL_EVERY
        self.memory = self._new_memory()
        self._stuck: dict[int, tuple[str, threading.Thread]] = {}  # pid -> (what, the thread stuck reading it)

    @property
    def quiet(self) -> quiet.ScanMemory | None:
        return self.memory.quiet

    def pace(self, interval: float) -> None:
        """Scans come every `interval` seconds (a monitor's): a turn, when every process is read in full
        once, lasts a minute's scans (quiet.turn_length)."""
        self._full_every = quiet.turn_length(interval)
        memory = self.memory.quiet
        if memory is not None:
            memory.full_every = self._full_every

    def _new_memory(self) -> Memory:
        return Memory(self._remember_quiet, self._whole_view, self._full_every)

    def scan(self) -> Snapshot:
        """Read the kernel's IPC state once; never raises for vanished or closed processes."""
        with self._lock, _collector_paused():
            while True:
                self._stuck = {pid: stuck for pid, stuck in self._stuck.items() if stuck[1].is_alive()}
                progress = Progress()
                proc = replace(self.proc, skip=self.proc.skip | frozenset(self._stuck), progress=progress)
                stuck = {pid: what for pid, (what, _thread) in self._stuck.items()}
                attempt = _Attempt(lambda p=proc, m=self.memory, s=stuck: self._scan(p, m, s))  # type: ignore[misc]
                if attempt.finished_watching(progress):
                    if attempt.error is not None:
                        self.memory = self._new_memory()  # half-written memory: start again
                        raise attempt.error
                    return attempt.result  # type: ignore[return-value]
                # the scan waits on one process: give it up, and that process, and scan again
                progress.abandoned = True
                self._stuck[progress.pid] = (progress.what, attempt.thread)  # type: ignore[index]
                # the given-up scan may still write to the old memory
                self.memory = self._new_memory()

    def _scan(self, proc: ProcFS, memo: Memory, stuck: dict[int, str]) -> Snapshot:
        memory, records = memo.quiet, memo.records
        now = time.time()
        own_ns = own_ipc_namespace(proc)
        shm_rows = sysvipc.read_shm(proc, memo.tables)
        msg_rows = sysvipc.read_msg(proc, memo.tables)
        sem_rows = sysvipc.read_sem(proc, memo.tables)
        all_pids = memory.start_scan(proc) if memory is not None else proc.pids()

        places = own_places(proc)
        fd_scan = fds.scan_fds(proc, all_pids, memory, places.mount_ids if proc.is_live else None)
        others = namespace_scan.read(proc, all_pids, own_ns, memory, memo.namespaces)
        # every process's maps, read once: the attachment scan reads those it needs first (through
        # the pass, as it would alone: its settling depends on when it reads them), then the pass
        # reads the others for the POSIX and unnamed objects
        maps_pass = MapsPass(proc, memory, places.shm_dev) if self.posix else None
        if maps_pass is not None and memory is None:
            # a one-off scan reads every maps file: on many processes, two processes read them at once;
            # the settling below still compares what it counts with a reading of the table made after
            maps_pass.read_ahead(all_pids)
        maps_scan = attachments.scan_attachments(
            proc,
            shm_rows,
            lambda: sysvipc.read_shm(proc, memo.tables),
            records.likely_attachers(shm_rows),
            sorted(others.own_pids(all_pids), reverse=True),
            own_ns,
            memory,
            memo.maps,
            read_maps=maps_pass.read if maps_pass is not None else None,
        )
        shm_rows = maps_scan.rows  # the reading the attachments were settled against
        posix = None
        if maps_pass is not None:
            maps_pass.scan(all_pids)
            posix = PosixScan(proc, places, own_ns, self.read_queue_files, memo.posix).read(
                fd_scan.objects, maps_pass.mappings)

        sem_states = {
            row.semid: (ipcstate.semaphore_state(row.semid, row.nsems) if proc.is_live else ipcstate.NO_SEM_STATE)
            for row in sem_rows
        }

        sem_values = {semid: state.values for semid, state in sem_states.items()}
        wait_scan = waits.scan_waits(proc, all_pids, fd_scan, own_ns, sem_values, memory, memo.waits, posix)

        interesting = set(wait_scan.by_pid)
        interesting.update(fd_scan.holders)
        interesting.update(maps_scan.attachers)
        interesting.update(map(_CPID, shm_rows))
        interesting.update(map(_LPID, shm_rows))
        interesting.update(pid for row in msg_rows for pid in (row.lspid, row.lrpid))
        interesting.update(pid for state in sem_states.values() for pid in state.pids)
        interesting.update(others.pids_named())
        posix_holders = posix.holder_pids if posix is not None else set()
        interesting.update(posix_holders)
        interesting.discard(0)

        # a process the previous scan listed that has died since but is not yet reaped holds nothing
        # now: it stays listed (as a zombie) until it is reaped, so that its exit is seen (diff.py)
        dropped = memo.records.result.keys() - interesting
        btime = processes.boot_time(proc)
        infos, fresh_infos = _process_infos(proc, interesting | dropped, btime, memory, others.namespace_of)
        for pid in dropped:
            info = infos.get(pid)
            if info is not None and info.state not in EXITED_STATES:
                del infos[pid]
        ancestors = None
        if self.ancestry:
            ancestors = memo.ancestors.of(_ancestors(proc, infos, btime, memory, others.namespace_of))
        comms = {pid: info.comm for pid, info in infos.items()}
        by_shmid, incomplete = maps_scan.by_shmid, maps_scan.incomplete
        vanished = {pid for pid in interesting if pid not in infos}
        # listed at the start, gone by now (a zombie reaped meanwhile): not alive.  A pid whose
        # directory is still there is kept alive (its stat was refused, or the pid is taken again).
        exited = {pid for pid in vanished if not os.path.lexists(proc.path(pid))}
        if vanished:
            # exited between the reading of its fds or maps and of its stat: what it held is gone
            # too, and every pid the snapshot names must be one of its processes.  Most are long gone
            # (an exited creator an object still names, here or in another namespace: every scan) and
            # held no fd this scan read: the fd scan stays as it is, patched (records.py keeps its
            # pipes' records only for a scan patched from the previous one)
            if not vanished.isdisjoint(fd_scan.by_pid):
                fd_scan = fd_scan.without(vanished)
            by_shmid, lost = attachments.without_attachers(by_shmid, vanished)
            incomplete = incomplete | lost

        states = {pid: infos[pid].state for pid in wait_scan.by_pid if pid in infos}
        waiting = Waiting(wait_scan, comms, frozenset(pid for pid, state in states.items() if state == "R"),
                          frozenset(pid for pid, state in states.items() if state in STOPPED_STATES))
        # every process not inspected: one whose fd links are refused while its fd directory may be listed
        # (a security module, or CAP_DAC_READ_SEARCH alone) is known by its maps, refused alike
        denied = {**fd_scan.denied, **maps_scan.denied, **(maps_pass.denied if maps_pass is not None else {})}
        meter = fds.PipeMeter(proc)
        try:
            # a pipe's fill is taken from memory only when every holder is known: a process whose fds
            # could not be read (another user's, or one stuck) may hold it, and write if it has run
            unchanged = memory.unchanged_pids() if memory is not None and not stuck else None
            if unchanged is not None and not unchanged.issuperset(fd_scan.denied):
                unchanged = None
            pipes, fifos = records.pipe_tables(fd_scan, comms, meter.measure, waiting, wait_scan.fifo_paths,
                                               quiet=unchanged,
                                               turn=(memory.scans, memory.every) if memory is not None else None,
                                               other_side=meter.other_side, uninspected=bool(denied))
        finally:
            meter.close()
        own_namespace = (inode_of(own_ns), OWN_NAME)
        segments = records.segments_of(
            shm_rows, by_shmid, maps_scan.attachers - vanished, incomplete, lambda pid: comms.get(pid, "?"),
            own_namespace,
        )
        capacities: dict[int, int | None] = {}
        if proc.is_live:
            memo.capacities.start_scan({row.msqid for row in msg_rows})
            capacities = {row.msqid: memo.capacities.of(row.msqid, row.ctime) for row in msg_rows}
        queues = queue_records(msg_rows, capacities.get, own_namespace, waiting.on)
        sets = set_records(sem_rows, sem_states, own_namespace, waiting.on)
        used_queues, used_sets = users_of(queues, sets)
        limits = read_limits(proc)
        # one mapping each, shared by the snapshot and its own namespace's record
        own_tables = (MappingProxyType(dict(segments)), MappingProxyType(queues), MappingProxyType(sets))
        elsewhere = namespace_scan.build(others, memo.namespaces, lambda pid: comms.get(pid, "?"), vanished,
                                         (*own_tables, limits))
        for pid, ids in elsewhere.used_queues.items():
            used_queues.setdefault(pid, set()).update(ids)
        for pid, ids in elsewhere.used_sets.items():
            used_sets.setdefault(pid, set()).update(ids)
        posix_records = None
        if posix is not None:  # only those that held something (most named an object's exited creator)
            posix_records = posix.records(lambda pid: comms.get(pid, "?"), vanished & posix_holders, waiting.on)
        procs = records.processes_of(
            infos, fd_scan.holders, segments, used_queues, used_sets, elsewhere.mapped, waiting.by_pid,
            posix_records.held if posix_records is not None else None,
            fresh=fresh_infos | fd_scan.fresh if fresh_infos is not None and fd_scan.fresh is not None else None,
        )
        for scan in others.attachments.values():
            denied.update(scan.denied)
        for pid, what in stuck.items():
            denied[pid] = (f"reading it ({what}) did not return within {STALL_SECONDS:g} s: it waits in the kernel, "
                           "e.g. on a mount whose server does not answer; skipped")
        return Snapshot(
            time=now,
            ipc_ns=own_ns,
            shm=own_tables[0],
            msg=own_tables[1],
            sem=own_tables[2],
            pipes=pipes,
            fifos=fifos,
            processes=procs,
            limits=limits,
            uninspectable=tuple(Uninspectable(pid, reason) for pid, reason in sorted(denied.items())),
            live_pids=frozenset(all_pids).difference(exited) | (
                _alive_unseen(own_tables, set(all_pids)) if self._processes_hidden else frozenset()),
            namespaces=tuple(elsewhere.namespaces),
            namespace_note=others.note,
            hidden_note=self._hidden_note,
            unread_waits=tuple(sorted(wait_scan.unread)),
            **({"ancestors": ancestors} if ancestors is not None else {}),
            **(_posix_fields(posix_records) if posix_records is not None else {}),
        )


def _alive_unseen(tables: tuple[Mapping[int, ShmSegment], Mapping[int, MsgQueue], Mapping[int, SemSet]],
                  seen: set[int]) -> frozenset[int]:
    """Of the pids the System V tables name (creators, last users), those alive though /proc hides them
    (hidepid): kill(pid, 0) sends nothing and fails with EPERM for a live process of another user, with
    ESRCH for none.  Without it a hidden creator read as `gone`."""
    shm, msg, sem = tables
    named = {pid for s in shm.values() for pid in (s.cpid, s.lpid)} | {
        pid for q in msg.values() for pid in (q.lspid, q.lrpid)} | {pid for s in sem.values() for pid in s.pids}
    alive = set()
    for pid in named - seen - {0}:
        try:
            os.kill(pid, 0)
        except PermissionError:
            alive.add(pid)
        except OSError:
            continue  # ESRCH: no such process
        else:
            alive.add(pid)  # ours, listed after the scan's listing
    return frozenset(alive)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a scan runs.  A scan makes no garbage cycles, but it makes
    large young containers (a dict or list of every process, the fds of a 9,900-pipe process), which
    each young-generation collection walks again: 4 ms of a 36 ms scan of a 1,000-process machine.
    Whoever paused the collector first starts it again (the monitor's tables pause it too, in the
    main thread), so it ends running whatever the order."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Attempt:
    """One scan running in a thread of its own (a daemon: one stuck in the kernel must not keep
    ipctop from exiting)."""

    def __init__(self, scan: Callable[[], Snapshot]) -> None:
        self.result: Snapshot | None = None
        self.error: BaseException | None = None
        self._finished = threading.Event()
        self._scan = scan
        self.thread = threading.Thread(target=self._run, name="ipctop-scan", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self._scan()
        except Abandoned:
            return
        except BaseException as error:  # handed to the caller's thread
            self.error = error
        self._finished.set()

    def finished_watching(self, progress: Progress) -> bool:
        """Wait for the scan; False as soon as one read of one process has taken STALL_SECONDS."""
        while not self._finished.wait(STALL_SECONDS / 4):
            if progress.pid is not None and time.monotonic() - progress.since > STALL_SECONDS:
                return False
        return True


def take_snapshot(proc: ProcFS = LIVE, *, kinds: frozenset[str] | None = None,
                  read_queue_files: bool = False) -> Snapshot:
    """One snapshot, reading everything (of `kinds`, None: all) and remembering nothing (for `list`,
    `clean` and scripts)."""
    return Scanner(proc, remember_quiet=False, kinds=kinds, read_queue_files=read_queue_files).scan()


def _posix_fields(found: PosixRecords) -> dict[str, object]:
    return dict(pshm=found.pshm, psem=found.psem, pmsg=found.pmsg, memfd=found.memfd, posix_notes=found.notes)


def _process_infos(
    proc: ProcFS, pids: set[int], btime: float, memory: quiet.ScanMemory | None, namespace_of: dict[int, int]
) -> tuple[dict[int, processes.ProcessInfo], set[int] | None]:
    """Each process's facts, and the pids whose facts are new objects this scan (the others' are the
    very objects of the previous scan; None without a memory).  `namespace_of`: the IPC namespace
    this scan found each process in (its link is not read twice)."""
    fresh: set[int] | None = set() if memory is not None else None
    remembered = memory.infos if memory is not None else {}
    quiet_pids = memory.quiet_pids() if memory is not None else set()
    # what is remembered is of quiet processes only (quiet.py): taken by set operations, the others read
    known = pids & remembered.keys()
    infos = {pid: remembered[pid] for pid in known}
    if memory is not None:
        _refresh_due(proc, infos, known & memory.due_pids(), remembered, fresh)
    # quiet processes whose parent ran: did it exit, so that they were reparented?
    parent_moved = [info for info in infos.values() if info.ppid != 0 and info.ppid not in quiet_pids]

    def read(pid: int) -> processes.ProcessInfo | None:
        link = memory.ns.get(pid) if memory is not None else None
        if link is None and pid in namespace_of:
            link = f"ipc:[{namespace_of[pid]}]"
        return processes.read_process(proc, pid, btime, link)

    to_read = sorted(pids - known)  # in pid order, as `list` prints them
    if memory is None and worth_splitting(proc, len(to_read)):
        reader = Reader(read, tuple, processes.ProcessInfo._make, None)
        infos.update(read_split(proc, "stat, cmdline", to_read, reader))  # type: ignore[arg-type]
        return infos, fresh
    for pid in to_read:
        proc.reading(pid, "stat, cmdline")
        info = read(pid)
        if info is None:
            continue
        if memory is not None and pid in memory.now:
            remembered[pid] = info
        if fresh is not None:
            fresh.add(pid)
        infos[pid] = info
    if memory is not None and fresh is not None:
        fresh.update(_check_parents(proc, infos, parent_moved, memory))
    proc.done()
    return infos, fresh


def _ancestors(proc: ProcFS, infos: dict[int, processes.ProcessInfo], btime: float,
               memory: quiet.ScanMemory | None, namespace_of: dict[int, int]) -> dict[int, processes.ProcessInfo]:
    """The ancestors of the processes in `infos` that are not in it, up to pid 1: read as any process is
    (a quiet one's facts are remembered, so a monitor reads again only those that ran)."""
    found: dict[int, processes.ProcessInfo] = {}
    wanted = {info.ppid for info in infos.values()} - infos.keys() - {0}
    while wanted:
        read, _fresh = _process_infos(proc, wanted, btime, memory, namespace_of)
        found.update(read)
        wanted = {info.ppid for info in read.values()} - infos.keys() - found.keys() - {0}
    return found


def _refresh_due(proc: ProcFS, infos: dict[int, processes.ProcessInfo], due: set[int],
                 remembered: dict[int, processes.ProcessInfo], fresh: set[int] | None) -> None:
    """At their turn, quiet processes have read again what another process can change of their facts:
    the command line (argv memory written through /proc/PID/mem, or by a task sharing the address
    space) and the owner (a task sharing the address space can make it undumpable, which gives its
    /proc files to root).  Stat, wchan and namespace change only when the process itself runs."""
    for pid in sorted(due):
        proc.reading(pid, "cmdline")
        info = infos[pid]
        try:
            uid = os.stat(proc.path(pid)).st_uid
        except OSError:  # gone meanwhile (or the pid taken again): read as any other
            del infos[pid]
            remembered.pop(pid, None)
            continue
        cmdline = processes.read_cmdline(proc, pid)
        if cmdline != info.cmdline or uid != info.uid:
            infos[pid] = remembered[pid] = info._replace(cmdline=cmdline, uid=uid, user=processes.user_name(uid))
            if fresh is not None:
                fresh.add(pid)


def _check_parents(proc: ProcFS, infos: dict[int, processes.ProcessInfo], parent_moved: list[processes.ProcessInfo],
                   memory: quiet.ScanMemory) -> list[int]:
    """A process's ppid changes only when its parent exits.  So a quiet process whose parent is, this
    scan, alive and the very process (by start time) it was when its ppid was last known keeps that
    ppid; the others have theirs read again (one small read, where a parent that runs but lives,
    as an init or a shell does, would otherwise cost one per child every scan)."""
    parent_start = memory.parent_start
    replaced = []  # the pids given a new ppid: their facts are new objects
    for info in parent_moved:
        pid, parent = info.pid, infos.get(info.ppid)
        # a zombie's children have been given to another parent already
        if parent is not None and parent.state not in EXITED_STATES and parent_start.get(pid) == parent.start_time:
            continue
        proc.reading(pid, "stat")
        ppid = processes.read_ppid(proc, pid)
        if ppid is None:
            del infos[pid]
            memory.infos.pop(pid, None)
            continue
        if ppid != info.ppid:
            infos[pid] = memory.infos[pid] = info._replace(ppid=ppid)
            replaced.append(pid)
        parent_start.pop(pid, None)
    now = memory.now
    for pid in infos.keys() - parent_start.keys():  # read this scan, or a ppid read again
        parent = infos.get(infos[pid].ppid)
        if parent is not None and parent.state not in EXITED_STATES and pid in now:
            parent_start[pid] = parent.start_time
    return replaced

