"""Pipe and FIFO ends from /proc/PID/fd and /proc/PID/fdinfo, and how full each pipe is.

An anonymous pipe's fd links to `pipe:[INODE]`; a FIFO's links to its path and
stats as S_IFIFO.  The access mode of an end comes from the `flags` line of
fdinfo.  Bytes waiting (FIONREAD) and capacity (F_GETPIPE_SZ) are read through a
duplicate of a holder's own open file (PipeMeter), never by a new open.

The same pass notes the fds on POSIX objects and memfds (`RawObjectFd`), told by
their link text (`/dev/shm/NAME`, `/memfd:NAME (deleted)`, a queue's `/NAME`) and
their fdinfo (inode, mount id), without stat()ing the target: ipctop/posix_records.py
joins them with what /dev/shm and the mqueue filesystem list.
"""

from __future__ import annotations

import fcntl
import os
import select
import stat
import struct
import termios
from typing import Any, NamedTuple

from ipctop.collectors.posix import read_fdinfo
from ipctop.collectors.procfs import Denied, Gone, ProcFS, classify
from ipctop.collectors.quiet import ScanMemory
from ipctop.collectors.split_read import Reader, read_split, worth_splitting
from ipctop.kernel import pidfd, statx
from ipctop.kernel.posix import statx_nosync

F_GETPIPE_SZ = 1032

# Link targets that are never FIFOs, so that they need no stat().
_NOT_FIFO_PREFIXES = ("socket:", "anon_inode:", "/dev/pts/", "/dev/null", "/dev/tty", "/proc/", "/sys/", "/memfd:")


class RawEnd(NamedTuple):
    """One fd on a pipe or FIFO, before process names are known."""

    pid: int
    fd: int
    mode: str


class RawObjectFd(NamedTuple):
    """One fd on a file of /dev/shm ("shm"), a memfd ("memfd") or maybe a message queue ("mqueue")."""

    kind: str
    inode: int
    link: str  # the fd's link text
    mnt_id: int  # from fdinfo (-1 for "shm", told by `dev`)
    end: RawEnd
    dev: int = -1  # the device, for "shm" (from statx)


class PidFds(NamedTuple):
    """The pipe and FIFO ends one process holds, as read from its fd directory."""

    pipes: tuple[tuple[int, RawEnd], ...]  # (pipe inode, end)
    fifos: tuple[tuple[int, str, RawEnd], ...]  # (FIFO inode, path, end)
    denied: bool = False
    objects: tuple[RawObjectFd, ...] = ()  # POSIX objects and memfds


NO_FDS = PidFds((), ())
DENIED_FDS = PidFds((), (), denied=True)


class FdScan:
    """Every pipe and FIFO end found (by object, and by the process holding them), and the processes
    that could not be read."""

    __slots__ = ("pipe_ends", "fifo_ends", "fifo_paths", "denied", "objects", "holders", "by_pid", "fresh",
                 "changed_pipes", "rerun", "token", "origin")

    def __init__(self) -> None:
        self.holders: dict[int, PidFds] = {}  # pid -> what it holds, for every pid holding a pipe or FIFO
        self.pipe_ends: dict[int, list[RawEnd]] = {}  # never changed once made: a later scan may share them
        self.fifo_ends: dict[int, list[RawEnd]] = {}
        self.fifo_paths: dict[int, str] = {}
        self.denied: dict[int, str] = {}
        self.objects: list[RawObjectFd] = []
        self.by_pid: dict[int, PidFds] = {}  # every process read that holds anything (or was denied)
        # the pids whose PidFds may be new objects this scan (the others' are the previous scan's);
        # None: any may be
        self.fresh: set[int] | None = None
        # the pipes whose end lists are not the very lists of the previous scan (None: any may not be)
        self.changed_pipes: set[int] | None = None
        # the processes that ran since the previous scan and hold the very fds they held (the previous
        # scan's object): their pipes keep their lists, but not their fill
        self.rerun: frozenset[int] = frozenset()
        # this scan's identity, and that of the scan it was patched from (None: read anew), every pipe
        # in one and not the other being in changed_pipes; a token, not the scan itself, so that a
        # scan does not keep every earlier one alive
        self.token = object()
        self.origin: object | None = None

    def patched(self, pids: list[int], reread: dict[int, PidFds]) -> FdScan:
        """This scan with the processes of `reread` read again and those not in `pids` gone: what a
        scan of every process would give (the same ends, objects in pid order), made in the time of
        what changed.  Every FIFO holder and every process that could not be read is in `reread`
        (they are read every scan)."""
        scan = FdScan()
        scan.origin = self.token
        old = self.by_pid
        listed = set(pids)
        # a process read again and found holding the very fds it held (scan_fds then hands over the
        # previous scan's object) moves no end: its pipes keep their lists
        moved = {pid: held for pid, held in reread.items() if old.get(pid) is not held}
        left = (old.keys() - listed) | (old.keys() & moved.keys())  # their old ends go
        by_pid = scan.by_pid = dict(old)
        holders = scan.holders = dict(self.holders)
        for pid in left:
            del by_pid[pid]
            holders.pop(pid, None)
        for pid, held in moved.items():
            if held is not NO_FDS:
                by_pid[pid] = held
                if held.pipes or held.fifos:
                    holders[pid] = held
        # the pipes whose ends changed get new lists; the others' lists are shared, not copied
        leaving = left
        pipe_ends = scan.pipe_ends = dict(self.pipe_ends)
        changed: dict[int, list[RawEnd]] = {}
        for pid in left:
            for inode, _end in old[pid].pipes:
                if inode not in changed:
                    changed[inode] = [end for end in self.pipe_ends[inode] if end.pid not in leaving]
        for held in moved.values():
            for inode, end in held.pipes:
                ends = changed.get(inode)
                if ends is None:
                    ends = changed[inode] = list(self.pipe_ends.get(inode, ()))
                ends.append(end)
        scan.changed_pipes = set(changed)
        for inode, ends in changed.items():
            if ends:
                ends.sort()  # by pid and fd, as a scan of every process lists them: an unchanged pipe reads the same
                pipe_ends[inode] = ends
            else:
                pipe_ends.pop(inode, None)
        for pid, held in reread.items():
            if held.denied:
                scan.denied[pid] = "permission denied"
            for inode, path, end in held.fifos:
                scan.fifo_ends.setdefault(inode, []).append(end)
                scan.fifo_paths.setdefault(inode, path)
        with_objects = [pid for pid, held in by_pid.items() if held.objects]
        scan.objects = [found for pid in sorted(with_objects) for found in by_pid[pid].objects]
        return scan

    def without(self, pids: set[int]) -> FdScan:
        """The same scan without the ends of `pids` (and without pipes left with no end)."""
        scan = FdScan()
        scan.denied = {pid: reason for pid, reason in self.denied.items() if pid not in pids}
        scan.holders = {pid: held for pid, held in self.holders.items() if pid not in pids}
        gone = [self.holders[pid] for pid in pids if pid in self.holders]
        # only the pipes and FIFOs those processes held change (the others' lists are shared, not copied)
        for source, target, inodes in (
            (self.pipe_ends, scan.pipe_ends, {inode for held in gone for inode, _end in held.pipes}),
            (self.fifo_ends, scan.fifo_ends, {inode for held in gone for inode, _path, _end in held.fifos}),
        ):
            target.update(source)
            for inode in inodes:
                kept = [end for end in source[inode] if end.pid not in pids]
                if kept:
                    target[inode] = kept
                else:
                    del target[inode]
        scan.fifo_paths = {inode: path for inode, path in self.fifo_paths.items() if inode in scan.fifo_ends}
        scan.objects = [found for found in self.objects if found.end.pid not in pids]
        scan.by_pid = {pid: held for pid, held in self.by_pid.items() if pid not in pids}
        scan.fresh = self.fresh
        scan.rerun = self.rerun - pids
        return scan

    def add(self, pid: int, held: PidFds) -> None:
        pipes, fifos, denied, objects = held
        self.by_pid[pid] = held
        if denied:
            self.denied[pid] = "permission denied"
        if pipes or fifos:
            self.holders[pid] = held
        if pipes:
            pipe_ends = self.pipe_ends
            for inode, end in pipes:
                ends = pipe_ends.get(inode)
                if ends is None:
                    pipe_ends[inode] = [end]
                else:
                    ends.append(end)
        for inode, path, end in fifos:
            self.fifo_ends.setdefault(inode, []).append(end)
            self.fifo_paths.setdefault(inode, path)
        if objects:
            self.objects.extend(objects)


def mode_from_flags(flags: int) -> str:
    """The access mode in the low bits of the open flags: O_RDONLY 0, O_WRONLY 1, O_RDWR 2."""
    return {0: "r", 1: "w"}.get(flags & 0o3, "rw")


def parse_fdinfo_flags(text: str) -> int:
    for line in text.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8)
    raise ValueError("no flags line in fdinfo")


def pipe_inode(target: str) -> int | None:
    if target.startswith("pipe:[") and target.endswith("]"):
        return int(target[6:-1])
    return None


# The kernel gives a /proc/PID/fd/N link the permission bits of the open mode
# (S_IRUSR for FMODE_READ, S_IWUSR for FMODE_WRITE), so one lstat() tells the mode
# without opening and parsing fdinfo.  Neither bit (O_PATH, access mode 3): ask fdinfo.
_LINK_MODES = {0o400: "r", 0o200: "w", 0o600: "rw"}


def _end_mode(proc: ProcFS, pid: int, fd: str) -> str:
    if proc.is_live:
        try:
            mode = _LINK_MODES.get(os.lstat(f"{proc.root}/{pid}/fd/{fd}").st_mode & 0o600)
        except OSError:
            mode = None
        if mode is not None:
            return mode
    try:
        return mode_from_flags(parse_fdinfo_flags(proc.read_pid_text(pid, f"fdinfo/{fd}")))
    except (Gone, Denied, ValueError):
        return "rw"  # unknown: an fd that closed meanwhile; say both rather than guess


def object_kind(target: str) -> str | None:
    """What an fd's link text can be among the objects of RawObjectFd, before its fdinfo is read."""
    if target.startswith("/dev/shm/"):
        return "shm"
    if target.startswith("/memfd:"):
        return "memfd"
    if target.startswith("/dev/mqueue/"):
        return "mqueue"
    # A queue opened by mq_open links to `/NAME` on the kernel's own mqueue mount.
    name = target.removesuffix(" (deleted)")
    if len(name) > 1 and "/" not in name[1:] and name not in _NOT_QUEUES:
        return "mqueue"
    return None


_NOT_QUEUES = ("/secretmem",)


def _object_fd(proc: ProcFS, pid: int, name: str, kind: str, target: str) -> RawObjectFd | None:
    info = read_fdinfo(proc, pid, name)
    if info is None:
        return None
    return RawObjectFd(kind, info.inode, target, info.mnt_id, RawEnd(pid, int(name), mode_from_flags(info.flags)))


def read_process_fds(proc: ProcFS, pid: int, mount_ids: frozenset[int] | None = None) -> PidFds:
    """The pipe and FIFO ends of one process, and its fds on POSIX objects and memfds.

    `mount_ids`, the mounts of ipctop's mount namespace, tells a queue (on the kernel's
    own mount) from a file at the top of a mounted filesystem; without it, both are kept."""
    fd_dir = f"{proc.root}/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError as error:
        if isinstance(classify(error), Denied) and not proc.is_kernel_thread(pid):
            return DENIED_FDS
        return NO_FDS
    pipes: list[tuple[int, RawEnd]] = []
    fifos: list[tuple[int, str, RawEnd]] = []
    objects: list[RawObjectFd] = []
    readlink = os.readlink
    for name in names:
        link = f"{fd_dir}/{name}"
        try:
            target = readlink(link)
        except OSError:
            continue  # closed meanwhile
        if not target.startswith("/"):  # sockets, anon inodes, and pipes (pipe_inode, inline: a scan does thousands)
            if target.startswith("pipe:[") and target.endswith("]"):
                pipes.append((int(target[6:-1]), RawEnd(pid, int(name), _end_mode(proc, pid, name))))
            continue
        kind = object_kind(target)
        if kind == "shm":
            # a file in a /dev/shm (a tmpfs): statx that never waits tells a FIFO from an object
            try:
                st = statx_nosync(link)
            except OSError:
                continue
            end = RawEnd(pid, int(name), _end_mode(proc, pid, name))
            if stat.S_ISFIFO(st.mode):
                fifos.append((st.ino, target, end))
            elif stat.S_ISREG(st.mode):
                objects.append(RawObjectFd(kind, st.ino, target, -1, end, st.dev))
            continue
        if kind is not None:
            found = _object_fd(proc, pid, name, kind, target)
            if found is None:
                continue  # closed meanwhile
            top_level = kind == "mqueue" and not target.startswith("/dev/mqueue/")
            on_a_mount = top_level and mount_ids is not None and found.mnt_id in mount_ids
            if not on_a_mount:
                objects.append(found)
            if not top_level or (mount_ids is not None and not on_a_mount):
                continue
            # a file at the top of a mounted filesystem (or, without mount_ids, perhaps): maybe a FIFO
        if target.startswith(_NOT_FIFO_PREFIXES):
            continue
        try:
            # never a plain stat() of another process's file: on a FUSE or NFS mount that does not
            # answer it would never return (cached attributes give the type and inode)
            mode, inode = statx.cached_stat(link)
        except OSError:
            continue
        if stat.S_ISFIFO(mode):
            fifos.append((inode, target, RawEnd(pid, int(name), _end_mode(proc, pid, name))))
    if pipes or fifos or objects:
        return PidFds(tuple(pipes), tuple(fifos), False, tuple(objects))
    return NO_FDS


# A scan that read again at least one process in REBUILD_FROM makes its tables anew rather than patching
# the previous scan's (FdScan.patched): so many processes ran that patching would cost more.
REBUILD_FROM = 4


def scan_fds(
    proc: ProcFS, pids: list[int], memory: ScanMemory | None = None, mount_ids: frozenset[int] | None = None
) -> FdScan:
    """Every process's pipe and FIFO ends (and object fds); with `memory`, those of processes that
    have not run since they were last read are taken from it (see quiet.py).  Without memory, on
    many processes, a forked child reads half of them (split_read.py)."""
    scan = FdScan()
    if memory is None:
        if worth_splitting(proc, len(pids)):
            reader = Reader(lambda pid: read_process_fds(proc, pid, mount_ids), _plain_fds, _fds_from_plain, NO_FDS)
            found = read_split(proc, "fd", pids, reader)
            for pid in pids:
                scan.add(pid, found.get(pid, NO_FDS))
            return scan
        for pid in pids:
            proc.reading(pid, "fd")
            scan.add(pid, read_process_fds(proc, pid, mount_ids))
        proc.done()
        return scan
    remembered, quiet = memory.fds, memory.quiet_pids()
    reread: dict[int, PidFds] = {}
    previous = memory.fd_scan
    # what is remembered is of quiet processes only (quiet.py): the others, and the quiet ones holding a
    # FIFO or not readable, are looked at; found by set operations, in the order of `pids` (ascending)
    earlier = previous.by_pid if previous is not None else {}  # what the previous scan found of each
    unchanged = memory.unchanged_pids()
    rerun: list[int] = []
    if previous is not None:
        special = {end.pid for ends in previous.fifo_ends.values() for end in ends} | previous.denied.keys()
    else:
        special = {pid for pid, held in remembered.items() if held.fifos or held.denied}
    for pid in sorted(memory.unread(remembered) | (special & memory.listed)):
        if pid in quiet:
            held = remembered.get(pid)
            if held is not None and not held.denied:
                if not held.fifos:
                    continue
                proc.reading(pid, "fd")
                if _same_fifo_paths(proc, pid, held.fifos):
                    reread[pid] = held  # the very fds: patched() takes every FIFO holder from `reread`
                    continue
        proc.reading(pid, "fd")
        held = read_process_fds(proc, pid, mount_ids)
        before = earlier.get(pid)
        if before is not None and before == held:
            # the very fds it held: the same object, so that its pipes keep their lists (a pool's parent
            # holds an end of every worker's pipes, and runs at every scan). records.py keeps the fill of
            # a pipe whose list is the very list of the previous scan, unless a holder is in `rerun`:
            # one that ran may have moved its bytes
            held = before
            if pid not in unchanged:
                rerun.append(pid)
        reread[pid] = remembered[pid] = held
        memory.read_in_full(pid, proc.root)
    proc.done()
    if previous is not None and len(reread) < len(pids) // REBUILD_FROM:
        scan = previous.patched(pids, reread)
    else:  # the first scan, or most processes ran: made anew
        for pid in pids:
            held = remembered.get(pid, NO_FDS)
            if held is not NO_FDS:
                scan.add(pid, held)
    # the pids whose fds are new objects (one found holding the very fds it held keeps its object)
    scan.fresh = {pid for pid, held in reread.items() if earlier.get(pid) is not held}
    scan.rerun = frozenset(rerun)
    memory.fd_scan = scan
    return scan


def _plain_fds(held: PidFds) -> tuple[object, ...]:
    """What one process holds as plain tuples (marshal sends no named tuples)."""
    pipes, fifos, denied, objects = held
    return (
        tuple((inode, tuple(end)) for inode, end in pipes),
        tuple((inode, path, tuple(end)) for inode, path, end in fifos),
        denied,
        tuple((o.kind, o.inode, o.link, o.mnt_id, tuple(o.end), o.dev) for o in objects),
    )


def _fds_from_plain(plain: tuple[Any, ...]) -> PidFds:
    pipes, fifos, denied, objects = plain
    if denied and not (pipes or fifos or objects):
        return DENIED_FDS
    return PidFds(
        tuple((inode, RawEnd(*end)) for inode, end in pipes),
        tuple((inode, path, RawEnd(*end)) for inode, path, end in fifos),
        denied,
        tuple(RawObjectFd(kind, inode, link, mnt_id, RawEnd(*end), dev)
              for kind, inode, link, mnt_id, end, dev in objects),
    )


def _same_fifo_paths(proc: ProcFS, pid: int, fifos: tuple[tuple[int, str, RawEnd], ...]) -> bool:
    """True when each FIFO end of a quiet process still links to the path read before: its fd table is
    the same (it has not run), but anyone may rename or remove a FIFO, so its path is read each scan."""
    fd_dir = f"{proc.root}/{pid}/fd"
    try:
        return all(os.readlink(f"{fd_dir}/{end.fd}") == path for _inode, path, end in fifos)
    except OSError:
        return False


# pidfds kept open at once: past 256 and 512 open fds the kernel grows a process's fd table, and while
# a second thread shares it (the scan's watchdog) each growth waits for an RCU grace period: 13 and 19 ms
# of a one-off look at 1,000 processes, when it kept one pidfd per pipe holder
KEPT_PIDFDS = 64


class PipeMeter:
    """How full each pipe is, read through a duplicate of one of its holders' own open files.

    The duplicate (pidfd_getfd) adds no reader or writer.  Where it cannot be made (a kernel
    before 5.6, a process we may not ptrace), the pipe is opened through /proc/PID/fd/N as
    before, but only when it has a reader already: then the extra reader of that moment
    changes nothing anyone can see (no EPIPE is avoided, no blocked open() woken).  Holds a
    pidfd per process measured through (the latest KEPT_PIDFDS); `close()` them at the end of the scan.
    """

    __slots__ = ("proc", "_pidfds")

    def __init__(self, proc: ProcFS) -> None:
        self.proc = proc
        self._pidfds: dict[int, int | None] = {}

    def measure(self, ends: list[RawEnd]) -> tuple[int | None, int | None]:
        """(bytes waiting, capacity); (None, None) where it cannot be read without a side effect."""
        if not self.proc.is_live:
            return None, None
        for end in ends:
            self.proc.reading(end.pid, "the fill of a pipe it holds")  # FIONREAD waits for the pipe's lock
            fd = self._duplicate(end)
            if fd is not None:
                return _measure_open(fd)
        if not any("r" in end.mode for end in ends):
            return None, None
        for end in ends:
            try:
                fd = os.open(self.proc.path(end.pid, "fd", end.fd), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue
            return _measure_open(fd)
        return None, None

    def other_side(self, ends: list[RawEnd], missing: str, named: bool) -> bool | None:
        """Whether the pipe has a reader (`missing` "r") or a writer ("w") among processes ipctop did not
        see, when every end it saw (`ends`) is a writer, or a reader: asked of the kernel, by poll() on a
        duplicate of one of those ends (POLLERR on a write end: no reader; POLLHUP on a read end: no writer).
        None where no end could be duplicated, and for a FIFO (`named`) read end without POLLHUP: a reader
        that opened it O_NONBLOCK before any writer gets none until a writer has come and gone."""
        if not self.proc.is_live:
            return None
        for end in ends:
            fd = self._duplicate(end)
            if fd is None:
                continue
            try:
                poller = select.poll()
                poller.register(fd, 0)  # POLLERR and POLLHUP are reported whatever is asked
                ready = poller.poll(0)
                revents = ready[0][1] if ready else 0
            finally:
                os.close(fd)
            if missing == "r":
                return not revents & select.POLLERR
            if revents & select.POLLHUP:
                return False
            return None if named else True
        return None

    def _duplicate(self, end: RawEnd) -> int | None:
        if end.pid not in self._pidfds:
            if len(self._pidfds) >= KEPT_PIDFDS:
                kept = self._pidfds.pop(next(iter(self._pidfds)))  # the oldest
                if kept is not None:
                    os.close(kept)
            try:
                self._pidfds[end.pid] = pidfd.open_pidfd(end.pid)
            except pidfd.PidfdUnavailable:
                self._pidfds[end.pid] = None
        process = self._pidfds[end.pid]
        if process is None:
            return None
        try:
            return pidfd.duplicate_fd(process, end.fd)
        except pidfd.PidfdUnavailable:
            return None

    def close(self) -> None:
        for fd in self._pidfds.values():
            if fd is not None:
                os.close(fd)
        self._pidfds.clear()


def _measure_open(fd: int) -> tuple[int | None, int | None]:
    """(FIONREAD, F_GETPIPE_SZ) of an fd of ours on the pipe, which it then closes."""
    try:
        capacity = fcntl.fcntl(fd, F_GETPIPE_SZ)
        waiting = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        return waiting, capacity
    except OSError:
        return None, None
    finally:
        os.close(fd)
