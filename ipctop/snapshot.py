"""Take one snapshot: run every collector once and join what they found.

The join is where a pipe inode gets its ends' process names, a segment its
attachers and original key, and a process the objects it holds.
"""

from __future__ import annotations

import operator
import time
from collections import defaultdict
from collections.abc import Callable
from operator import attrgetter

from ipctop.collectors import attachments, fds, ipcstate, processes, quiet, sysvipc
from ipctop.collectors.limits import read_limits
from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.model import (
    MODE_BITS,
    SHM_DEST,
    SHM_LOCKED,
    Attacher,
    Fifo,
    HeldPipeEnd,
    MsgQueue,
    Pipe,
    PipeEnd,
    Process,
    SemSet,
    ShmSegment,
    Snapshot,
    Uninspectable,
)

LIVE = ProcFS()


def shm_status(perms: int) -> tuple[str, ...]:
    status = []
    if perms & SHM_DEST:
        status.append("dest")
    if perms & SHM_LOCKED:
        status.append("locked")
    return tuple(status)


def own_ipc_namespace(proc: ProcFS) -> str:
    try:
        return proc.readlink_pid("self", "ns/ipc")  # type: ignore[arg-type]
    except (Gone, Denied):
        return ""


def take_snapshot(proc: ProcFS = LIVE, *, remember: bool = True) -> Snapshot:
    """Read the kernel's IPC state once; never raises for vanished or closed processes.

    From the second snapshot of a process on, what was read of a process that has not
    run since is taken from memory rather than read again (collectors/quiet.py);
    `remember=False` reads every process in full and leaves the memory as it was.
    """
    with quiet.remembered(proc.is_live and remember) as memory:
        return _take_snapshot(proc, memory)


def _take_snapshot(proc: ProcFS, memory: quiet.ScanMemory | None) -> Snapshot:
    now = time.time()
    own_ns = own_ipc_namespace(proc)
    shm_rows = sysvipc.read_shm(proc)
    msg_rows = sysvipc.read_msg(proc)
    sem_rows = sysvipc.read_sem(proc)
    all_pids = proc.pids()
    if memory is not None:
        memory.start_scan(all_pids)

    fd_scan = fds.scan_fds(proc, all_pids, memory)
    attached, likely = _attached(shm_rows)
    maps_scan = attachments.scan_attachments(proc, attached, likely, sorted(all_pids, reverse=True), own_ns, memory)

    sem_states = {
        row.semid: (ipcstate.semaphore_state(row.semid, row.nsems) if proc.is_live else ipcstate.NO_SEM_STATE)
        for row in sem_rows
    }

    interesting = {end.pid for ends in fd_scan.pipe_ends.values() for end in ends}
    interesting.update(end.pid for ends in fd_scan.fifo_ends.values() for end in ends)
    interesting.update(maps_scan.attachers)
    interesting.update(map(_CPID, shm_rows))
    interesting.update(map(_LPID, shm_rows))
    interesting.update(pid for row in msg_rows for pid in (row.lspid, row.lrpid))
    interesting.update(pid for state in sem_states.values() for pid in state.pids)
    interesting.discard(0)

    btime = processes.boot_time(proc)
    infos = _process_infos(proc, interesting, btime, memory)

    comms = {pid: info.comm for pid, info in infos.items()}

    def comm(pid: int) -> str:
        return comms.get(pid, "?")

    def ends_of(raw: list[fds.RawEnd], names: tuple[str | None, ...]) -> tuple[PipeEnd, ...]:
        # the same tuple as last scan for the same ends, whatever the fill: the join below reuses
        # what it made of a pipe's ends when they are the very same tuple
        key = (tuple(raw), names)
        ends = earlier_ends.get(key)
        if ends is None:
            ends = tuple(PipeEnd(e.pid, comm(e.pid), e.fd, e.mode) for e in sorted(raw, key=_PID_FD))
        made_ends[key] = ends
        return ends

    global _previous_ends
    earlier_ends = _previous_ends if proc.root == _previous_root else {}
    made_ends: dict[tuple, tuple[PipeEnd, ...]] = {}

    global _previous_pipes
    earlier_pipes = _previous_pipes if proc.root == _previous_root else {}
    made_pipes: dict[int, tuple[tuple, Pipe]] = {}
    pipes = {}
    for inode, raw in fd_scan.pipe_ends.items():
        fill, capacity = fds.pipe_fill(proc, raw) if proc.is_live else (None, None)
        ends = ends_of(raw, tuple(comms.get(e.pid) for e in raw))
        inputs = (fill, capacity, ends)
        earlier = earlier_pipes.get(inode)
        if earlier is not None and earlier[0] == inputs:
            pipe = earlier[1]  # equal inputs, equal (immutable) record: the diff and the panes see `is`
        else:
            pipe = Pipe(inode=inode, fill=fill, capacity=capacity, ends=ends)
        pipes[inode] = pipe
        made_pipes[inode] = (inputs, pipe)
    _previous_pipes = made_pipes
    fifos = {}
    for inode, raw in fd_scan.fifo_ends.items():
        measurable = proc.is_live and fds.fifo_can_be_measured(raw)
        fill, capacity = fds.pipe_fill(proc, raw) if measurable else (None, None)
        ends = ends_of(raw, tuple(comms.get(e.pid) for e in raw))
        fifos[inode] = Fifo(fd_scan.fifo_paths[inode], inode, fill, capacity, ends)
    _previous_ends = made_ends

    segments = _segments(proc, shm_rows, maps_scan.by_shmid, maps_scan.attachers, comm)

    queues = {
        row.msqid: MsgQueue(
            msqid=row.msqid,
            key=row.key,
            perms=row.perms & MODE_BITS,
            cbytes=row.cbytes,
            qnum=row.qnum,
            qbytes=ipcstate.queue_capacity(row.msqid) if proc.is_live else None,
            lspid=row.lspid,
            lrpid=row.lrpid,
            uid=row.uid,
            gid=row.gid,
            cuid=row.cuid,
            cgid=row.cgid,
            owner=processes.user_name(row.uid),
            stime=row.stime,
            rtime=row.rtime,
            ctime=row.ctime,
        )
        for row in msg_rows
    }

    sets = {}
    for row in sem_rows:
        state = sem_states[row.semid]
        sets[row.semid] = SemSet(
            semid=row.semid,
            key=row.key,
            perms=row.perms & MODE_BITS,
            nsems=row.nsems,
            values=state.values,
            ncnt=state.ncnt,
            zcnt=state.zcnt,
            pids=state.pids,
            uid=row.uid,
            gid=row.gid,
            cuid=row.cuid,
            cgid=row.cgid,
            owner=processes.user_name(row.uid),
            otime=row.otime,
            ctime=row.ctime,
        )

    procs = _join_processes(proc.root, infos, pipes, fifos, segments, queues, sets)
    denied = {**fd_scan.denied, **maps_scan.denied}
    uninspectable = tuple(Uninspectable(pid, reason) for pid, reason in sorted(denied.items()))
    return Snapshot(
        time=now,
        ipc_ns=own_ns,
        shm=segments,
        msg=queues,
        sem=sets,
        pipes=pipes,
        fifos=fifos,
        processes=procs,
        limits=read_limits(proc),
        uninspectable=uninspectable,
        live_pids=frozenset(all_pids),
    )


_previous_attached: tuple[list, dict[int, int], list[int]] = ([], {}, [])


def _attached(shm_rows: list[sysvipc.ShmRow]) -> tuple[dict[int, int], list[int]]:
    """nattch of each attached segment, and the pids likeliest to be attached (last users, creators)."""
    global _previous_attached
    if shm_rows is _previous_attached[0]:
        return _previous_attached[1], _previous_attached[2]
    attached = {row.shmid: row.nattch for row in shm_rows if row.nattch > 0}
    likely = [pid for row in shm_rows if row.nattch > 0 for pid in (row.lpid, row.cpid) if pid > 0]
    _previous_attached = (shm_rows, attached, likely)
    return attached, likely


def _process_infos(
    proc: ProcFS, pids: set[int], btime: float, memory: quiet.ScanMemory | None
) -> dict[int, processes.ProcessInfo]:
    infos = {}
    remembered = memory.infos if memory is not None else {}
    for pid in pids:
        info = remembered.get(pid)
        if info is not None and info.ppid != 0 and not memory.quiet(info.ppid):  # type: ignore[union-attr]
            # a quiet process's ppid still changes when its parent exits: read it again
            ppid = processes.read_ppid(proc, pid)
            if ppid is None:
                info = None
            elif ppid != info.ppid:
                info = remembered[pid] = info._replace(ppid=ppid)
        if info is None:
            info = processes.read_process(proc, pid, btime, memory.ns.get(pid) if memory is not None else None)
            if info is None:
                continue
            if memory is not None and pid in memory.now:
                remembered[pid] = info
        infos[pid] = info
    return infos


# The segments of the previous snapshot (per procfs root), each with what it was made
# from, and the names of the processes attached then.  A monitor at 10,000 segments
# would otherwise build 10,000 frozen records and their attachers every tick; equal
# inputs (table row, attachments as scanned, attachers' names) give an equal
# (immutable) record, so it is reused.  No lock: an entry is only used when its
# inputs are equal to the new ones.
_previous_segments: tuple[str, dict[int, str], dict[int, tuple[tuple, ShmSegment]]] = ("", {}, {})
# ... and the whole table, when its text and the attachments found were the very same.
_previous_table: tuple[list, dict, dict[int, ShmSegment]] = ([], {}, {})
_PID_START = attrgetter("pid", "start")
_CPID, _LPID = attrgetter("cpid"), attrgetter("lpid")
# The same for pipes and processes, of the latest live or fixture root scanned.
_previous_root = ""
_previous_pipes: dict[int, tuple[tuple, Pipe]] = {}
_previous_ends: dict[tuple, tuple[PipeEnd, ...]] = {}
_previous_held: dict[tuple[str, int], tuple[tuple[PipeEnd, ...], list[HeldPipeEnd]]] = {}
_previous_processes: dict[int, tuple[tuple, Process]] = {}
_FD = attrgetter("fd")
_PID_FD = attrgetter("pid", "fd")


def _segments(
    proc: ProcFS,
    shm_rows: list[sysvipc.ShmRow],
    by_shmid: dict[int, list[attachments.MapsAttachment]],
    attachers: frozenset[int],
    comm: Callable[[int], str],
) -> dict[int, ShmSegment]:
    global _previous_segments, _previous_table
    root, previous_names, previous = _previous_segments
    if root != proc.root:
        previous_names, previous = {}, {}
    names = {pid: comm(pid) for pid in attachers}
    renamed = {pid for pid, name in names.items() if previous_names.get(pid) != name}
    earlier_rows, earlier_by_shmid, earlier_segments = _previous_table
    if shm_rows is earlier_rows and by_shmid is earlier_by_shmid and not renamed and root == proc.root:
        return dict(earlier_segments)  # the same table, the same attachments and names: the same records
    segments: dict[int, ShmSegment] = {}
    made: dict[int, tuple[tuple, ShmSegment]] = {}
    for row in shm_rows:
        scanned = by_shmid.get(row.shmid, ())
        inputs = (row, tuple(scanned))
        earlier = previous.get(row.shmid)
        if earlier is not None and earlier[0] == inputs and not (renamed and any(a.pid in renamed for a in scanned)):
            segments[row.shmid] = earlier[1]
            made[row.shmid] = earlier
            continue
        # in pid order, not in the order the scan found them
        found = sorted(scanned, key=_PID_START) if len(scanned) > 1 else scanned
        original_key = None
        if row.key == 0 and row.perms & SHM_DEST and found:
            original_key = found[0].name_key
        segment = ShmSegment(
            shmid=row.shmid,
            key=row.key,
            perms=row.perms & MODE_BITS,
            size=row.size,
            nattch=row.nattch,
            cpid=row.cpid,
            lpid=row.lpid,
            uid=row.uid,
            gid=row.gid,
            cuid=row.cuid,
            cgid=row.cgid,
            owner=processes.user_name(row.uid),
            atime=row.atime,
            dtime=row.dtime,
            ctime=row.ctime,
            rss=row.rss,
            swap=row.swap,
            status=shm_status(row.perms),
            attachers=tuple(Attacher(a.pid, comm(a.pid), a.start, a.end, a.mode) for a in found),
            original_key=original_key,
        )
        segments[row.shmid] = segment
        made[row.shmid] = (inputs, segment)
    _previous_segments = (proc.root, names, made)
    _previous_table = (shm_rows, by_shmid, segments)
    return segments


_previous_mapped: tuple[list[ShmSegment], dict[int, tuple[int, ...]]] = ([], {})


def _segments_by_attacher(segments: dict[int, ShmSegment]) -> dict[int, tuple[int, ...]]:
    """pid -> the shmids it has attached, in order; the previous answer when every segment is the same record."""
    global _previous_mapped
    records = list(segments.values())
    earlier_records, earlier = _previous_mapped
    if len(records) == len(earlier_records) and all(map(operator.is_, records, earlier_records)):
        return earlier
    mapped: defaultdict[int, set[int]] = defaultdict(set)  # not setdefault: no new set per attacher
    for shmid, segment in segments.items():
        for attacher in segment.attachers:
            mapped[attacher.pid].add(shmid)
    result = {pid: tuple(sorted(shmids)) for pid, shmids in mapped.items()}
    _previous_mapped = (records, result)
    return result


def _join_processes(
    root: str,
    infos: dict[int, processes.ProcessInfo],
    pipes: dict[int, Pipe],
    fifos: dict[int, Fifo],
    segments: dict[int, ShmSegment],
    queues: dict[int, MsgQueue],
    sets: dict[int, SemSet],
) -> dict[int, Process]:
    global _previous_root, _previous_processes, _previous_held
    earlier_held = _previous_held if root == _previous_root else {}
    made_held: dict[tuple[str, int], tuple[tuple[PipeEnd, ...], list[HeldPipeEnd]]] = {}
    held_pipes: dict[int, list[HeldPipeEnd]] = {}
    for kind, table in (("pipe", pipes), ("fifo", fifos)):
        for inode, pipe in table.items():
            ends = pipe.ends
            earlier = earlier_held.get((kind, inode))
            if earlier is not None and earlier[0] is ends:
                held_ends = earlier[1]  # the very same records, so that a process's inputs compare by identity
            else:
                holders = sorted({e.pid for e in ends}) if len(ends) > 1 else [ends[0].pid]
                held_ends = [
                    HeldPipeEnd(kind, inode, end.fd, end.mode, tuple(pid for pid in holders if pid != end.pid))  # type: ignore[arg-type]
                    for end in ends
                ]
            made_held[(kind, inode)] = (ends, held_ends)
            for end, held in zip(ends, held_ends, strict=True):
                held_pipes.setdefault(end.pid, []).append(held)
    _previous_held = made_held
    mapped = _segments_by_attacher(segments)
    used_queues: dict[int, set[int]] = {}
    for msqid, queue in queues.items():
        for pid in (queue.lspid, queue.lrpid):
            used_queues.setdefault(pid, set()).add(msqid)
    used_sets: dict[int, set[int]] = {}
    for semid, sem_set in sets.items():
        for pid in sem_set.pids:
            used_sets.setdefault(pid, set()).add(semid)
    earlier_processes = _previous_processes if root == _previous_root else {}
    made: dict[int, tuple[tuple, Process]] = {}
    result = {}
    for pid, info in infos.items():
        inputs = (
            info,
            mapped.get(pid, ()),
            tuple(sorted(held_pipes.get(pid, ()), key=_FD)),
            tuple(sorted(used_queues.get(pid, ()))),
            tuple(sorted(used_sets.get(pid, ()))),
        )
        earlier = earlier_processes.get(pid)
        if earlier is not None and earlier[0] == inputs:
            result[pid] = earlier[1]
            made[pid] = earlier
            continue
        process = Process(
            pid=pid,
            ppid=info.ppid,
            comm=info.comm,
            cmdline=info.cmdline,
            uid=info.uid,
            user=info.user,
            state=info.state,
            wchan=info.wchan,
            start_time=info.start_time,
            ipc_ns=info.ipc_ns,
            shm=inputs[1],
            pipes=inputs[2],
            msg=inputs[3],
            sem=inputs[4],
        )
        result[pid] = process
        made[pid] = (inputs, process)
    _previous_root, _previous_processes = root, made
    return result
