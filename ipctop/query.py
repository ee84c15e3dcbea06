"""Filters over a snapshot: by object type, by process and by user.

Shared by `ipctop list`, the monitor's command line options and the cleanup.
"""

from __future__ import annotations

from dataclasses import replace

from ipctop.model import Fifo, MsgQueue, Pipe, Process, SemSet, ShmSegment, Snapshot

OBJECT_TYPES = ("shm", "msg", "sem", "pipe", "fifo")


def parse_types(text: str | None) -> frozenset[str]:
    """`shm,msg` -> {"shm", "msg"}; None (not given) is every type; raises ValueError naming an unknown
    type, or for an empty text (which is not "no filter")."""
    if text is None:
        return frozenset(OBJECT_TYPES)
    if not text.strip():
        raise ValueError("an empty value is not a type (leave --type out for every type)")
    types = {t.strip() for t in text.split(",") if t.strip()}
    unknown = types - set(OBJECT_TYPES)
    if unknown or not types:
        raise ValueError(f"unknown type {', '.join(sorted(unknown)) or text!r}: choose from {', '.join(OBJECT_TYPES)}")
    return frozenset(types)


def shm_pids(segment: ShmSegment) -> set[int]:
    return {segment.cpid, segment.lpid, *(a.pid for a in segment.attachers)}


def msg_pids(queue: MsgQueue) -> set[int]:
    return {queue.lspid, queue.lrpid}


def sem_pids(sem_set: SemSet) -> set[int]:
    return set(sem_set.pids)


def pipe_pids(pipe: Pipe | Fifo) -> set[int]:
    return {end.pid for end in pipe.ends}


def filter_snapshot(
    snapshot: Snapshot,
    types: frozenset[str] | None = None,
    pids: frozenset[int] | None = None,
    uid: int | None = None,
) -> Snapshot:
    """The part of `snapshot` that matches every filter given."""
    types = types or frozenset(OBJECT_TYPES)
    procs = snapshot.processes

    def uid_of(pid: int) -> int | None:
        process = procs.get(pid)
        return process.uid if process else None

    def keep_owned(owner_uid: int, creator_uid: int, related: set[int]) -> bool:
        if pids is not None and not (related & pids):
            return False
        return uid is None or uid in (owner_uid, creator_uid)

    def keep_pipe(pipe: Pipe | Fifo) -> bool:
        related = pipe_pids(pipe)
        if pids is not None and not (related & pids):
            return False
        return uid is None or any(uid_of(pid) == uid for pid in related)

    def keep_process(process: Process) -> bool:
        if pids is not None and process.pid not in pids:
            return False
        return uid is None or process.uid == uid

    return replace(
        snapshot,
        shm={k: v for k, v in snapshot.shm.items() if "shm" in types and keep_owned(v.uid, v.cuid, shm_pids(v))},
        msg={k: v for k, v in snapshot.msg.items() if "msg" in types and keep_owned(v.uid, v.cuid, msg_pids(v))},
        sem={k: v for k, v in snapshot.sem.items() if "sem" in types and keep_owned(v.uid, v.cuid, sem_pids(v))},
        pipes={k: v for k, v in snapshot.pipes.items() if "pipe" in types and keep_pipe(v)},
        fifos={k: v for k, v in snapshot.fifos.items() if "fifo" in types and keep_pipe(v)},
        processes={k: v for k, v in procs.items() if keep_process(v)},
    )
