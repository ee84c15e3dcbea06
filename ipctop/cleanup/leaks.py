"""The leak rules: which System V objects are leaked, which are only reported, and why.

Pure: it reads a Snapshot (and, if given, who is blocked on which queue) and
touches nothing.  The rules, which docs/cleanup.md states for users:

- A segment is removable when nattch is 0, its creator (cpid) is gone and its
  last user (lpid) is gone or never existed (never attached).
- A queue is removable when its last sender (lspid) and last receiver (lrpid)
  are gone, or one is gone and the other never happened, and no process is
  blocked in msgsnd/msgrcv on it.  The table has no creator pid for queues.
- A semaphore set is removable when every last user (sempid of each
  semaphore) is gone and nobody waits on it (ncnt and zcnt all 0).
- A queue or set that was never used (all pids 0, no send/receive/semop time)
  has no pid to judge: its creator may be about to use it.  It is removable
  only when --older-than is given and it is older; otherwise it is reported
  once it has been idle for a day.
- "Gone" means no such pid, a zombie, or a pid that is alive but belongs to a
  process started after the pid used the object (a reused pid).
- A pid of 0 where the object was used means the user is in a pid namespace we
  cannot see: it cannot be judged, so the object is kept.
- Every IPC namespace is judged apart, by host pids (the tables of another namespace
  are read in ipctop's pid namespace, so their pids are the host's).  A pid alive in
  another IPC namespace than the object's still counts as alive: a thread of it may
  act in the object's namespace (ipctop's own do).
- Reported, never removed: segments marked for removal that processes keep
  alive (named), objects with a live creator or last user that nobody used for
  a long time, and objects ipctop may not inspect well enough to judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from ipctop.cleanup.filters import LeakFilters
from ipctop.cleanup.waiters import QueueWaiters
from ipctop.model import MsgQueue, SemSet, ShmSegment, Snapshot
from ipctop.render.formatting import age, clock, hex_key, human_bytes, proc_label

Kind = Literal["shm", "msg", "sem"]

# A process's start time is boot time (whole seconds, rounded down) plus clock ticks,
# and IPC times are whole seconds rounded down: the real creator can appear to
# have started up to a second after the object's time.  Two seconds of margin
# keep a live creator from ever being taken for a reused pid.
CLOCK_SLACK = 2.0

# Without --older-than, idle objects that are not removable are reported after this long.
REPORT_IDLE_AFTER = 86400


@dataclass(frozen=True, slots=True)
class LeakCandidate:
    """An object the rules picked, with the sentence saying why.

    `removable` False means reported only; `reason` then says what keeps it.
    `users` and `times` are what the rule judged (shm: cpid, lpid / atime, dtime;
    msg: lspid, lrpid / stime, rtime; sem: each sempid / otime); the removal
    checks them again so that an object used since the scan is left alone.
    """

    kind: Kind
    id: int
    key: int
    reason: str
    removable: bool
    owner: str
    uid: int
    perms: int
    ctime: int
    last_touched: int  # the latest of the object's times, epoch seconds
    users: tuple[int, ...]
    times: tuple[int, ...]
    holders: tuple[int, ...] = ()  # live processes keeping a reported object alive
    detail: str = ""  # size, messages or values, for tables
    ipc_ns: int = 0  # the inode of its IPC namespace when that is not ipctop's own (its id is unique only there)
    container: str = ""  # and that namespace's name

    @property
    def label(self) -> str:
        where = f" in {self.container}" if self.container else ""
        return f"{self.kind} {self.id} (key {hex_key(self.key)}){where}"


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What one pid tells: the process is gone, alive, never was, or cannot be known."""

    state: Literal["gone", "alive", "never", "unknown"]
    text: str = ""


def _judge_pid(snapshot: Snapshot, pid: int, used_at: int | None, namespace: str = "") -> _Verdict:
    """Is the process that used the object at `used_at` (or earlier) still there?  `namespace`: the
    object's IPC namespace (`ipc:[N]`): a user alive in another one is said to be."""
    if not snapshot.is_alive(pid):
        return _Verdict("gone", f"pid {pid} has exited")
    process = snapshot.processes.get(pid)
    if process is None:
        return _Verdict("alive", f"pid {pid}")  # alive, details unread: count it as the user
    if process.state in ("Z", "X"):
        return _Verdict("gone", f"pid {pid} has exited (a zombie, not yet reaped)")
    if namespace and process.ipc_ns and process.ipc_ns != namespace and (
        not used_at or process.start_time < used_at + CLOCK_SLACK
    ):
        # Alive, but in another IPC namespace than the object's: a reused pid, or a process that
        # reaches the namespace through a thread of its own (as ipctop itself does).  Kept.
        return _Verdict("alive", f"{proc_label(process.comm, pid)} (now in another IPC namespace)")
    if used_at and process.start_time >= used_at + CLOCK_SLACK:
        return _Verdict(
            "gone",
            f"pid {pid} has exited (that pid now belongs to {proc_label(process.comm, pid)}, "
            f"started at {clock(int(process.start_time))}, after it used the object: a reused pid)",
        )
    return _Verdict("alive", proc_label(process.comm, pid))


def _judge_user(snapshot: Snapshot, pid: int, used_at: int, namespace: str = "") -> _Verdict:
    """A last-user pid: 0 with no time means never; 0 with a time means invisible to us."""
    if pid == 0:
        return _Verdict("never") if not used_at else _Verdict("unknown")
    return _judge_pid(snapshot, pid, used_at or None, namespace)


def _report_after(filters: LeakFilters) -> float:
    return filters.older_than if filters.older_than is not None else REPORT_IDLE_AFTER


def _kept_by_live(role_verdicts: Iterable[tuple[str, _Verdict]], idle: str) -> str:
    alive = [f"{role} {v.text}" for role, v in role_verdicts if v.state == "alive"]
    verb = "is" if len(alive) == 1 else "are"
    return f"{' and '.join(alive)} {verb} alive but nobody used it for {idle}"


_UNSEEN = ("used or created by a process ipctop cannot see (pid 0: another pid namespace), "
           "so it cannot tell whether that process is alive")


def _shm(segment: ShmSegment, snapshot: Snapshot, now: float, filters: LeakFilters,
         namespace: str = "") -> LeakCandidate | None:
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
        named = ", ".join(proc_label(comms[pid], pid) for pid in holders)
        if not named:
            named = f"{segment.nattch} attachments in processes ipctop may not inspect"
        return LeakCandidate(**base, reason=f"marked for removal, kept alive by {named}", removable=False,
                             holders=holders)
    if segment.nattch > 0:
        return None
    idle = now - last
    # The creator existed when the segment was made, which is no later than any time
    # the table shows, so the earliest of them is the best bound we have.  ctime alone
    # is not: IPC_SET moves it forward, and a pid reused between the creation and the
    # IPC_SET would then pass for the creator (the safe side, but a leak missed).  When
    # ctime is all we know, such a reused pid is taken for the creator: kept, not removed.
    known = [t for t in (segment.atime, segment.dtime, segment.ctime) if t]
    created_by = min(known) if known else None
    creator = _judge_pid(snapshot, segment.cpid, created_by, namespace) if segment.cpid else _Verdict("unknown")
    # lpid is whoever attached or detached last, at max(atime, dtime).
    last_user = _judge_user(snapshot, segment.lpid, max(segment.atime, segment.dtime), namespace)
    verdicts = [("creator", creator), ("last user", last_user)]
    if any(v.state == "alive" for _, v in verdicts):
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason=_kept_by_live(verdicts, age(last, now)), removable=False)
    if any(v.state == "unknown" for _, v in verdicts):
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason=f"nattch 0, but {_UNSEEN}", removable=False)
    parts = ["nattch 0", f"creator {creator.text}"]
    parts.append("never attached" if last_user.state == "never" else f"last user {last_user.text}")
    parts.append(f"untouched for {age(last, now)}")
    return LeakCandidate(**base, reason="; ".join(parts), removable=True)


def _never_used(base: dict, what: str, filters: LeakFilters, now: float) -> LeakCandidate | None:
    """A queue or set nobody used: its creator, unknown, may be about to; only --older-than lets it go."""
    since = f"never {what} since {clock(base['ctime'])}"
    if filters.older_than is not None:
        return LeakCandidate(**base, reason=f"{since}; untouched for {age(base['last_touched'], now)}",
                             removable=True)
    if now - base["last_touched"] < REPORT_IDLE_AFTER:
        return None
    return LeakCandidate(
        **base, reason=f"{since}; with no pid to check, it is removed only with --older-than", removable=False
    )


def _msg(queue: MsgQueue, snapshot: Snapshot, now: float, filters: LeakFilters,
         waiters: QueueWaiters | None, namespace: str = "") -> LeakCandidate | None:
    if waiters is not None and waiters.blocked_on(queue.msqid, snapshot.elsewhere(queue.ipc_ns)):
        return None  # a process is blocked on it: in use
    last = max(queue.stime, queue.rtime, queue.ctime)
    idle = now - last
    detail = f"{queue.qnum} msgs, {human_bytes(queue.cbytes)}"
    base = dict(
        kind="msg", id=queue.msqid, key=queue.key, owner=queue.owner, uid=queue.uid, perms=queue.perms,
        ctime=queue.ctime, last_touched=last, users=(queue.lspid, queue.lrpid), times=(queue.stime, queue.rtime),
        detail=detail,
    )
    sender = _judge_user(snapshot, queue.lspid, queue.stime, namespace)
    receiver = _judge_user(snapshot, queue.lrpid, queue.rtime, namespace)
    verdicts = [("last sender", sender), ("last receiver", receiver)]
    if any(v.state == "alive" for _, v in verdicts):
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason=_kept_by_live(verdicts, age(last, now)), removable=False)
    if any(v.state == "unknown" for _, v in verdicts):
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason=_UNSEEN, removable=False)
    if sender.state == receiver.state == "never":
        found = _never_used(base, "sent to nor received from", filters, now)
    else:
        parts = [f"last sender {sender.text}" if sender.state == "gone" else "nothing ever sent",
                 f"last receiver {receiver.text}" if receiver.state == "gone" else "nothing ever received"]
        if queue.qnum:
            parts.append(f"holds {queue.qnum} messages ({human_bytes(queue.cbytes)})")
        parts.append(f"untouched for {age(last, now)}")
        found = LeakCandidate(**base, reason="; ".join(parts), removable=True)
    return found


def _sem(sem_set: SemSet, snapshot: Snapshot, now: float, filters: LeakFilters,
         namespace: str = "") -> LeakCandidate | None:
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
    if sem_set.blocked:
        return None  # processes are blocked on it: in use
    # A sempid is set by semop (otime) or by SETVAL/SETALL (ctime), so its process
    # used the set no later than the latest of the two.
    used_at = max(sem_set.otime, sem_set.ctime)
    pids = sorted({pid for pid in sem_set.pids if pid})
    if not pids:
        if sem_set.otime:
            if idle < _report_after(filters):
                return None
            return LeakCandidate(**base, reason=_UNSEEN, removable=False)
        return _never_used(base, "operated on", filters, now)
    verdicts = [("last user", _judge_pid(snapshot, pid, used_at, namespace)) for pid in pids]
    if any(v.state == "alive" for _, v in verdicts):
        if idle < _report_after(filters):
            return None
        return LeakCandidate(**base, reason=_kept_by_live(verdicts, age(last, now)), removable=False)
    gone = ", ".join(v.text for _, v in verdicts)
    role = "last user" if len(pids) == 1 else "last users"
    reason = f"nobody waits on it; {role} {gone}; untouched for {age(last, now)}"
    return LeakCandidate(**base, reason=reason, removable=True)


def _selected(key: int, uid: int, cuid: int, filters: LeakFilters) -> bool:
    if filters.keys is not None and key not in filters.keys:
        return False
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
    queue_waiters: QueueWaiters | None = None,
) -> list[LeakCandidate]:
    """The leaked objects of `snapshot` (removable) and the ones only worth reporting, in every IPC
    namespace it holds (each judged by its own processes).

    `now` defaults to the snapshot's time.  `queue_waiters` (from
    scan_queue_waiters) drops queues a process is blocked on; without it the
    removal still checks for them just before removing.
    """
    filters = filters or LeakFilters()
    now = snapshot.time if now is None else now
    leaks: list[LeakCandidate] = []
    for shm, msg, sem, link, inode, name in _namespaces(snapshot, filters):
        found: list[LeakCandidate | None] = []
        if "shm" in filters.types:
            found += [_shm(s, snapshot, now, filters, link) for s in shm.values()
                      if _selected(s.display_key, s.uid, s.cuid, filters)]
        if "msg" in filters.types:
            found += [_msg(q, snapshot, now, filters, queue_waiters, link) for q in msg.values()
                      if _selected(q.key, q.uid, q.cuid, filters)]
        if "sem" in filters.types:
            found += [_sem(s, snapshot, now, filters, link) for s in sem.values()
                      if _selected(s.key, s.uid, s.cuid, filters)]
        leaks += [replace(c, ipc_ns=inode, container=name) if inode else c for c in found if c is not None]
    order = {"shm": 0, "msg": 1, "sem": 2}
    if filters.older_than is not None:
        leaks = [c for c in leaks if now - c.last_touched > filters.older_than]
    namespaces = {ns.inode: i for i, ns in enumerate(snapshot.namespaces)}
    return sorted(leaks, key=lambda c: (namespaces.get(c.ipc_ns, 0) if c.ipc_ns else 0, order[c.kind], c.id))
