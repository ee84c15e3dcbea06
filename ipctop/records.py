"""The snapshot's records, built from what the collectors read, and the previous scan's reused.

A monitor at 10,000 segments would otherwise build 10,000 frozen records and their
attachers every tick.  A record is a function of its inputs (a table row, the
attachments as scanned, the holders' names...), and records are immutable, so when
the inputs are equal to the previous scan's the previous record is returned: the
very same object, which the diff and the panes then skip by identity.

`RecordMemo` is that memory.  A Scanner owns one (for one procfs root); a one-off
snapshot uses a fresh one.  Nothing in it is ever used unless its inputs compare
equal (or identical) to the new ones, so it can make a scan cheaper but never
different.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Container, Iterable
from operator import attrgetter

from ipctop.collectors import attachments, fds, ipcstate, processes, sysvipc, waits
from ipctop.model import (
    MODE_BITS,
    SHM_DEST,
    SHM_LOCKED,
    Attacher,
    Fifo,
    HeldObject,
    HeldPipeEnd,
    MsgQueue,
    Pipe,
    PipeEnd,
    Process,
    SemSet,
    ShmSegment,
    Wait,
)

_PID_START = attrgetter("pid", "start")
_FD = attrgetter("fd")
_PID_FD = attrgetter("pid", "fd")
_TID = attrgetter("tid")
_PID_TID = attrgetter("pid", "tid")


def shm_status(perms: int) -> tuple[str, ...]:
    status = []
    if perms & SHM_DEST:
        status.append("dest")
    if perms & SHM_LOCKED:
        status.append("locked")
    return tuple(status)


class Waiting:
    """The waits of one scan as records: by object (`on("msg", msqid)`, or `of_kind("pipe")`:
    inode -> waiters) and by process."""

    __slots__ = ("by_kind", "by_pid")

    def __init__(self, scan: waits.WaitScan, comms: dict[int, str], running: frozenset[int] = frozenset(),
                 stopped: frozenset[int] = frozenset()) -> None:
        # a waiter that exited before it was read is left out: every pid named is in the snapshot;
        # so is the wait of a process's main thread found running (state R) when its stat was read,
        # after its call: the wait ended during the scan.  And every wait of a process stopped by a
        # signal or its debugger (state T or t, `stopped`: a group stop, or a debugger's all-stop, stops
        # all its threads): the stop interrupted its call, which it makes again once continued (or fails
        # with EINTR); meanwhile it waits on nothing (a semaphore's ncnt leaves it out), though
        # /proc/PID/syscall still names the call
        made: dict[waits.FoundWait, Wait] = {}
        for pid, found in scan.by_pid.items():
            if pid in comms and pid not in stopped:
                for wait in found:
                    if wait.tid == pid and pid in running:
                        continue
                    made[wait] = Wait(wait.pid, wait.tid, comms[pid], wait.call, wait.kind, wait.ident,
                                      wait.detail, wait.mode, wait.exact)
        self.by_pid = {pid: kept for pid, found in scan.by_pid.items() if pid in comms and pid not in stopped
                       if (kept := tuple(sorted((made[w] for w in found if w in made), key=_TID)))}
        self.by_kind: dict[str, dict[int, tuple[Wait, ...]]] = {}
        for (kind, ident), found in scan.by_object.items():
            records = tuple(sorted((made[w] for w in found if w in made), key=_PID_TID))
            if records:
                self.by_kind.setdefault(kind, {})[ident] = records

    def of_kind(self, kind: str) -> dict[int, tuple[Wait, ...]]:
        return self.by_kind.get(kind, {})

    def on(self, kind: str, ident: int) -> tuple[Wait, ...]:
        return self.by_kind.get(kind, {}).get(ident, ())


NO_WAITING = Waiting(waits.WaitScan(), {})


class RecordMemo:
    """The previous scan's records, each with the inputs it was made from."""

    __slots__ = (
        "likely", "segment_names", "segments", "table", "pipes", "ends", "held", "processes", "plain", "mapped",
        "namespace", "waited_pipes", "result", "pipe_records", "comms", "pipe_scan", "turn_buckets",
    )

    def __init__(self) -> None:
        self.likely: tuple[list, list[int]] = ([], [])  # shm rows -> the likeliest attachers
        self.segment_names: dict[int, str] = {}  # the attachers' names then
        self.segments: dict[int, tuple[tuple, ShmSegment]] = {}
        # ... and the whole table, when its rows and the attachments found were the very same
        self.table: tuple[list, dict, frozenset[int], dict[int, ShmSegment]] = ([], {}, frozenset(), {})
        self.pipes: dict[int, tuple[list, tuple, Pipe]] = {}  # inode -> (raw ends, inputs, record)
        self.waited_pipes: set[int] = set()  # the pipes someone waited on at the previous scan
        self.pipe_records: dict[int, Pipe] = {}  # the pipes of the previous pipe_tables answer
        self.comms: dict[int, str] = {}  # the processes' names at the previous pipe_tables call
        self.pipe_scan: object | None = None  # the token of the fd scan of the previous pipe_tables call
        # (scans a turn lasts, each pipe's inode by inode % that): the pipes of each scan of a turn, kept
        # up to date from each patched fd scan's changed pipes (None: to be made again)
        self.turn_buckets: tuple[int, dict[int, set[int]]] | None = None
        self.ends: dict[tuple, tuple[PipeEnd, ...]] = {}
        self.held: dict[int, tuple[fds.PidFds, tuple[HeldPipeEnd, ...]]] = {}  # pid -> (its fds read, its ends)
        self.processes: dict[int, tuple[tuple, Process]] = {}
        self.result: dict[int, Process] = {}  # the processes_of answer of the previous call
        self.plain: set[int] = set()  # processes with nothing but pipe and FIFO ends at the latest scan
        self.mapped: tuple[list[ShmSegment], dict[int, tuple[int, ...]]] = ([], {})
        self.namespace: tuple[int, str] = (0, "")  # the IPC namespace (inode, name) of the segments made

    def likely_attachers(self, shm_rows: list[sysvipc.ShmRow]) -> list[int]:
        """The pids likeliest to be attached to a segment (last users, creators), first first."""
        if shm_rows is self.likely[0]:
            return self.likely[1]
        likely = [pid for row in shm_rows if row.nattch > 0 for pid in (row.lpid, row.cpid) if pid > 0]
        self.likely = (shm_rows, likely)
        return likely

    def pipe_tables(
        self,
        fd_scan: fds.FdScan,
        comms: dict[int, str],
        measure: Callable[[list[fds.RawEnd]], tuple[int | None, int | None]],
        waiting: Waiting = NO_WAITING,
        opened_fifos: dict[int, str] | None = None,
        quiet: Container[int] | None = None,
        turn: tuple[int, int] | None = None,
        other_side: Callable[[list[fds.RawEnd], str, bool], bool | None] | None = None,
        uninspected: bool = False,
    ) -> tuple[dict[int, Pipe], dict[int, Fifo]]:
        """Every pipe and FIFO with its ends named and its waiters; `measure(ends)` gives (fill,
        capacity); `opened_fifos`: inode -> path of FIFOs that processes wait to open, listed even
        when no process holds them open yet.

        `quiet`: the processes that have not run since the previous scan (quiet.py), those read in
        full for their turn included.  A pipe's bytes move only by a read or write of one of its
        holders, so a pipe whose ends are the same as at the previous scan, all held by processes
        that have not run, is not measured again: it keeps the fill measured then.  The caller
        passes `quiet` only when every process whose fds could not be read has not run either (a
        holder ipctop cannot see may write).  What no counter shows (a process opening the pipe
        through /proc/PID/fd/N for a moment) is bounded by each pipe's own turn (`turn`: the scan's
        number and the scans a turn lasts, quiet.turn_length; one pipe in that many by inode), when it is
        measured again.

        `other_side(ends, missing, named)` asks the kernel whether a pipe whose every end seen is a writer
        (a reader) has a reader (a writer) all the same (fds.PipeMeter.other_side): a process ipctop could
        not inspect, or one outside its PID namespace, may hold it.  Without an answer the record says "?"
        when `uninspected` (a process of the scan could not be inspected), "" otherwise (Pipe.unseen)."""
        earlier_ends, made_ends = self.ends, {}

        def unseen(raw: list[fds.RawEnd], named: bool) -> str:
            reads = writes = False
            for end in raw:  # stops once both kinds are seen: a pipe may have a thousand ends
                reads = reads or "r" in end.mode
                writes = writes or "w" in end.mode
                if reads and writes:
                    return ""
            if not (reads or writes):
                return ""
            missing = "w" if reads else "r"
            held = other_side(raw, missing, named) if other_side is not None else None
            if held is None:
                return "?" if uninspected else ""
            return missing if held else ""

        def ends_of(raw: list[fds.RawEnd]) -> tuple[PipeEnd, ...]:
            # the same tuple as last scan for the same ends, whatever the fill: the process join
            # reuses what it made of a pipe's ends when they are the very same tuple
            key = (tuple(raw), tuple(comms.get(e.pid) for e in raw))
            ends = earlier_ends.get(key)
            if ends is None:
                ends = tuple(PipeEnd(e.pid, comms.get(e.pid, "?"), e.fd, e.mode) for e in sorted(raw, key=_PID_FD))
            made_ends[key] = ends
            return ends

        # the pipes of processes that ran but hold the very fds (fds.FdScan.rerun): the very lists, but
        # their fill is measured again; and their ends named again where such a holder's name changed (an exec)
        touched: set[int] = set()
        renamed: set[int] = set()
        for pid in fd_scan.rerun:
            inodes = {inode for inode, _end in fd_scan.by_pid[pid].pipes}
            touched |= inodes
            if comms.get(pid) != self.comms.get(pid):
                renamed |= inodes
        earlier_pipes, made_pipes = self.pipes, {}
        waiters_now = waiting.of_kind("pipe")
        pipe_waiters = waiters_now.get
        pipes = {}
        todo: Iterable[int] = fd_scan.pipe_ends
        if quiet is not None and fd_scan.changed_pipes is not None:
            # a patched table's unchanged lists (all their holders quiet) with no waiter then or now: the
            # very records, by set operations (at 10,000 processes the loop below cost ~4 ms for them)
            waited = self.waited_pipes | waiters_now.keys()
            if fd_scan.origin is not None and fd_scan.origin is self.pipe_scan:  # tokens (fds.FdScan)
                # patched from the scan whose records these are, so every pipe come or gone since is among
                # its changed pipes: what is not carried is named without a walk of every pipe (beside a
                # process of 9,900 pipes the walks took 4 ms a scan)
                leaving = fd_scan.changed_pipes | waited | touched | self._due(fd_scan, turn)
                todo = [inode for inode in leaving if inode in fd_scan.pipe_ends]
            else:
                self.turn_buckets = None
                carried = (fd_scan.pipe_ends.keys() & earlier_pipes.keys()) - fd_scan.changed_pipes - waited - touched
                if turn is not None:
                    carried = {inode for inode in carried if (inode + turn[0]) % turn[1]}
                leaving = earlier_pipes.keys() - carried
                todo = fd_scan.pipe_ends.keys() - carried
            made_pipes = _carried(earlier_pipes, leaving)
            pipes = _carried(self.pipe_records, leaving)
        else:
            self.turn_buckets = None
        for inode in todo:
            raw = fd_scan.pipe_ends[inode]
            earlier = earlier_pipes.get(inode)
            kept_ends = None
            if inode in touched:
                if earlier is not None and earlier[0] is raw and inode not in renamed:
                    kept_ends = earlier[1][2]  # the same ends, named the same: measured again only
            elif quiet is not None and earlier is not None and earlier[0] == raw \
                    and (turn is None or (inode + turn[0]) % turn[1]):
                # the very list of the previous scan: a patched table (fds.FdScan.patched) made new
                # lists for the pipes of every process read again or gone (but those that ran and kept
                # their fds, whose pipes are `touched`, above), so all its holders are quiet
                for end in () if earlier[0] is raw else raw:
                    if end.pid not in quiet:
                        break
                else:
                    # the same ends, and nobody who could move its bytes has run: the same record
                    # (its waiters are quiet processes', still in the same calls); kept with this
                    # scan's list, so that the next scan finds the very list
                    pipe = earlier[2]
                    if pipe_waiters(inode, ()) == pipe.waiters:
                        pipes[inode] = pipe
                        made_pipes[inode] = earlier if earlier[0] is raw else (raw, earlier[1], pipe)
                        continue
            ends = kept_ends if kept_ends is not None else ends_of(raw)
            fill, capacity = measure(raw)
            waiters = pipe_waiters(inode, ())
            inputs = (fill, capacity, ends, waiters, unseen(raw, False))
            if earlier is not None and earlier[1] == inputs:
                pipe = earlier[2]
            else:
                pipe = Pipe(inode=inode, fill=fill, capacity=capacity, ends=ends, waiters=waiters, unseen=inputs[4])
            pipes[inode] = pipe
            made_pipes[inode] = (raw, inputs, pipe)
        fifos = {}
        for inode, raw in fd_scan.fifo_ends.items():
            fill, capacity = measure(raw)
            fifos[inode] = Fifo(fd_scan.fifo_paths[inode], inode, fill, capacity, ends_of(raw),
                                waiting.on("fifo", inode), unseen(raw, True))
        for inode, path in (opened_fifos or {}).items():
            openers = waiting.on("fifo", inode)
            if inode not in fifos and openers:  # only openers: nobody holds it, so nothing to measure it through
                fifos[inode] = Fifo(path, inode, None, None, (), openers)
        self.pipes, self.ends, self.waited_pipes, self.pipe_records = made_pipes, made_ends, set(waiters_now), pipes
        self.comms, self.pipe_scan = comms, fd_scan.token
        return dict(pipes), fifos  # the snapshot's own: the next call starts from this one

    def _due(self, fd_scan: fds.FdScan, turn: tuple[int, int] | None) -> set[int]:
        """The pipes measured again at this scan for their turn (`turn`: the scan's number and the scans a
        turn lasts; one pipe in that many, by inode), from buckets brought up to date with the pipes that
        came or went (`fd_scan` is patched from the scan of the previous call)."""
        if turn is None:
            return set()
        scans, every = turn
        if self.turn_buckets is None or self.turn_buckets[0] != every:
            buckets: dict[int, set[int]] = {}
            for inode in fd_scan.pipe_ends:
                buckets.setdefault(inode % every, set()).add(inode)
            self.turn_buckets = (every, buckets)
        else:
            buckets = self.turn_buckets[1]
            present = fd_scan.pipe_ends
            for inode in fd_scan.changed_pipes or ():
                if inode in present:
                    buckets.setdefault(inode % every, set()).add(inode)
                else:
                    buckets.get(inode % every, set()).discard(inode)
        return buckets.get(-scans % every, set())

    def segments_of(
        self,
        shm_rows: list[sysvipc.ShmRow],
        by_shmid: dict[int, list[attachments.MapsAttachment]],
        attachers: frozenset[int],
        incomplete: frozenset[int],
        comm: Callable[[int], str],
        namespace: tuple[int, str] = (0, ""),
    ) -> dict[int, ShmSegment]:
        """One record per row, with its attachers (in pid order) and original key;
        `incomplete`: the shmids whose attachers could not be made to add up to nattch;
        `namespace`: the inode and name of their IPC namespace."""
        previous_names, previous = self.segment_names, self.segments
        names = {pid: comm(pid) for pid in attachers}
        renamed = {pid for pid, name in names.items() if previous_names.get(pid) != name}
        if namespace != self.namespace:
            previous, self.namespace = {}, namespace
        earlier_rows, earlier_by_shmid, earlier_incomplete, earlier_segments = self.table
        if shm_rows is earlier_rows and by_shmid is earlier_by_shmid and incomplete == earlier_incomplete \
                and not renamed and previous:
            return dict(earlier_segments)  # the same table, attachments and names: the same records
        segments: dict[int, ShmSegment] = {}
        made: dict[int, tuple[tuple, ShmSegment]] = {}
        for row in shm_rows:
            scanned = by_shmid.get(row.shmid, ())
            complete = row.shmid not in incomplete
            inputs = (row, tuple(scanned), complete)
            earlier = previous.get(row.shmid)
            renamed_attacher = renamed and any(a.pid in renamed for a in scanned)
            if earlier is not None and earlier[0] == inputs and not renamed_attacher:
                segments[row.shmid] = earlier[1]
                made[row.shmid] = earlier
                continue
            found = sorted(scanned, key=_PID_START) if len(scanned) > 1 else scanned
            original_key = None
            if row.key == 0 and row.perms & SHM_DEST and found and found[0].name_key:
                original_key = found[0].name_key  # an IPC_PRIVATE segment's maps name says 0: nothing to recover
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
                attachers=tuple(Attacher(a.pid, comm(a.pid), a.start, a.end, a.mode, a.vmas) for a in found),
                original_key=original_key,
                attachers_complete=complete,
                ipc_ns=namespace[0],
                container=namespace[1],
            )
            segments[row.shmid] = segment
            made[row.shmid] = (inputs, segment)
        self.segment_names, self.segments = names, made
        self.table = (shm_rows, by_shmid, incomplete, segments)
        return segments

    def _segments_by_attacher(self, segments: dict[int, ShmSegment]) -> dict[int, tuple[int, ...]]:
        """pid -> the shmids it has attached, in order; the previous answer when every segment is the same record."""
        records = list(segments.values())
        earlier_records, earlier = self.mapped
        if len(records) == len(earlier_records) and all(map(operator.is_, records, earlier_records)):
            return earlier
        mapped: defaultdict[int, set[int]] = defaultdict(set)  # not setdefault: no new set per attacher
        for shmid, segment in segments.items():
            for attacher in segment.attachers:
                mapped[attacher.pid].add(shmid)
        result = {pid: tuple(sorted(shmids)) for pid, shmids in mapped.items()}
        self.mapped = (records, result)
        return result

    def processes_of(
        self,
        infos: dict[int, processes.ProcessInfo],
        holders: dict[int, fds.PidFds],
        segments: dict[int, ShmSegment],
        used_queues: dict[int, set[int]],
        used_sets: dict[int, set[int]],
        mapped_elsewhere: dict[int, tuple[int, ...]] | None = None,
        waits_of: dict[int, tuple[Wait, ...]] | None = None,
        held_posix: dict[int, list[HeldObject]] | None = None,
        fresh: set[int] | None = None,
    ) -> dict[int, Process]:
        """One record per process read, with every object it holds or last used, and what it waits on;
        `mapped_elsewhere`: the shmids that processes of other IPC namespaces map (each process is in
        one namespace).  `fresh`: the pids whose facts (`infos`) or fds (`holders`) may be other
        objects than at the previous call (None: any pid's may be); the others' are the very same."""
        held_posix = held_posix or {}
        earlier_held = self.held
        if fresh is None:
            made_held = {}
            todo: Iterable[int] = holders
        else:  # the unchanged ones without a look at each: a copy, less what changed or left
            made_held = _carried(earlier_held, (earlier_held.keys() - holders.keys()) | (fresh & earlier_held.keys()))
            todo = holders.keys() - made_held.keys()
        for pid in todo:
            held = holders[pid]
            earlier = earlier_held.get(pid)
            if earlier is not None and earlier[0] is held:
                made_held[pid] = earlier  # the same fds read (a quiet process): the very same records
                continue
            ends = [HeldPipeEnd("pipe", inode, end.fd, end.mode) for inode, end in held.pipes]
            ends.extend(HeldPipeEnd("fifo", inode, end.fd, end.mode) for inode, _path, end in held.fifos)
            made_held[pid] = (held, tuple(sorted(ends, key=_FD)))
        self.held = made_held
        mapped = self._segments_by_attacher(segments)
        if mapped_elsewhere:
            mapped = {**mapped, **mapped_elsewhere}
        earlier_processes, made = self.processes, {}
        result: dict[int, Process] = {}
        waits_of = waits_of or {}
        # most processes hold pipes at most: their record is the earlier one when their process facts
        # and ends are the very same objects (a quiet process's), checked without building the inputs
        extras = mapped.keys() | used_queues.keys() | used_sets.keys() | waits_of.keys() | held_posix.keys()
        plain_before, self.plain = self.plain, infos.keys() - extras
        if fresh is None:
            todo = infos
        else:
            # plain then and now, with the very facts and fds: the very record, without a look at each
            carried = (self.plain & plain_before) - fresh
            leaving = earlier_processes.keys() - carried
            made = _carried(earlier_processes, leaving)
            result = _carried(self.result, leaving)
            todo = infos.keys() - carried
        for pid in todo:
            info = infos[pid]
            held = made_held.get(pid)
            if pid not in extras:
                earlier = earlier_processes.get(pid)
                if earlier is not None and pid in plain_before and earlier[0][0] is info \
                        and earlier[0][2] is (held[1] if held is not None else ()):
                    result[pid] = earlier[1]
                    made[pid] = earlier
                    continue
            queues, sets, posix = used_queues.get(pid), used_sets.get(pid), held_posix.get(pid)
            inputs = (
                info,
                mapped.get(pid, ()),
                held[1] if held is not None else (),
                tuple(sorted(queues)) if queues else (),
                tuple(sorted(sets)) if sets else (),
                waits_of.get(pid, ()),
                tuple(posix) if posix else (),
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
                waits=inputs[5],
                posix=inputs[6],
            )
            result[pid] = process
            made[pid] = (inputs, process)
        self.processes, self.result = made, result
        return dict(result)  # the snapshot's own: the next call starts from this one


def _carried(earlier: dict, leaving: set) -> dict:  # type: ignore[type-arg]
    """A copy of `earlier` without the keys of `leaving` (where most keys stay: a copy is one C call)."""
    if len(leaving) > len(earlier) // 2:
        return {key: value for key, value in earlier.items() if key not in leaving}
    kept = dict(earlier)
    for key in leaving:
        kept.pop(key, None)
    return kept


def _no_waiters(_kind: str, _ident: int) -> tuple[Wait, ...]:
    return ()


def queue_records(
    rows: list[sysvipc.MsgRow],
    capacity: Callable[[int], int | None],
    namespace: tuple[int, str] = (0, ""),
    waiters: Callable[[str, int], tuple[Wait, ...]] = _no_waiters,
) -> dict[int, MsgQueue]:
    """One record per queue; `capacity(msqid)` is its msg_qbytes (None when it may not be read),
    `waiters("msg", msqid)` who is blocked on it."""
    return {
        row.msqid: MsgQueue(
            msqid=row.msqid,
            key=row.key,
            perms=row.perms & MODE_BITS,
            cbytes=row.cbytes,
            qnum=row.qnum,
            qbytes=capacity(row.msqid),
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
            ipc_ns=namespace[0],
            container=namespace[1],
            waiters=waiters("msg", row.msqid),
        )
        for row in rows
    }


def set_records(
    rows: list[sysvipc.SemRow],
    states: dict[int, ipcstate.SemState],
    namespace: tuple[int, str] = (0, ""),
    waiters: Callable[[str, int], tuple[Wait, ...]] = _no_waiters,
) -> dict[int, SemSet]:
    """One record per semaphore set, with the values, waiter counts and last pids in `states`, and
    `waiters("sem", semid)` (the blocked threads that could be read)."""
    sets = {}
    for row in rows:
        state = states.get(row.semid, ipcstate.NO_SEM_STATE)
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
            ipc_ns=namespace[0],
            container=namespace[1],
            waiters=waiters("sem", row.semid),
        )
    return sets


def users_of(queues: dict[int, MsgQueue], sets: dict[int, SemSet]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """pid -> the msqids it last sent to or received from, and pid -> the semids it last operated on."""
    used_queues: dict[int, set[int]] = {}
    for msqid, queue in queues.items():
        for pid in (queue.lspid, queue.lrpid):
            used_queues.setdefault(pid, set()).add(msqid)
    used_sets: dict[int, set[int]] = {}
    for semid, sem_set in sets.items():
        for pid in sem_set.pids:
            used_sets.setdefault(pid, set()).add(semid)
    return used_queues, used_sets
