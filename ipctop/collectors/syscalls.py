"""The system call a task sleeps in, from /proc/PID/task/TID/syscall, and what its arguments point at.

For a task that is not running the kernel prints `NR arg1 … arg6 sp pc` (hex
arguments), `running` for one that runs or is about to, and `-1 sp pc` for one
stopped outside a system call.  A line is printed only for a task that sleeps, so
reading it is how a scan learns both that a task is asleep and where.  Kernel
threads print system call 0 with a zero stack and program counter: they are no
one's waiters.  The file needs ptrace access (the same user, or root): a refusal
is `Denied`, and the caller falls back to wchan (waits.py).

System call numbers differ per architecture: x86_64 and aarch64 are known here;
elsewhere every task reads as "unknown" and the caller guesses from wchan.  A
32-bit task on a 64-bit kernel prints its own (compat) numbers: not told apart.

What the arguments point at (a semop's sembuf array, a msgsnd's message type, a
poll's pollfd array, a select's fd sets, a path) is read from the task's memory
through /proc/PID/mem (kernel/procmem.py), which changes nothing in the task;
what cannot be read is left out, never guessed.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS
from ipctop.kernel import procmem

# The calls that can wait on an IPC object, by number, per architecture (kernel headers:
# arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h).
_X86_64 = {
    0: "read", 1: "write", 2: "open", 7: "poll", 19: "readv", 20: "writev", 23: "select", 65: "semop",
    69: "msgsnd", 70: "msgrcv", 202: "futex", 220: "semtimedop", 232: "epoll_wait", 242: "mq_timedsend",
    243: "mq_timedreceive", 257: "openat", 270: "pselect6", 271: "ppoll", 275: "splice", 276: "tee",
    281: "epoll_pwait", 437: "openat2", 441: "epoll_pwait2", 449: "futex_waitv",
}
_AARCH64 = {
    22: "epoll_pwait", 56: "openat", 63: "read", 64: "write", 65: "readv", 66: "writev", 72: "pselect6",
    73: "ppoll", 76: "splice", 77: "tee", 98: "futex", 182: "mq_timedsend", 183: "mq_timedreceive",
    188: "msgrcv", 189: "msgsnd", 192: "semtimedop", 193: "semop", 437: "openat2", 441: "epoll_pwait2",
    449: "futex_waitv",
}
CALLS_BY_NUMBER: dict[str, dict[int, str]] = {"x86_64": _X86_64, "aarch64": _AARCH64}


def call_names(machine: str | None = None) -> dict[bytes, str] | None:
    """The calls of interest by their number as printed (b"70" -> "msgrcv"); None for an unknown machine."""
    table = CALLS_BY_NUMBER.get(machine or os.uname().machine)
    return None if table is None else {str(number).encode(): name for number, name in table.items()}


SEM_CALLS = frozenset({"semop", "semtimedop"})
MSG_CALLS = frozenset({"msgrcv", "msgsnd"})
FD_CALLS = frozenset({"read", "readv", "write", "writev"})
SPLICE_CALLS = frozenset({"splice", "tee"})
POLL_CALLS = frozenset({"poll", "ppoll"})
SELECT_CALLS = frozenset({"select", "pselect6"})
EPOLL_CALLS = frozenset({"epoll_wait", "epoll_pwait", "epoll_pwait2"})
OPEN_CALLS = frozenset({"open", "openat", "openat2"})
# POSIX named semaphores (a futex in a /dev/shm/sem.NAME mapping) and message queues: read,
# and kept for the resolver that will match them to their objects (waits.py)
POSIX_CALLS = frozenset({"futex", "futex_waitv", "mq_timedsend", "mq_timedreceive"})

# Where a task sleeps while it opens a FIFO that has no partner yet.
FIFO_OPEN_WCHANS = frozenset({"fifo_open", "wait_for_partner"})
# Where a task sleeps in splice/tee: waiting for bytes in its input pipe, or room in its output.
_SPLICE_READ_WCHANS = frozenset({"pipe_wait_readable", "splice_wait_for_data", "wait_for_space_in"})
_SPLICE_WRITE_WCHANS = frozenset({"pipe_wait_writable", "wait_for_space"})

AT_FDCWD = 0xFFFFFFFFFFFFFF9C  # -100 as the kernel prints an int argument: 64 bits, unsigned
MAX_SEMBUFS = 64
MAX_POLLFDS = 1024
MAX_SELECT_FDS = 4096


class TaskCall(NamedTuple):
    """A task asleep in a call that can wait on IPC, with what its arguments point at.

    `extra` depends on the call: semop ((sem_num, sem_op, sem_flg), ...); msgsnd (mtype,);
    poll ((fd, events), ...); select ((read fds), (write fds)); epoll ((fd, inode, events), ...);
    open (path, inode or 0, access mode, whether wchan said so); splice/tee ("r" or "w" or "", from wchan).
    Empty where the memory could not be read.  `exact` is False for a call guessed from wchan
    (then `args` are empty).  `ipc_ns` is the process's IPC namespace, for semop and msg calls."""

    tid: int
    call: str
    args: tuple[int, ...]
    extra: tuple = ()
    exact: bool = True
    ipc_ns: str = ""


def parse_syscall_line(line: bytes, names: dict[bytes, str]) -> tuple[str, tuple[int, ...]] | None:
    """(call name, six arguments) of a sleeping task in one of `names`' calls; None for anything else."""
    head, _, rest = line.partition(b" ")
    name = names.get(head)
    if name is None:
        return None
    fields = rest.split()
    if len(fields) < 8:
        return None
    if fields[6] == b"0x0" and fields[7] == b"0x0":
        return None  # a kernel thread: no user stack, no user program counter
    try:
        return name, tuple(int(value, 16) for value in fields[:6])
    except ValueError:
        return None


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _fd(value: int) -> int:
    """An int argument as the kernel printed it (64 bits): an fd, or -1."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def read_task_call(proc: ProcFS, pid: int, tid: int, names: dict[bytes, str]) -> TaskCall | None:
    """The call `tid` of `pid` sleeps in, if it is one that can wait on IPC; raises Gone or Denied."""
    path = "syscall" if tid == pid else f"task/{tid}/syscall"
    parsed = parse_syscall_line(proc.read_pid_record(pid, path), names)
    if parsed is None:
        return None
    call, args = parsed
    try:
        return _with_extra(proc, pid, tid, call, args)
    except Gone:
        return None  # exited meanwhile: it waits no more


def _with_extra(proc: ProcFS, pid: int, tid: int, call: str, args: tuple[int, ...]) -> TaskCall | None:
    if call in FD_CALLS:
        return TaskCall(tid, call, args)
    if call in SEM_CALLS:
        return TaskCall(tid, call, args, _sembufs(proc, pid, args[1], args[2]), ipc_ns=_ipc_ns(proc, pid))
    if call == "msgrcv":
        return TaskCall(tid, call, args, ipc_ns=_ipc_ns(proc, pid))
    if call == "msgsnd":
        raw = _memory(proc, pid, args[1], 8)
        extra = (struct.unpack("q", raw)[0],) if raw is not None else ()
        return TaskCall(tid, call, args, extra, ipc_ns=_ipc_ns(proc, pid))
    if call in POLL_CALLS:
        return TaskCall(tid, call, args, _pollfds(proc, pid, args[0], args[1]))
    if call in SELECT_CALLS:
        return TaskCall(tid, call, args, _fd_sets(proc, pid, args[0], args[1], args[2]))
    if call in EPOLL_CALLS:
        return TaskCall(tid, call, args, _epoll_targets(proc, pid, _fd(args[0])))
    if call in SPLICE_CALLS:
        where = _wchan(proc, pid, tid)
        side = "r" if where in _SPLICE_READ_WCHANS else "w" if where in _SPLICE_WRITE_WCHANS else ""
        return TaskCall(tid, call, args, (side,))
    if call in OPEN_CALLS:
        return _fifo_open(proc, pid, tid, call, args)
    if call in POSIX_CALLS:
        return TaskCall(tid, call, args)
    return None


def _memory(proc: ProcFS, pid: int, address: int, size: int) -> bytes | None:
    """`size` bytes of the task's memory, or None where they cannot all be read (none from a
    fixture tree: its pids are not processes)."""
    if not proc.is_live or size <= 0 or address <= 0:
        return None
    try:
        data = procmem.read_memory(pid, address, size)
    except (OSError, OverflowError):
        return None
    return data if len(data) == size else None


def _string(proc: ProcFS, pid: int, address: int, limit: int = 4096) -> str | None:
    """The NUL-terminated string at `address` (a path argument), read a page piece at a time so
    that one near the end of its mapping still reads; None where it cannot be read."""
    data = b""
    while len(data) < limit:
        at = address + len(data)
        part = _memory(proc, pid, at, min(256, 4096 - at % 4096))
        if part is None:
            return None
        end = part.find(b"\0")
        if end >= 0:
            return (data + part[:end]).decode("utf-8", "surrogateescape")
        data += part
    return None


def _ipc_ns(proc: ProcFS, pid: int) -> str:
    try:
        return proc.readlink_pid(pid, "ns/ipc")
    except Denied:
        return ""


def _wchan(proc: ProcFS, pid: int, tid: int) -> str:
    try:
        text = proc.read_pid_record(pid, "wchan" if tid == pid else f"task/{tid}/wchan")
    except Denied:
        return ""
    return text.decode("utf-8", "replace").strip()


def _sembufs(proc: ProcFS, pid: int, address: int, count: int) -> tuple[tuple[int, int, int], ...]:
    count = min(count, MAX_SEMBUFS)
    raw = _memory(proc, pid, address, 6 * count)
    return tuple(struct.iter_unpack("Hhh", raw)) if raw is not None else ()


def _pollfds(proc: ProcFS, pid: int, address: int, count: int) -> tuple[tuple[int, int], ...]:
    count = min(count, MAX_POLLFDS)
    raw = _memory(proc, pid, address, 8 * count)
    if raw is None:
        return ()
    return tuple((fd, events & 0xFFFF) for fd, events, _ in struct.iter_unpack("ihh", raw) if fd >= 0)


def _set_bits(raw: bytes, limit: int) -> tuple[int, ...]:
    fds = []
    for index, (word,) in enumerate(struct.iter_unpack("Q", raw)):
        while word:
            low = word & -word
            fd = index * 64 + low.bit_length() - 1
            if fd < limit:
                fds.append(fd)
            word ^= low
    return tuple(fds)


def _fd_sets(proc: ProcFS, pid: int, nfds: int, readfds: int, writefds: int) -> tuple[tuple[int, ...], ...]:
    nfds = min(nfds, MAX_SELECT_FDS)
    size = 8 * ((nfds + 63) // 64)
    sets = []
    for address in (readfds, writefds):
        raw = _memory(proc, pid, address, size) if address else b""
        if raw is None:
            return ()
        sets.append(_set_bits(raw, nfds))
    return tuple(sets)


def _epoll_targets(proc: ProcFS, pid: int, epfd: int) -> tuple[tuple[int, int, int], ...]:
    """(fd, inode, events) of each file the epoll instance watches, from its fdinfo `tfd:` lines."""
    if epfd < 0:
        return ()
    try:
        text = proc.read_pid_bytes(pid, f"fdinfo/{epfd}")
    except (Gone, Denied):
        return ()
    targets = []
    for line in text.splitlines():
        if not line.startswith(b"tfd:"):
            continue
        # tfd:        4 events:       19 data:                4  pos:0 ino:2a3f sdev:e
        fields = line.split()
        try:
            fd, events = int(fields[1]), int(fields[3], 16)
            inode = next((int(f[4:], 16) for f in fields if f.startswith(b"ino:")), 0)
        except (ValueError, IndexError):
            continue
        targets.append((fd, inode, events))
    return tuple(targets)


def _fifo_open(proc: ProcFS, pid: int, tid: int, call: str, args: tuple[int, ...]) -> TaskCall | None:
    """An open that may sleep in a FIFO with no partner: `extra` is (path as the task sees it, path to
    look it up by from here, access mode, whether wchan says it is a FIFO's open)."""
    where = _wchan(proc, pid, tid)
    if where and where != "0" and where not in FIFO_OPEN_WCHANS:
        return None  # an open that sleeps elsewhere (a device, a network filesystem): not a FIFO's
    if call == "open":
        dirfd, path_at, flags = AT_FDCWD, args[0], args[1]
    else:
        dirfd, path_at, flags = args[0], args[1], args[2]
        if call == "openat2":
            raw = _memory(proc, pid, args[2], 8)  # struct open_how starts with its u64 flags
            if raw is None:
                return None
            flags = struct.unpack("Q", raw)[0]
    confirmed = where in FIFO_OPEN_WCHANS
    path = _string(proc, pid, path_at)
    if path is None:
        return TaskCall(tid, call, args, ("", "", "", True)) if confirmed else None
    mode = {0: "r", 1: "w"}.get(flags & 0o3, "rw")
    if path.startswith("/"):
        shown, looked_up = os.path.normpath(path), proc.path(pid, "root") + path
    else:
        base = "cwd" if (dirfd & 0xFFFFFFFF) == (AT_FDCWD & 0xFFFFFFFF) else f"fd/{_fd(dirfd)}"
        try:
            shown = os.path.normpath(os.path.join(proc.readlink_pid(pid, base), path))
        except (Gone, Denied):
            shown = path
        looked_up = f"{proc.path(pid, base)}/{path}"
    return TaskCall(tid, call, args, (shown, looked_up, mode, confirmed))
