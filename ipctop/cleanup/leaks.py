"""The leak rules: which System V objects are leaked, which are only reported, and why (the POSIX
objects' rules: posix_leaks.py).

Pure: it reads a Snapshot and the Evidence gathered beside it (who is blocked on
what, who could have made what, what ipctop's demos claim) and touches nothing.
An object is proposed for removal only on positive evidence that no live
program can be about to use it.  The rules, which docs/cleanup.md states for users:

- In use, never listed: a segment with nattch > 0; a queue or set a thread is
  blocked on (/proc/PID/task/TID/syscall), or a set whose semncnt/semzcnt shows one.
- The creator must be known to be gone.  A segment's creator is its cpid.
  Queues and sets have no creator pid: their creator is gone only when no live
  process of their creating user (cuid) was already running when they were made
  (creators.py); otherwise it is "creator unknown", and the object is kept.
- Its last users must be gone too: lpid (shm), lspid and lrpid (msg), every
  sempid (sem), each either gone or never there.
- It must have been idle (none of its times moved) for longer than the grace
  period, GRACE_PERIOD by default, --older-than otherwise (in either direction):
  a program may make an object now and use it in a minute.
- "Gone" means no such pid, a zombie, or a pid that is alive but belongs to a
  process started after the pid used the object (a reused pid).  A pid of 0
  where the object was used means a pid namespace we cannot see: unknown, kept.
- Every IPC namespace is judged apart, by host pids (the tables of another namespace
  are read in ipctop's pid namespace, so their pids are the host's).  A pid alive in
  another IPC namespace than the object's still counts as alive: a thread of it may
  act in the object's namespace (ipctop's own do).  Demo records name keys of
  ipctop's own namespace only.
- Left by an ipctop demo whose processes are all gone (its run record says so):
  removable at once if not in use; that is the positive evidence.
- Reported, never removed, once idle for REPORT_IDLE_AFTER (or --older-than):
  segments marked for removal that processes keep alive (named), objects with a
  live or unknown creator or last user, objects ipctop may not inspect.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from ipctop.cleanup.candidate import POSIX_KINDS, REPORT_IDLE_AFTER, LeakCandidate
from ipctop.cleanup.creators import CLOCK_SLACK, Residents, live_label
from ipctop.cleanup.evidence import Evidence
from ipctop.cleanup.filters import LeakFilters
from ipctop.cleanup.posix_leaks import find_posix_leaks
from ipctop.cleanup.waiters import Waiters
from ipctop.keys import DEMO_KEYS
from ipctop.model import EXITED_STATES, MsgQueue, Process, SemSet, ShmSegment, Snapshot
from ipctop.render.formatting import age, clock, count, human_bytes
from ipctop.render.procinfo import label

__all__ = ["CLOCK_SLACK", "GRACE_PERIOD", "REPORT_IDLE_AFTER", "LeakCandidate", "find_leaks", "grace_seconds"]

# Without --older-than, an abandoned object is proposed only once idle this long (seconds).
GRACE_PERIOD = 600

# How many possible creators a reason names.
NAMED_CREATORS = 3

# What a candidate is, and REPORT_IDLE_AFTER, are shared with the POSIX rules: cleanup/candidate.py.


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What one pid tells: the process is gone, alive, never was, or cannot be known."""

    state: Literal["gone", "alive", "never", "unknown"]
    text: str = ""


def _judge_pid(snapshot: Snapshot, pid: int, used_at: int | None, namespace: str = "") -> _Verdict:
    """Is the process that used the object at `used_at` (or earlier) still there?  `namespace`: the
    object's IPC namespace (`ipc:[N]`) when not ipctop's own: a user alive in another one is said to be."""
    process = snapshot.known_processes.get(pid)
    if process is not None and process.state in EXITED_STATES:
        return _Verdict("gone", f"pid {pid} has exited (a zombie, not yet reaped)")
    if not snapshot.is_alive(pid):
        return _Verdict("gone", f"pid {pid} has exited")
    if process is None:
        return _Verdict("alive", f"pid {pid}")  # alive, details unread: count it as the user
    if namespace and process.ipc_ns and process.ipc_ns != namespace and (
        not used_at or process.start_time < used_at + CLOCK_SLACK
    ):
        # Alive, but in another IPC namespace than the object's: a reused pid, or a process that
        # reaches the namespace through a thread of its own (as ipctop itself does).  Kept.
        return _Verdict("alive", f"{label(pid, snapshot.known_processes)} (now in another IPC namespace)")
    if used_at and process.start_time >= used_at + CLOCK_SLACK:
        return _Verdict(
            "gone",
            f"pid {pid} has exited (that pid now belongs to {label(pid, snapshot.known_processes)}, "
            f"started at {clock(int(process.start_time))}, after it used the object: a reused pid)",
        )
    return _Verdict("alive", label(pid, snapshot.known_processes))


def _judge_user(snapshot: Snapshot, pid: int, used_at: int, namespace: str = "") -> _Verdict:
    """A last-user pid: 0 with no time means never; 0 with a time means invisible to us."""
    if pid == 0:
        return _Verdict("never") if not used_at else _Verdict("unknown")
    return _judge_pid(snapshot, pid, used_at or None, namespace)


def _report_after(filters: LeakFilters) -> float:
    return filters.older_than if filters.older_than is not None else REPORT_IDLE_AFTER


def _grace(filters: LeakFilters) -> float:
    if filters.grace is not None:
        return filters.grace
    return filters.older_than if filters.older_than is not None else GRACE_PERIOD


def _made_by(*times: int) -> int:
    """The latest the object can have been made: the earliest of its times (0 when it shows none)."""
    known = [t for t in times if t]
    return min(known) if known else 0


def _user(uid: int) -> str:
    from ipctop.collectors.processes import user_name

    name = user_name(uid)
    return f"uid {uid}" if name == str(uid) else f"{name} (uid {uid})"


def _judge_creator(cuid: int, made_by: int, residents: Residents | None,
                   processes: Mapping[int, Process]) -> _Verdict:
    """A queue's or set's creator: gone when no live process of user `cuid` ran when it was made."""
    if residents is None:
        return _Verdict("unknown", "creator unknown: the live processes were not read")
    if not made_by:
        return _Verdict("unknown", "creator unknown: it shows no time at which it existed")
    possible = residents.possible_creators(cuid, made_by)
    if not possible:
        return _Verdict("gone", f"creator gone: no live process of {_user(cuid)} was running when it was made "
                                f"(by {clock(made_by)})")
    # named as the panes name them (`binary_backend`, not the memfd it runs from; `python worker.py`)
    named = ", ".join(live_label(r.pid, r.comm, processes) if r.comm else r.label for r in possible[:NAMED_CREATORS])
    named += ", ..." if len(possible) > NAMED_CREATORS else ""
    count = "1 live process" if len(possible) == 1 else f"{len(possible)} live processes"
    return _Verdict("unknown", f"creator unknown: {count} of {_user(cuid)} already ran when it was made "
                               f"and may be its creator ({named})")


def _kept_by_live(role_verdicts: Iterable[tuple[str, _Verdict]], idle: str) -> str:
    alive = [f"{role} {v.text}" for role, v in role_verdicts if v.state == "alive"]
    verb = "is" if len(alive) == 1 else "are"
    return f"{' and '.join(alive)} {verb} alive but nobody used it for {idle}"


_UNSEEN = ("used or created by a process ipctop cannot see (pid 0: another pid namespace), "
           "so it cannot tell whether that process is alive")
_DEMO = "left by an ipctop demo whose processes have all exited"


def _demo_state(key: int, evidence: Evidence, snapshot: Snapshot, namespace: str) -> Literal["live", "dead", "none"]:
    """Whether a running demo claims `key` (its object: not leaked), a dead one, or none; demos make
    their objects in ipctop's own namespace."""
    if namespace and namespace != snapshot.ipc_ns:
        return "none"
    if key in evidence.demos.live:
        return "live"
    return "dead" if key in evidence.demos.dead else "none"


def _kept(base: dict, verdicts: list[tuple[str, _Verdict]], idle: float, now: float,
          filters: LeakFilters) -> LeakCandidate | None:
    """A live or unknown user keeps the object: reported once idle long enough, else not listed."""
    if idle < _report_after(filters):
        return None
    if any(v.state == "alive" for _, v in verdicts):
        reason = _kept_by_live(verdicts, age(base["last_touched"], now))
    else:
        reason = _UNSEEN
    return LeakCandidate(**base, reason=reason, removable=False)


def _shm(segment: ShmSegment, snapshot: Snapshot, now: float, filters: LeakFilters,
         evidence: Evidence, namespace: str = "") -> LeakCandidate | None:
    if segment.nattch > 0 and not segment.marked_for_removal:
        return None  # attached: in use (checked first: most segments are, and the exporter asks every scrape)
    last = max(segment.atime, segment.dtime, segment.ctime)
    base = dict(
        kind="shm", id=segment.shmid, key=segment.display_key, owner=segment.owner, uid=segment.uid,
        perms=segment.perms, ctime=segment.ctime, last_touched=last, users=(segment.cpid, segment.lpid),
        times=(segment.atime, segment.dtime), detail=human_bytes(segment.size),
    )
    if segment.marked_for_removal:
        if segment.nattch == 0:
            return None  # the kernel destroys it now
        holders = tuple(sorted({a.pid for a in segment.attachers}))
        comms = {a.pid: a.comm for a in segment.attachers}
        named = ", ".join(label(pid, snapshot.known_processes, comms[pid]) for pid in holders)
        if not named:
            named = f"{segment.nattch} attachments in processes ipctop may not inspect"
        return LeakCandidate(**base, reason=f"marked for removal, kept alive by {named}", removable=False,
                             holders=holders)
    demo = _demo_state(segment.display_key, evidence, snapshot, namespace)
    if segment.nattch > 0 or demo == "live":
        return None
    idle = now - last
    # The creator existed when the segment was made, which is no later than any time
    # the table shows, so the earliest of them is the best bound we have.  ctime alone
    # is not: IPC_SET moves it forward, and a pid reused between the creation and the
    # IPC_SET would then pass for the creator (the safe side, but a leak missed).  When
    # ctime is all we know, such a reused pid is taken for the creator: kept, not removed.
    created_by = _made_by(segment.atime, segment.dtime, segment.ctime) or None
    creator = _judge_pid(snapshot, segment.cpid, created_by, namespace) if segment.cpid else _Verdict("unknown")
    # lpid is whoever attached or detached last, at max(atime, dtime).
    last_user = _judge_user(snapshot, segment.lpid, max(segment.atime, segment.dtime), namespace)
    verdicts = [("creator", creator), ("last user", last_user)]
    if any(v.state in ("alive", "unknown") for _, v in verdicts):
        if all(v.state != "alive" for _, v in verdicts) and idle >= _report_after(filters):
            return LeakCandidate(**base, reason=f"nattch 0, but {_UNSEEN}", removable=False)
        return _kept(base, verdicts, idle, now, filters)
    parts = [_DEMO] if demo == "dead" else []
    parts += ["nattch 0", f"creator {creator.text}"]
    parts.append("never attached" if last_user.state == "never" else f"last user {last_user.text}")
    parts.append(f"untouched for {age(last, now)}")
    if demo != "dead" and idle <= _grace(filters):
        return None
    return LeakCandidate(**base, reason="; ".join(parts), removable=True)


def _msg(queue: MsgQueue, snapshot: Snapshot, now: float, filters: LeakFilters,
         evidence: Evidence, namespace: str = "") -> LeakCandidate | None:
    demo = _demo_state(queue.key, evidence, snapshot, namespace)
    waiters, elsewhere = evidence.waiters, snapshot.elsewhere(queue.ipc_ns)
    blocked = queue.waiters or (waiters is not None and waiters.on("msg", queue.msqid, elsewhere))
    if demo == "live" or blocked:
        return None  # a running demo's, or a process is blocked on it: in use
    last = max(queue.stime, queue.rtime, queue.ctime)
    idle = now - last
    detail = f"{count(queue.qnum, 'msg')}, {human_bytes(queue.cbytes)}"
    base = dict(
        kind="msg", id=queue.msqid, key=queue.key, owner=queue.owner, uid=queue.uid, perms=queue.perms,
        ctime=queue.ctime, last_touched=last, users=(queue.lspid, queue.lrpid), times=(queue.stime, queue.rtime),
        detail=detail,
    )
    sender = _judge_user(snapshot, queue.lspid, queue.stime, namespace)
    receiver = _judge_user(snapshot, queue.lrpid, queue.rtime, namespace)
    verdicts = [("last sender", sender), ("last receiver", receiver)]
    if any(v.state in ("alive", "unknown") for _, v in verdicts):
        return _kept(base, verdicts, idle, now, filters)
    users = [f"last sender {sender.text}" if sender.state == "gone" else "nothing ever sent",
             f"last receiver {receiver.text}" if receiver.state == "gone" else "nothing ever received"]
    if queue.qnum:
        users.append(f"holds {count(queue.qnum, 'message')} ({human_bytes(queue.cbytes)})")
    users.append(f"untouched for {age(last, now)}")
    return _by_creator(base, users, queue.cuid, _made_by(queue.stime, queue.rtime, queue.ctime), idle, filters,
                       evidence, demo, snapshot.known_processes)


def _by_creator(base: dict, users: list[str], cuid: int, made_by: int, idle: float, filters: LeakFilters,
                evidence: Evidence, demo: str, processes: Mapping[int, Process]) -> LeakCandidate | None:
    """A queue or set whose users are gone: removable only if its creator is known to be gone too."""
    if demo == "dead":
        return LeakCandidate(**base, reason="; ".join([_DEMO, *users]), removable=True)
    creator = _judge_creator(cuid, made_by, evidence.residents, processes)
    if creator.state != "gone":
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason="; ".join([creator.text, *users]), removable=False)
    if idle <= _grace(filters):
        return None
    return LeakCandidate(**base, reason="; ".join([creator.text, *users]), removable=True)


def _sem(sem_set: SemSet, snapshot: Snapshot, now: float, filters: LeakFilters,
         evidence: Evidence, namespace: str = "") -> LeakCandidate | None:
    demo = _demo_state(sem_set.key, evidence, snapshot, namespace)
    if demo == "live":
        return None
    last = max(sem_set.otime, sem_set.ctime)
    idle = now - last
    values = ",".join(map(str, sem_set.values)) if sem_set.values else "?"
    base = dict(
        kind="sem", id=sem_set.semid, key=sem_set.key, owner=sem_set.owner, uid=sem_set.uid, perms=sem_set.perms,
        ctime=sem_set.ctime, last_touched=last, users=sem_set.pids, times=(sem_set.otime,),
        detail=f"{sem_set.nsems} sems = {values}",
    )
    if not sem_set.pids:
        return LeakCandidate(
            **base, reason="ipctop may not read its semaphores (semctl refused), so it cannot tell who used it last",
            removable=False,
        )
    waiters = evidence.waiters
    elsewhere = snapshot.elsewhere(sem_set.ipc_ns)
    if sem_set.blocked or sem_set.waiters or (waiters is not None and waiters.on("sem", sem_set.semid, elsewhere)):
        return None  # processes are blocked on it (the kernel counts them; the scan names them): in use
    # A sempid is set by semop (otime) or by SETVAL/SETALL (ctime), so its process
    # used the set no later than the latest of the two.
    used_at = max(sem_set.otime, sem_set.ctime)
    pids = sorted({pid for pid in sem_set.pids if pid})
    if not pids and sem_set.otime:
        return _kept(base, [("last user", _Verdict("unknown"))], idle, now, filters)
    verdicts = [("last user", _judge_pid(snapshot, pid, used_at, namespace)) for pid in pids]
    if any(v.state == "alive" for _, v in verdicts):
        return _kept(base, verdicts, idle, now, filters)
    if pids:
        role = "last user" if len(pids) == 1 else "last users"
        users = [f"nobody waits on it; {role} " + ", ".join(v.text for _, v in verdicts)]
    else:
        users = ["nobody waits on it; never operated on"]
    users.append(f"untouched for {age(last, now)}")
    return _by_creator(base, users, sem_set.cuid, _made_by(sem_set.otime, sem_set.ctime), idle, filters,
                       evidence, demo, snapshot.known_processes)


def _demo_range_noted(candidate: LeakCandidate, evidence: Evidence) -> LeakCandidate:
    """A removable object in ipctop's demo key range that no demo's record names (an older ipctop's
    demo, or one made by hand there) is judged like any other; its reason says where its key is."""
    if not candidate.removable or candidate.key not in DEMO_KEYS or candidate.key in evidence.demos.dead:
        return candidate
    return replace(candidate, reason=f"{candidate.reason}; its key is in ipctop's demo range, but no demo's "
                                     "record names it")


def _selected(key: int, uid: int, cuid: int, filters: LeakFilters) -> bool:
    if filters.keys is not None and key not in filters.keys:
        return False
    if filters.names is not None and filters.keys is None:
        return False  # a run confined to POSIX names looks at no System V object
    return filters.uid is None or filters.uid in (uid, cuid)


def _namespaces(snapshot: Snapshot, filters: LeakFilters) -> Iterator[tuple[Mapping, Mapping, Mapping, str, int, str]]:
    """(shm, msg, sem, link, inode, name) of each IPC namespace to judge: ipctop's own (inode and name
    0 and "": its candidates are labelled as before), then each other one that could be read."""
    own = snapshot.own_inode
    if filters.namespaces is None or own in filters.namespaces:
        yield snapshot.shm, snapshot.msg, snapshot.sem, snapshot.ipc_ns, 0, ""
    for ns in snapshot.other_namespaces:
        if not ns.error and (filters.namespaces is None or ns.inode in filters.namespaces):
            yield ns.shm, ns.msg, ns.sem, f"ipc:[{ns.inode}]", ns.inode, ns.name


def find_leaks(
    snapshot: Snapshot, filters: LeakFilters | None = None, now: float | None = None,
    queue_waiters: Waiters | None = None, evidence: Evidence | None = None,
) -> list[LeakCandidate]:
    """The leaked objects of `snapshot` (removable) and the ones only worth reporting, in every IPC
    namespace it holds (each judged by its own processes).

    `now` defaults to the snapshot's time.  `evidence` (evidence.gather()) says who
    is blocked on what, who could have made each queue and set, and what the demos
    claim; without it no queue or set is removable (its creator cannot be judged).
    `queue_waiters` alone, as before, gives the waiters only.  The removal checks
    for waiters again just before removing.
    """
    filters = filters or LeakFilters()
    now = snapshot.time if now is None else now
    if evidence is None:
        evidence = Evidence(waiters=queue_waiters)
    elif queue_waiters is not None:
        evidence = Evidence(waiters=queue_waiters, residents=evidence.residents, demos=evidence.demos,
                            everyone=evidence.everyone)
    leaks: list[LeakCandidate] = []
    for shm, msg, sem, link, inode, name in _namespaces(snapshot, filters):
        found: list[LeakCandidate | None] = []
        if "shm" in filters.types:
            found += [_shm(s, snapshot, now, filters, evidence, link) for s in shm.values()
                      if _selected(s.display_key, s.uid, s.cuid, filters)]
        if "msg" in filters.types:
            found += [_msg(q, snapshot, now, filters, evidence, link) for q in msg.values()
                      if _selected(q.key, q.uid, q.cuid, filters)]
        if "sem" in filters.types:
            found += [_sem(s, snapshot, now, filters, evidence, link) for s in sem.values()
                      if _selected(s.key, s.uid, s.cuid, filters)]
        kept = [c for c in found if c is not None]
        if inode:
            kept = [replace(c, ipc_ns=inode, container=name) for c in kept]
        else:
            kept = [_demo_range_noted(c, evidence) for c in kept]
        leaks += kept
    if filters.types & set(POSIX_KINDS) and (filters.namespaces is None or snapshot.own_inode in filters.namespaces):
        # ipctop's own /dev/shm and queues
        leaks += find_posix_leaks(snapshot, filters, now, evidence.everyone, grace=_grace(filters))
    if snapshot.processes_hidden:
        leaks = [_hidden_kept(c) for c in leaks]
    order = {"shm": 0, "msg": 1, "sem": 2, "pshm": 3, "psem": 4, "pmsg": 5}
    if filters.older_than is not None:
        leaks = [c for c in leaks if now - c.last_touched > filters.older_than]
    namespaces = {ns.inode: i for i, ns in enumerate(snapshot.namespaces)}
    return sorted(leaks, key=lambda c: (namespaces.get(c.ipc_ns, 0) if c.ipc_ns else 0, order[c.kind], c.name, c.id))


_HIDDEN = ("but /proc hides other users' processes from this user (hidepid), so one that made it, uses it or "
           "waits on it may be alive unseen: kept (run as root to judge it)")


def _hidden_kept(candidate: LeakCandidate) -> LeakCandidate:
    """Every verdict that a process is gone, or that nobody holds an object, rests on the processes a scan
    sees; where /proc hides some, none is evidence: a hidden creator read as `creator gone`."""
    if not candidate.removable:
        return candidate
    return replace(candidate, removable=False, reason=f"{candidate.reason}; {_HIDDEN}")


def grace_seconds(filters: LeakFilters | None) -> float:
    """How long an object must have been idle before it is proposed, with these filters."""
    return _grace(filters or LeakFilters())
