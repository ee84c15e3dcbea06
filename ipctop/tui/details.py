"""The detail of one object: every field, the processes using it, for the detail screen.

`describe(kind, ident, snapshot, last_known, ipc_ns)` looks the object up in the latest
snapshot (a System V object of another IPC namespace in that namespace's tables); an
object that is gone is described from the last copy seen and says so.
Plain strings only (no textual), so it is tested without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipctop.diff import Event
from ipctop.kinds import BY_NAME, KINDS, kind_of_record
from ipctop.model import Fifo, MsgQueue, Pipe, Process, SemSet, ShmSegment, Snapshot, Wait
from ipctop.pipelines import chains, pipe_state
from ipctop.render.formatting import INCOMPLETE_WHY, clock, count, found_of, hex_key, human_bytes, rwx
from ipctop.render.procinfo import label, wait_word
from ipctop.render.waits import blocked_users, wait_words

KIND_TABLES = {"shm": "shm", "msg": "msg", "sem": "sem", "pipe": "pipes", "fifo": "fifos", "process": "processes",
               **{kind.name: kind.field for kind in KINDS}}
KIND_NAMES = {
    **{kind.name: kind.title for kind in KINDS},
    "shm": "Shared memory segment",
    "msg": "Message queue",
    "sem": "Semaphore set",
    "pipe": "Pipe",
    "fifo": "FIFO",
    "process": "Process",
}
MODE_WORDS = {"r": "reading", "w": "writing", "rw": "reading and writing"}


@dataclass
class Detail:
    title: str
    kind: str  # shm, msg, sem, pipe, fifo, process: the timeline's kind
    ident: int
    fields: list[tuple[str, str]]
    users: list[tuple[int, str]] = field(default_factory=list)  # (pid, how it uses the object)
    notes: list[str] = field(default_factory=list)


def users_by_process(users: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """One row per process, its uses joined in the order first given: a reader blocked on a pipe
    also holds its read end, a segment's creator is often an attacher too, and two rows with one
    pid read as two processes."""
    hows: dict[int, list[str]] = {}
    for pid, how in users:
        seen = hows.setdefault(pid, [])
        if how not in seen:
            seen.append(how)
    return [(pid, "; ".join(each)) for pid, each in hows.items()]


def kind_of(obj: object) -> tuple[str, int] | None:
    """The (kind, id) the timeline and snapshot know `obj` by."""
    object_kind = kind_of_record(obj)
    if object_kind is not None:
        return object_kind.name, obj.inode  # type: ignore[attr-defined]
    if isinstance(obj, ShmSegment):
        return "shm", obj.shmid
    if isinstance(obj, MsgQueue):
        return "msg", obj.msqid
    if isinstance(obj, SemSet):
        return "sem", obj.semid
    if isinstance(obj, Fifo):
        return "fifo", obj.inode
    if isinstance(obj, Pipe):
        return "pipe", obj.inode
    if isinstance(obj, Process):
        return "process", obj.pid
    if isinstance(obj, Event):
        return obj.object_kind, obj.object_id
    return None


def namespace_of(obj: object) -> int:
    """The IPC namespace (inode) a System V object, a leak candidate or an event about one is in; 0 for
    anything else (pipes, FIFOs and processes are in none: their ids are the machine's)."""
    return getattr(obj, "ipc_ns", 0) if isinstance(obj, ShmSegment | MsgQueue | SemSet | Event) or hasattr(
        obj, "container") else 0


def lookup(snapshot: Snapshot, kind: str, ident: int, ipc_ns: int = 0) -> object | None:
    """The object as the snapshot has it now; `ipc_ns`: the inode of its namespace when not ipctop's own."""
    if ipc_ns and kind in ("shm", "msg", "sem"):
        namespace = snapshot.namespace(ipc_ns)
        return getattr(namespace, kind).get(ident) if namespace is not None else None
    return getattr(snapshot, KIND_TABLES[kind]).get(ident)


def describe(kind: str, ident: int, snapshot: Snapshot, last_known: object | None, ipc_ns: int = 0) -> Detail:
    obj = lookup(snapshot, kind, ident, ipc_ns)
    gone = obj is None
    obj = obj if obj is not None else last_known
    where = _where(snapshot, ipc_ns, obj) if kind in ("shm", "msg", "sem") else None
    if obj is None or isinstance(obj, Event):
        title = f"{KIND_NAMES[kind]} {ident}" + (f" in {where[1]}" if where and ipc_ns else "")
        return Detail(title, kind, ident, [], notes=["It is gone; only its lifetime is left."])
    if kind in BY_NAME:
        text = BY_NAME[kind].describe(obj, snapshot)
        detail = Detail(text.title, kind, ident, list(text.fields), list(text.users), list(text.notes))
    else:
        detail = _DESCRIBERS[kind](obj, snapshot)
    if where is not None:
        detail.fields.insert(1, ("IPC namespace", f"{where[1]} ({where[0]})"))
        if ipc_ns:
            detail.title += f" in {where[1]}"
    if gone:
        detail.notes.insert(0, "Gone: this is the last state seen before it vanished.")
    return detail


def _where(snapshot: Snapshot, ipc_ns: int, obj: object | None) -> tuple[int, str] | None:
    """(inode, name) of the object's namespace, when the snapshot holds more than ipctop's own."""
    if not any(not ns.own for ns in snapshot.namespaces) and not ipc_ns:
        return None
    namespace = snapshot.namespace(ipc_ns)
    if namespace is not None:
        return namespace.inode, namespace.name
    return ipc_ns, getattr(obj, "container", "") or "?"


def _pid(snapshot: Snapshot, pid: int) -> str:
    if not pid:
        return "-"
    named = label(pid, snapshot.known_processes) if pid in snapshot.known_processes else str(pid)
    if snapshot.is_alive(pid):
        return named
    return f"{named} (zombie)" if snapshot.is_zombie(pid) else f"{named} (gone)"


def _owner(uid: int, gid: int, cuid: int, cgid: int, owner: str) -> list[tuple[str, str]]:
    return [("owner", f"{owner} (uid {uid}, gid {gid})"), ("creator ids", f"uid {cuid}, gid {cgid}")]


def _perms(perms: int) -> str:
    return f"{rwx(perms)} ({perms:04o})"


def _key(key: int) -> str:
    return "IPC_PRIVATE (0x00000000)" if key == 0 else f"{hex_key(key)} ({key})"


def _shm(segment: ShmSegment, snapshot: Snapshot) -> Detail:
    fields = [
        ("shmid", str(segment.shmid)),
        ("key", _key(segment.key)),
    ]
    if segment.original_key is not None:
        fields.append(("original key", f"{hex_key(segment.original_key)} (from the maps name; IPC_RMID zeroed it)"))
    fields += [
        *_owner(segment.uid, segment.gid, segment.cuid, segment.cgid, segment.owner),
        ("perms", _perms(segment.perms)),
        ("size", f"{human_bytes(segment.size)} ({segment.size} bytes)"),
        ("nattch", str(segment.nattch)),
        ("status", ", ".join(segment.status) or "-"),
        ("creator (cpid)", _pid(snapshot, segment.cpid)),
        ("last shmat/shmdt (lpid)", _pid(snapshot, segment.lpid)),
        ("last attach", clock(segment.atime)),
        ("last detach", clock(segment.dtime)),
        ("changed (ctime)", f"{clock(segment.ctime)}: created, or the last IPC_SET (a chmod or chown)"),
        ("resident", human_bytes(segment.rss)),
        ("swapped", human_bytes(segment.swap)),
    ]
    users = [(a.pid, f"attached {a.mode} at {a.start:#x}-{a.end:#x}") for a in segment.attachers]
    users.append((segment.cpid, "created it"))
    notes = []
    if not segment.attachers_complete:
        notes.append(f"Attachers: {found_of(segment)}. " + INCOMPLETE_WHY)
    if segment.marked_for_removal:
        notes.append("Marked for removal: it is destroyed when the last process detaches.")
    return Detail(f"Shared memory segment {segment.shmid}", "shm", segment.shmid, fields, users, notes)


def _msg(queue: MsgQueue, snapshot: Snapshot) -> Detail:
    fill = f"{queue.fill:.0%}" if queue.fill is not None else "-"
    fields = [
        ("msqid", str(queue.msqid)),
        ("key", _key(queue.key)),
        *_owner(queue.uid, queue.gid, queue.cuid, queue.cgid, queue.owner),
        ("perms", _perms(queue.perms)),
        ("messages", str(queue.qnum)),
        ("bytes queued", f"{human_bytes(queue.cbytes)} ({queue.cbytes} bytes)"),
        ("capacity (qbytes)", "-" if queue.qbytes is None else f"{human_bytes(queue.qbytes)} ({queue.qbytes} bytes)"),
        ("fill", fill),
        ("last sender (lspid)", _pid(snapshot, queue.lspid)),
        ("last receiver (lrpid)", _pid(snapshot, queue.lrpid)),
        ("last send", clock(queue.stime)),
        ("last receive", clock(queue.rtime)),
        ("changed (ctime)", f"{clock(queue.ctime)}: created, or the last IPC_SET"),
    ]
    users = _blocked(queue.waiters)
    users += [(pid, role) for pid, role in ((queue.lspid, "sent last"), (queue.lrpid, "received last")) if pid]
    return Detail(f"Message queue {queue.msqid}", "msg", queue.msqid, fields, users)


def _blocked(waiters: tuple[Wait, ...]) -> list[tuple[int, str]]:
    """Each waiter as a user of its object: (pid, `blocked in msgrcv, type 99`)."""
    return blocked_users(waiters)


def _sem(sem_set: SemSet, snapshot: Snapshot) -> Detail:
    fields = [
        ("semid", str(sem_set.semid)),
        ("key", _key(sem_set.key)),
        *_owner(sem_set.uid, sem_set.gid, sem_set.cuid, sem_set.cgid, sem_set.owner),
        ("perms", _perms(sem_set.perms)),
        ("semaphores", str(sem_set.nsems)),
        ("last semop", clock(sem_set.otime)),
        ("changed (ctime)", f"{clock(sem_set.ctime)}: created, or the last IPC_SET, SETVAL or SETALL"),
    ]
    for i, value in enumerate(sem_set.values):
        ncnt, zcnt, pid = sem_set.ncnt[i], sem_set.zcnt[i], sem_set.pids[i]
        waits = f"waiting for increase {ncnt}, for zero {zcnt}"
        fields.append((f"#{i}", f"value {value}, {waits}, last op by {_pid(snapshot, pid)}"))
    users = _blocked(sem_set.waiters)
    users += [(pid, f"last operated on #{i}") for i, pid in enumerate(sem_set.pids) if pid]
    notes = [] if sem_set.values else ["Its values cannot be read: semctl is not allowed for this user."]
    if sem_set.blocked:
        found = len({w.tid for w in sem_set.waiters})
        blocked = f"{count(sem_set.blocked, 'thread')} {'is' if sem_set.blocked == 1 else 'are'} blocked in semop"
        if found < sem_set.blocked:
            blocked += f"; {found} of them found (another's system call could not be read, or it is in another" \
                " pid namespace)"
        notes.append(blocked + " on this set.")
    return Detail(f"Semaphore set {sem_set.semid}", "sem", sem_set.semid, fields, users, notes)


def _pipe(pipe: Pipe | Fifo, snapshot: Snapshot) -> Detail:
    kind = "fifo" if isinstance(pipe, Fifo) else "pipe"
    state = pipe_state(pipe, snapshot.known_processes)
    fields = [("inode", str(pipe.inode))]
    if isinstance(pipe, Fifo):
        fields.append(("path", pipe.path))
    fields += [
        ("bytes waiting", "-" if pipe.fill is None else f"{human_bytes(pipe.fill)} ({pipe.fill} bytes)"),
        ("capacity", "-" if pipe.capacity is None else f"{human_bytes(pipe.capacity)} ({pipe.capacity} bytes)"),
        ("writers", _end_count(pipe, "w")),
        ("readers", _end_count(pipe, "r")),
        ("state", state.explanation),
    ]
    chain = next((c for c in chains(snapshot) if pipe.inode in c.inodes), None) if kind == "pipe" else None
    if chain:
        fields.append(("pipeline", " | ".join(_pid(snapshot, pid) for pid in chain.pids)))
    users = _blocked(pipe.waiters) + [(e.pid, f"fd {e.fd} open for {MODE_WORDS[e.mode]}") for e in pipe.ends]
    title = f"FIFO {pipe.path}" if isinstance(pipe, Fifo) else f"Pipe {pipe.inode}"
    return Detail(title, kind, pipe.inode, fields, users)


def _end_count(pipe: Pipe | Fifo, side: str) -> str:
    """How many processes hold `side` ("w" or "r") of the pipe, and whether others the scan did not see do."""
    count = len({e.pid for e in (pipe.writers if side == "w" else pipe.readers)})
    if pipe.unseen == side:
        return (f"{count} seen; the kernel says one is open all the same, in a process ipctop could not inspect "
                "(another user's, or outside its PID namespace)")
    if pipe.unseen == "?" and not count:
        return "0 seen; whether a process ipctop could not inspect holds one could not be asked"
    return str(count)


def _process(process: Process, snapshot: Snapshot) -> Detail:
    fields = [
        ("pid", str(process.pid)),
        ("parent", _pid(snapshot, process.ppid)),
        ("name", process.comm),
        ("command", process.cmdline or "-"),
        ("user", f"{process.user} (uid {process.uid})"),
        ("state", process.state),
        ("blocked on", "; ".join(wait_words(process.waits, snapshot.fifos)) or "-"),
        ("sleeping in (wchan)", f"{process.wchan} ({wait_word(process.wchan)})" if process.wchan else "-"),
        ("started", clock(int(process.start_time))),
        ("ipc namespace", process.ipc_ns or "-"),
        ("shared memory", ", ".join(map(str, process.shm)) or "-"),
        ("message queues", ", ".join(map(str, process.msg)) or "-"),
        ("semaphore sets", ", ".join(map(str, process.sem)) or "-"),
    ]
    for end in process.pipes:
        name = f"pipe {end.inode}" if end.kind == "pipe" else f"fifo {_fifo_path(snapshot, end.inode)}"
        fields.append((f"fd {end.fd}", f"{name} ({end.mode})"))
    return Detail(f"Process {label(process.pid, snapshot.known_processes)}", "process", process.pid, fields,
                  _peers(snapshot, process))


def _peers(snapshot: Snapshot, process: Process) -> list[tuple[int, str]]:
    """The other processes on each pipe and FIFO `process` holds (once each, however many of its fds
    are on it), and which ends they hold: the other end, or the same one (a pipe every worker
    inherited the write end of)."""
    users: list[tuple[int, str]] = []
    seen: set[tuple[str, int]] = set()
    for end in process.pipes:
        if (end.kind, end.inode) in seen:
            continue
        seen.add((end.kind, end.inode))
        pipe = (snapshot.pipes if end.kind == "pipe" else snapshot.fifos).get(end.inode)
        ends: dict[int, list[str]] = {}
        for other in pipe.ends if pipe else ():
            if other.pid != process.pid:
                ends.setdefault(other.pid, []).append(f"for {MODE_WORDS[other.mode]} (fd {other.fd})")
        users += [(pid, f"holds {end.kind} {end.inode} " + ", ".join(held)) for pid, held in sorted(ends.items())]
    return users


def _fifo_path(snapshot: Snapshot, inode: int) -> str:
    fifo = snapshot.fifos.get(inode)
    return fifo.path if fifo else str(inode)


_DESCRIBERS = {"shm": _shm, "msg": _msg, "sem": _sem, "pipe": _pipe, "fifo": _pipe, "process": _process}
