"""The snapshot model: typed, immutable records of every IPC object ipctop sees.

Everything above the collectors (diff, CLI, TUI, cleanup) reads these types and
nothing else.  Field names are the JSON field names of `ipctop list --json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

AccessMode = Literal["r", "w", "rw"]

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
MODE_BITS = 0o777


def _frozen_map(items: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True, slots=True)
class Attacher:
    """One attachment of a System V segment in a process (one line of maps)."""

    pid: int
    comm: str
    start: int
    end: int
    mode: AccessMode  # "r" or "rw"
    vmas: int = 1  # how many of the segment's nattch it accounts for (an mprotect splits one attach)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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

    @property
    def fill(self) -> float | None:
        if not self.qbytes:
            return None
        return self.cbytes / self.qbytes


@dataclass(frozen=True, slots=True)
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

    @property
    def waiters(self) -> int:
        return sum(self.ncnt) + sum(self.zcnt)


@dataclass(frozen=True, slots=True)
class PipeEnd:
    """One open file descriptor on a pipe or FIFO."""

    pid: int
    comm: str
    fd: int
    mode: AccessMode


@dataclass(frozen=True, slots=True)
class Pipe:
    """An anonymous pipe (pipe:[inode]) with every end that is open on it."""

    inode: int
    fill: int | None  # bytes waiting (FIONREAD); None when not readable
    capacity: int | None  # F_GETPIPE_SZ
    ends: tuple[PipeEnd, ...]

    @property
    def readers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "r" in e.mode)

    @property
    def writers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "w" in e.mode)


@dataclass(frozen=True, slots=True)
class Fifo:
    """A named pipe, known by its path, with every end that is open on it."""

    path: str
    inode: int
    fill: int | None
    capacity: int | None
    ends: tuple[PipeEnd, ...]

    @property
    def readers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "r" in e.mode)

    @property
    def writers(self) -> tuple[PipeEnd, ...]:
        return tuple(e for e in self.ends if "w" in e.mode)


@dataclass(frozen=True, slots=True)
class HeldPipeEnd:
    """A pipe or FIFO end seen from the process that holds it."""

    kind: Literal["pipe", "fifo"]
    inode: int
    fd: int
    mode: AccessMode
    peers: tuple[int, ...]  # pids holding other ends of the same pipe


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    waiters: int | None  # glibc's count of processes in sem_wait on it
    layout: str  # "glibc", or "unknown" (another C library, or unreadable)
    unlinked: bool = False
    holders: tuple[Holder, ...] = ()
    made: float = 0.0  # as PosixShm.made


@dataclass(frozen=True, slots=True)
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

    @property
    def fill(self) -> float | None:
        if self.messages is None or not self.max_messages:
            return None
        return self.messages / self.max_messages


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class HeldObject:
    """A POSIX or unnamed shared object seen from a process that holds it."""

    kind: Literal["pshm", "psem", "pmsg", "memfd"]
    inode: int
    fd: int | None  # None for a mapping
    mode: AccessMode
    start: int = 0


@dataclass(frozen=True, slots=True)
class Process:
    """A process that holds or last used an IPC object."""

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Uninspectable:
    """A process whose fds or maps could not be read, and why."""

    pid: int
    reason: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything ipctop saw in one scan, keyed by id (or inode / pid)."""

    time: float
    ipc_ns: str
    shm: Mapping[int, ShmSegment] = field(default_factory=_frozen_map)
    msg: Mapping[int, MsgQueue] = field(default_factory=_frozen_map)
    sem: Mapping[int, SemSet] = field(default_factory=_frozen_map)
    pipes: Mapping[int, Pipe] = field(default_factory=_frozen_map)
    fifos: Mapping[int, Fifo] = field(default_factory=_frozen_map)
    processes: Mapping[int, Process] = field(default_factory=_frozen_map)
    limits: Limits | None = None
    uninspectable: tuple[Uninspectable, ...] = ()
    live_pids: frozenset[int] = frozenset()  # every pid in /proc at scan time
    # POSIX and unnamed shared memory, by inode (ipctop/kinds/ describes each kind)
    pshm: Mapping[int, PosixShm] = field(default_factory=_frozen_map)
    psem: Mapping[int, PosixSem] = field(default_factory=_frozen_map)
    pmsg: Mapping[int, PosixQueue] = field(default_factory=_frozen_map)
    memfd: Mapping[int, UnnamedShm] = field(default_factory=_frozen_map)
    posix_notes: tuple[str, ...] = ()  # what the POSIX part of the scan could not see, in sentences

    def is_alive(self, pid: int) -> bool:
        return pid in self.live_pids or pid in self.processes

    @property
    def uninspectable_pids(self) -> tuple[int, ...]:
        return tuple(u.pid for u in self.uninspectable)

    def __post_init__(self) -> None:
        for name in ("shm", "msg", "sem", "pipes", "fifos", "processes", "pshm", "psem", "pmsg", "memfd"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, _frozen_map(value))
