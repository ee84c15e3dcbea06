"""The snapshot model: typed, immutable records of every IPC object ipctop sees.

Everything above the collectors (diff, CLI, TUI, cleanup) reads these types and
nothing else.  Field names are the JSON field names of `ipctop list --json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from ipctop.frozen import Uncompared, frozen

AccessMode = Literal["r", "w", "rw"]

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
MODE_BITS = 0o777


def _frozen_map(items: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(items or {}))


_EMPTY_MAP: Mapping = MappingProxyType({})  # every empty default: it cannot be changed, so one will do


@frozen
class Attacher:
    """One attachment of a System V segment in a process (one line of maps)."""

    pid: int
    comm: str
    start: int
    end: int
    mode: AccessMode  # "r" or "rw"
    vmas: int = 1  # how many of the segment's nattch it accounts for (an mprotect splits one attach)


@frozen
class Wait:
    """A thread asleep in a system call on an IPC object, read from /proc/PID/task/TID/syscall.

    A poll on three pipes is three waits.  `exact` is False for a wait guessed from the
    kernel's wait point (wchan), where the system call could not be read; `id` is None
    where the object is not known (a guess, or another IPC namespace's queue)."""

    pid: int
    tid: int  # the thread; the pid for a single-threaded process
    comm: str
    call: str  # the system call: "msgrcv", "semop", "read", "poll", "open", ...
    kind: str  # the object's: "msg", "sem", "pipe", "fifo", or "psem", "pmsg", "pshm", "memfd" (ipctop/kinds/)
    id: int | None  # msqid, semid, or the pipe's, FIFO's or POSIX object's inode
    detail: str  # "type 99", "sem 0 op -1", "fd 4", "fd 4 in", "for writing"
    mode: str  # "r": waits to take (bytes, a message); "w": to put (room); "": neither
    exact: bool = True


@frozen
class ShmSegment:
    """A System V shared memory segment, a row of /proc/sysvipc/shm plus attachers."""

    shmid: int
    key: int
    perms: int  # the nine mode bits
    size: int
    nattch: int
    cpid: int
    lpid: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    owner: str
    atime: int
    dtime: int
    ctime: int
    rss: int
    swap: int
    status: tuple[str, ...] = ()
    attachers: tuple[Attacher, ...] = ()
    original_key: int | None = None  # key from the maps name when the table says 0
    # False when the mappings found could not be made to add up to nattch (see snapshot.py):
    # `attachers` is then what was found, not all
    attachers_complete: bool = True
    ipc_ns: int = 0  # the inode of its IPC namespace: a shmid is unique only inside one
    container: str = ""  # that namespace's name ("host" for ipctop's own; docs/namespaces.md)

    @property
    def marked_for_removal(self) -> bool:
        return "dest" in self.status

    @property
    def attachments_found(self) -> int:
        """How much of nattch the attachers account for (all of it when attachers_complete)."""
        return sum(a.vmas for a in self.attachers)

    @property
    def display_key(self) -> int:
        """The key a user knows the segment by, even after IPC_RMID zeroed it."""
        return self.original_key if self.original_key is not None else self.key


@frozen
class MsgQueue:
    """A System V message queue, a row of /proc/sysvipc/msg plus its capacity."""

    msqid: int
    key: int
    perms: int
    cbytes: int
    qnum: int
    qbytes: int | None  # None when msgctl(IPC_STAT) is not allowed
    lspid: int
    lrpid: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    owner: str
    stime: int
    rtime: int
    ctime: int
    ipc_ns: int = 0  # the inode of its IPC namespace
    container: str = ""  # that namespace's name
    waiters: tuple[Wait, ...] = ()  # blocked in msgrcv (mode "r") or msgsnd ("w")

    @property
    def fill(self) -> float | None:
        if not self.qbytes:
            return None
        return self.cbytes / self.qbytes


@frozen
class SemSet:
    """A System V semaphore set with the state of every semaphore in it.

    `values`, `ncnt`, `zcnt` and `pids` have one entry per semaphore, or are
    empty when semctl is not allowed for the reader.
    """

    semid: int
    key: int
    perms: int
    nsems: int
    values: tuple[int, ...]
    ncnt: tuple[int, ...]
    zcnt: tuple[int, ...]
    pids: tuple[int, ...]
    uid: int
    gid: int
    cuid: int
    cgid: int
    owner: str
    otime: int
    ctime: int
    ipc_ns: int = 0  # the inode of its IPC namespace
    container: str = ""  # that namespace's name
    waiters: tuple[Wait, ...] = ()  # the threads blocked in semop that could be read

    @property
    def blocked(self) -> int:
        """How many threads the kernel counts as blocked on the set (ncnt and zcnt), found or not."""
        return sum(self.ncnt) + sum(self.zcnt)


@frozen
class PipeEnd:
    """One open file descriptor on a pipe or FIFO."""

    pid: int
    comm: str
    fd: int
    mode: AccessMode


@frozen
class Pipe:
    """An anonymous pipe (pipe:[inode]) with every end that is open on it."""

    inode: int
    fill: int | None  # bytes waiting (FIONREAD); None when not readable
    capacity: int | None  # F_GETPIPE_SZ
    ends: tuple[PipeEnd, ...]
    waiters: tuple[Wait, ...] = ()  # blocked reading ("r") or writing ("w"), directly or in poll
    # where every end seen is a writer (or a reader): "r" (or "w") when the kernel says it has a reader (a
    # writer) all the same, held by a process ipctop could not inspect; "?" when that could not be asked and
    # a process was not inspected; "" when it has none (or both kinds of end were seen)
    unseen: str = ""

    @property
    def readers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "r" in e.mode)

    @property
    def writers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "w" in e.mode)


@frozen
class Fifo:
    """A named pipe, known by its path, with every end that is open on it."""

    path: str
    inode: int
    fill: int | None
    capacity: int | None
    ends: tuple[PipeEnd, ...]
    waiters: tuple[Wait, ...] = ()  # as a pipe's, and those blocked in open() (who hold no end yet)
    unseen: str = ""  # as a pipe's

    @property
    def readers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "r" in e.mode)

    @property
    def writers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "w" in e.mode)


@frozen
class HeldPipeEnd:
    """A pipe or FIFO end seen from the process that holds it."""

    kind: Literal["pipe", "fifo"]
    inode: int
    fd: int
    mode: AccessMode
    # Who holds the other ends is the pipe's (snapshot.pipes / fifos, by inode): a pipe held by a
    # thousand processes is listed once, not a thousand times in each of them.


@frozen
class Holder:
    """A process holding a POSIX or unnamed shared object: an open fd on it, or a mapping of it."""

    pid: int
    comm: str
    mode: AccessMode
    fd: int | None = None  # the fd; None for a mapping
    start: int = 0  # a mapping's address range in the process
    end: int = 0

    @property
    def mapped(self) -> bool:
        return self.fd is None

    @property
    def how(self) -> str:
        if self.fd is not None:
            return f"fd {self.fd} ({self.mode})"
        return f"maps {self.mode} at {self.start:#x}-{self.end:#x}"


@frozen
class PosixShm:
    """POSIX shared memory (shm_open): a file in /dev/shm, or one unlinked but still held."""

    name: str  # as shm_open takes it: "/NAME"
    inode: int
    size: int
    allocated: int | None  # bytes of memory or swap it takes (st_blocks); None when unknown
    perms: int
    uid: int
    gid: int
    owner: str
    atime: float
    mtime: float
    ctime: float
    unlinked: bool = False  # shm_unlink'ed (or never linked), kept alive by its holders
    holders: tuple[Holder, ...] = ()
    made: float = 0.0  # when it was made (tmpfs keeps a birth time), or the earliest of its times; 0: unknown


@frozen
class PosixSem:
    """A POSIX named semaphore (sem_open): /dev/shm/sem.NAME, mapped by every process that opened it."""

    name: str  # as sem_open takes it: "/NAME"
    inode: int
    perms: int
    uid: int
    gid: int
    owner: str
    mtime: float
    ctime: float
    value: int | None  # None when its layout is not known or it cannot be read
    blocked: int | None  # glibc's count of processes in sem_wait on it (None: not known)
    layout: str  # "glibc", or "unknown" (another C library, or unreadable)
    unlinked: bool = False
    holders: tuple[Holder, ...] = ()
    made: float = 0.0  # as PosixShm.made
    waiters: tuple[Wait, ...] = ()  # threads asleep in sem_wait on it (a futex in its mapping)


@frozen
class PosixQueue:
    """A POSIX message queue (mq_open): a file of the mqueue filesystem, or one held open by a process."""

    name: str  # "/NAME"
    inode: int
    perms: int | None
    uid: int | None
    gid: int | None
    owner: str
    mtime: float  # the last mq_send or mq_receive
    messages: int | None  # mq_curmsgs; None when it may not be opened
    max_messages: int | None  # mq_maxmsg: a sender blocks when the queue holds this many
    message_size: int | None  # mq_msgsize
    queued_bytes: int | None = None  # QSIZE from the queue's file; None unless read (see collectors/posix.py)
    notify_pid: int | None = None  # the process registered with mq_notify (0: none); None unless read
    unlinked: bool = False
    listed: bool = True  # False: known only from a holder's fd (/dev/mqueue not mounted)
    holders: tuple[Holder, ...] = ()
    made: float = 0.0  # the earliest of its times: it was made no later (0: unknown); it moves with every send
    waiters: tuple[Wait, ...] = ()  # threads asleep in mq_timedreceive (mode "r") or mq_timedsend ("w") on it

    @property
    def fill(self) -> float | None:
        if self.messages is None or not self.max_messages:
            return None
        return self.messages / self.max_messages


@frozen
class UnnamedShm:
    """Shared memory without a name: a memfd, or a shared anonymous mapping inherited across fork."""

    inode: int
    source: Literal["memfd", "anonymous"]
    name: str  # the memfd's name, or the name set with PR_SET_VMA_ANON_NAME; "" for none
    size: int  # the object's size (for a mapping only seen in maps: the largest extent mapped)
    allocated: int | None  # bytes of memory or swap it takes (st_blocks); None when unknown
    uid: int | None
    owner: str
    holders: tuple[Holder, ...] = ()

    @property
    def label(self) -> str:
        if self.source == "memfd":
            return f"memfd:{self.name}"
        return f"[anon_shmem:{self.name}]" if self.name else "/dev/zero (deleted)"


@frozen
class HeldObject:
    """A POSIX or unnamed shared object seen from a process that holds it."""

    kind: Literal["pshm", "psem", "pmsg", "memfd"]
    inode: int
    fd: int | None  # None for a mapping
    mode: AccessMode
    start: int = 0


EXITED_STATES = ("Z", "X")  # /proc/PID/stat states of a process that has exited but is not yet reaped
STOPPED_STATES = ("T", "t")  # ... of one stopped by a signal (SIGSTOP, Ctrl-Z) or by its tracer (a debugger)


@frozen
class Process:
    """A process that holds or last used an IPC object, or one that did at the previous scan and has
    died since, a zombie until it is reaped (`state` in EXITED_STATES)."""

    pid: int
    ppid: int
    comm: str
    cmdline: str
    uid: int
    user: str
    state: str  # one letter, as in /proc/PID/stat
    wchan: str  # kernel function it sleeps in, "" when running
    start_time: float  # epoch seconds
    ipc_ns: str
    shm: tuple[int, ...] = ()  # shmids it maps
    pipes: tuple[HeldPipeEnd, ...] = ()
    msg: tuple[int, ...] = ()  # msqids it last sent to or received from
    sem: tuple[int, ...] = ()  # semids it last operated on
    posix: tuple[HeldObject, ...] = ()  # POSIX and unnamed shared objects it holds (fds and mappings)
    waits: tuple[Wait, ...] = ()  # what its threads are blocked on


@frozen
class Limits:
    """System-wide IPC limits from /proc/sys/kernel and /proc/sys/fs."""

    shmmax: int
    shmall: int
    shmmni: int
    msgmax: int
    msgmnb: int
    msgmni: int
    semmsl: int
    semmns: int
    semopm: int
    semmni: int
    pipe_max_size: int
    # POSIX: /proc/sys/fs/mqueue/* and the size of /dev/shm (None where they cannot be read)
    mq_queues_max: int | None = None
    mq_msg_max: int | None = None
    mq_msgsize_max: int | None = None
    mq_msg_default: int | None = None
    mq_msgsize_default: int | None = None
    dev_shm_size: int | None = None
    dev_shm_used: int | None = None


@frozen
class IpcNamespace:
    """One IPC namespace with a live process, and the System V objects in it.

    ipctop's own comes first in `Snapshot.namespaces`, and its tables are the snapshot's
    own `shm`, `msg` and `sem`; the others' are read from inside them (docs/namespaces.md)."""

    inode: int
    name: str  # "host" for ipctop's own; a container ("docker:3f2a1b4c5d6e", "pod:1f2e3d4c"), a cgroup, `comm[pid]`
    kind: str  # "host", "docker", "podman", "kubernetes", "containerd", "cri-o", "nspawn", "lxc", "nsjail",
    #            "cgroup" or "process"
    container_id: str  # the container's id, the pod's uid, or the machine's name ("" for none)
    cgroup: str  # the cgroup of the member it was named after
    leader: int  # its lowest pid
    members: tuple[int, ...]  # every process in it (host pids)
    own: bool  # ipctop's own
    shm: Mapping[int, ShmSegment] = _EMPTY_MAP
    msg: Mapping[int, MsgQueue] = _EMPTY_MAP
    sem: Mapping[int, SemSet] = _EMPTY_MAP
    limits: Limits | None = None  # its own kernel.shm*, msg*, sem
    error: str = ""  # why it could not be read ("" when it was): its objects are then unknown, not none

    @property
    def label(self) -> str:
        """The name with the inode, as confirmations say it."""
        return f"{self.name} (IPC namespace {self.inode})"

    def __post_init__(self) -> None:
        for name in ("shm", "msg", "sem"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, _frozen_map(value))


@frozen
class Uninspectable:
    """A process whose fds or maps could not be read, and why."""

    pid: int
    reason: str


def hides_processes(hidden_note: str) -> bool:
    """Whether a Snapshot.hidden_note says /proc hides other users' processes (hidepid): ProcFS.hidden_note
    names the mount option in its sentence."""
    return "hidepid=" in hidden_note


@frozen
class Snapshot:
    """Everything ipctop saw in one scan, keyed by id (or inode / pid)."""

    time: float
    ipc_ns: str
    shm: Mapping[int, ShmSegment] = _EMPTY_MAP
    msg: Mapping[int, MsgQueue] = _EMPTY_MAP
    sem: Mapping[int, SemSet] = _EMPTY_MAP
    pipes: Mapping[int, Pipe] = _EMPTY_MAP
    fifos: Mapping[int, Fifo] = _EMPTY_MAP
    processes: Mapping[int, Process] = _EMPTY_MAP
    limits: Limits | None = None
    uninspectable: tuple[Uninspectable, ...] = ()
    live_pids: frozenset[int] = frozenset()  # every pid in /proc at scan time
    # POSIX and unnamed shared memory, by inode (ipctop/kinds/ describes each kind)
    pshm: Mapping[int, PosixShm] = _EMPTY_MAP
    psem: Mapping[int, PosixSem] = _EMPTY_MAP
    pmsg: Mapping[int, PosixQueue] = _EMPTY_MAP
    memfd: Mapping[int, UnnamedShm] = _EMPTY_MAP
    posix_notes: tuple[str, ...] = ()  # what the POSIX part of the scan could not see, in sentences
    # Every IPC namespace with a live process, ipctop's own first (its tables are `shm`, `msg`
    # and `sem` above); empty when only ipctop's own was looked at.
    namespaces: tuple[IpcNamespace, ...] = ()
    namespace_note: str = ""  # why other namespaces are not shown, when they are not
    hidden_note: str = ""  # what /proc hides from this reader (hidepid, subset=pid), in a sentence or two
    unread_waits: tuple[int, ...] = ()  # pids whose system calls could not be read: their waits are unknown
    # Every process of the scan where a filter (query.filter_snapshot) left some out of `processes`
    # (None: `processes` is every one): the rows a filter keeps are whole, and each process on them is
    # named from here (`known_processes`), not only those asked for.  Left out of equality and repr.
    every_process: Mapping[int, Process] | None = Uncompared(None)
    # The monitor's only (Scanner(ancestry=True)): the parents, grandparents and so on, up to pid 1, of
    # the processes listed, where they are not listed themselves (they hold nothing).  They draw the
    # process tree whole: a Chromium renderer under its zygote under the browser.  Left out of
    # equality and repr.
    ancestors: Mapping[int, Process] = Uncompared(_EMPTY_MAP)

    def is_alive(self, pid: int) -> bool:
        """The pid names a process that has not exited (a zombie has: it waits only to be reaped)."""
        process = self.known_processes.get(pid)
        if process is not None:
            return process.state not in EXITED_STATES
        return pid in self.live_pids

    @property
    def processes_hidden(self) -> bool:
        """/proc hides other users' processes from this reader (hidepid, `hidden_note`): absent, not
        refused, so a pid missing from the scan may be alive."""
        return hides_processes(self.hidden_note)

    @property
    def tables_hidden(self) -> bool:
        """/proc has no System V tables (subset=pid, `hidden_note`): empty tables say nothing."""
        return "subset=pid" in self.hidden_note

    def is_zombie(self, pid: int) -> bool:
        """The pid names a process the scans saw die that is not yet reaped."""
        process = self.known_processes.get(pid)
        return process is not None and process.state in EXITED_STATES

    @property
    def known_processes(self) -> Mapping[int, Process]:
        """Every process the scan read, also those a filter leaves out of `processes`: what names the
        holders, waiters and creators on the rows shown."""
        return self.processes if self.every_process is None else self.every_process

    @property
    def other_namespaces(self) -> tuple[IpcNamespace, ...]:
        return tuple(ns for ns in self.namespaces if not ns.own)

    def all_shm(self) -> list[ShmSegment]:
        """Every segment of every namespace, ipctop's own first (a shmid is unique only within one)."""
        return [*self.shm.values(), *(s for ns in self.other_namespaces for s in ns.shm.values())]

    def all_msg(self) -> list[MsgQueue]:
        return [*self.msg.values(), *(q for ns in self.other_namespaces for q in ns.msg.values())]

    def all_sem(self) -> list[SemSet]:
        return [*self.sem.values(), *(s for ns in self.other_namespaces for s in ns.sem.values())]

    def elsewhere(self, ipc_ns: int) -> int:
        """`ipc_ns` when it is another namespace than ipctop's own, else 0: events, lifetimes and
        histories know an object by (kind, id, this)."""
        return 0 if ipc_ns in (0, self.own_inode) else ipc_ns

    @property
    def own_inode(self) -> int:
        """The inode of ipctop's own IPC namespace (0 when unknown)."""
        for ns in self.namespaces:
            if ns.own:
                return ns.inode
        start, end = self.ipc_ns.find("["), self.ipc_ns.rfind("]")
        number = self.ipc_ns[start + 1 : end] if 0 <= start < end else ""
        return int(number) if number.isdigit() else 0

    def namespace(self, inode: int) -> IpcNamespace | None:
        """The namespace with this inode (0: ipctop's own), None when it is not in the snapshot."""
        for ns in self.namespaces:
            if ns.inode == inode or (inode == 0 and ns.own):
                return ns
        return None

    @property
    def uninspectable_pids(self) -> tuple[int, ...]:
        return tuple(u.pid for u in self.uninspectable)

    def __post_init__(self) -> None:
        for name in ("shm", "msg", "sem", "pipes", "fifos", "processes", "pshm", "psem", "pmsg", "memfd"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, _frozen_map(value))
