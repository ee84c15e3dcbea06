"""Filters over a snapshot: by object type, by process, by user and by IPC namespace.

Shared by `ipctop list`, the monitor's command line options and the cleanup.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ipctop.collectors.namespaces import NamespaceInfo, matching_namespaces
from ipctop.frozen import replace
from ipctop.kinds import KINDS
from ipctop.kinds import NAMES as KIND_NAMES
from ipctop.model import Fifo, IpcNamespace, MsgQueue, Pipe, Process, SemSet, ShmSegment, Snapshot

SYSTEM_V_AND_PIPES = ("shm", "msg", "sem", "pipe", "fifo")
OBJECT_TYPES = SYSTEM_V_AND_PIPES + KIND_NAMES


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
    return {queue.lspid, queue.lrpid, *(w.pid for w in queue.waiters)}


def sem_pids(sem_set: SemSet) -> set[int]:
    return {*sem_set.pids, *(w.pid for w in sem_set.waiters)}


def pipe_pids(pipe: Pipe | Fifo) -> set[int]:
    return {*(end.pid for end in pipe.ends), *(w.pid for w in pipe.waiters)}


def namespace_inode(link: str) -> int:
    """`ipc:[4026531839]` -> 4026531839 (0 when it is not a namespace link)."""
    start, end = link.find("["), link.rfind("]")
    return int(link[start + 1 : end]) if 0 <= start < end and link[start + 1 : end].isdigit() else 0


def select_namespaces(snapshot: Snapshot, text: str) -> frozenset[int]:
    """The inodes `--ns` names: comma-separated names (`host`, `docker:3f2a1b4c5d6e`, or the start of
    one, or of a container's id), inodes, or pids of processes in them.  Raises ValueError with one
    sentence when one names none, or more than one."""
    return choose_namespaces(snapshot.namespaces, namespace_inode(snapshot.ipc_ns), snapshot.namespace_note, text)


def choose_namespaces(known: Sequence[IpcNamespace | NamespaceInfo], own: int, note: str, text: str) -> frozenset[int]:
    """select_namespaces among `known` (empty when only ipctop's own, `own`, could be looked at: `note` says why)."""
    words = [word.strip() for word in text.split(",")]
    if not all(words):
        raise ValueError(f"{text!r} has an empty name")
    if not known:
        if all(word in ("host", str(own), str(os.getpid())) for word in words):
            return frozenset({own})
        raise ValueError(note or "only ipctop's own IPC namespace (host) is known here")
    chosen: set[int] = set()
    for word in words:
        found = matching_namespaces(known, word)
        if not found:
            names = ", ".join(ns.name for ns in known[:8])
            more = ", …" if len(known) > 8 else ""
            raise ValueError(f"no IPC namespace is named {word!r} or has it as inode or pid (there are: {names}{more})")
        if len(found) > 1 and not word.isdigit():
            raise ValueError(f"{word!r} names {len(found)} IPC namespaces ({', '.join(ns.name for ns in found)}): "
                             "give more of the name, or the inode")
        chosen.update(ns.inode for ns in found)
    return frozenset(chosen)


def namespaces_named(snapshot: Snapshot, text: str) -> frozenset[int]:
    """The inodes of the namespaces `--ns TEXT` names now, leaving out names that name none (a container
    that is not running), for a filter applied again at each scan."""
    chosen: set[int] = set()
    for word in (w.strip() for w in text.split(",") if w.strip()):
        if word == "host" or (not snapshot.namespaces and word == str(namespace_inode(snapshot.ipc_ns))):
            chosen.add(snapshot.own_inode)
            continue
        chosen.update(ns.inode for ns in matching_namespaces(snapshot.namespaces, word))
    return frozenset(chosen)


def filter_snapshot(
    snapshot: Snapshot,
    types: frozenset[str] | None = None,
    pids: frozenset[int] | None = None,
    uid: int | None = None,
    namespaces: frozenset[int] | None = None,
) -> Snapshot:
    """The part of `snapshot` that matches every filter given; `namespaces`: inodes (select_namespaces).

    It only leaves rows out: each record kept is the whole machine's (its waiters, its
    ends), so a state judged from it is the same with a filter as without.  An object
    is related to a process that holds it, last used it, or waits on it."""
    types = types or frozenset(OBJECT_TYPES)
    procs = snapshot.processes
    if namespaces is not None:
        procs = {pid: p for pid, p in procs.items() if namespace_inode(p.ipc_ns) in namespaces}

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
        if namespaces is not None and not any(pid in procs for pid in related):
            return False  # none of its holders is in the namespaces asked for
        return uid is None or any(uid_of(pid) == uid for pid in related)

    def keep_process(process: Process) -> bool:
        if pids is not None and process.pid not in pids:
            return False
        return uid is None or process.uid == uid

    def keep_held(owner_uid: int | None, related: set[int]) -> bool:
        if pids is not None and not (related & pids):
            return False
        if namespaces is not None and not own_shown and not any(pid in procs for pid in related):
            return False  # ipctop's own objects (its /dev/shm and queues), none of whose holders is asked for
        return uid is None or owner_uid == uid or any(uid_of(pid) == uid for pid in related)

    def tables(ns_shm, ns_msg, ns_sem, inode: int) -> dict:  # type: ignore[no-untyped-def]
        """One namespace's System V tables, filtered."""
        shown = namespaces is None or inode in namespaces

        def kept(kind: str, table, related) -> dict:  # type: ignore[no-untyped-def]
            if not shown or kind not in types:
                return {}
            return {k: v for k, v in table.items() if keep_owned(v.uid, v.cuid, related(v))}

        return dict(shm=kept("shm", ns_shm, shm_pids), msg=kept("msg", ns_msg, msg_pids),
                    sem=kept("sem", ns_sem, sem_pids))

    own = tables(snapshot.shm, snapshot.msg, snapshot.sem, namespace_inode(snapshot.ipc_ns))
    kept_namespaces = []
    for ns in snapshot.namespaces:
        if namespaces is not None and ns.inode not in namespaces:
            continue
        kept_namespaces.append(replace(ns, **(own if ns.own else tables(ns.shm, ns.msg, ns.sem, ns.inode))))
    own_shown = namespaces is None or namespace_inode(snapshot.ipc_ns) in namespaces
    kinds = {
        kind.field: {k: v for k, v in kind.objects(snapshot).items()
                     if kind.name in types and keep_held(kind.owner_uid(v), kind.pids(v))}
        for kind in KINDS
    }
    filtered = replace(
        snapshot,
        **own,
        **kinds,
        pipes={k: v for k, v in snapshot.pipes.items() if "pipe" in types and keep_pipe(v)},
        fifos={k: v for k, v in snapshot.fifos.items() if "fifo" in types and keep_pipe(v)},
        processes={k: v for k, v in procs.items() if keep_process(v)},
        every_process=snapshot.known_processes,
        namespaces=tuple(kept_namespaces),
    )
    if kept_namespaces and kept_namespaces[0].own:  # one mapping each, shared as in the scan
        own_ns = kept_namespaces[0]
        kept_namespaces[0] = replace(own_ns, shm=filtered.shm, msg=filtered.msg, sem=filtered.sem)
        filtered = replace(filtered, namespaces=tuple(kept_namespaces))
    return filtered
