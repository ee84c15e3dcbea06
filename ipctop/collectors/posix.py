"""POSIX IPC as the filesystems show it: /dev/shm, the mqueue filesystem, and the mounts.

- /dev/shm is a tmpfs: its files are POSIX shared memory objects and, named
  `sem.NAME`, named semaphores.  Listing and stat()ing it is safe (memory, no
  device or network behind it).  A holder is matched to a file by device and
  inode, never by name: glibc builds a semaphore under a temporary name first.
- Message queues are files of the mqueue filesystem of the IPC namespace.  It is
  listed only where it is mounted (/dev/mqueue usually); ipctop mounts it only
  when asked (`mount_mqueue`).  A queue's capacity and message count come from
  mq_getattr after an open(O_RDONLY), which changes nothing a user can see.  Its
  QSIZE (bytes queued) and NOTIFY_PID are only in the text of its file, and the
  kernel sets the queue's atime and ctime whenever that text is read: so it is
  read only when the user asks (`queue_status`).
- A fd is told apart by its link text and its fdinfo (`mnt_id`, `ino`), never
  by stat()ing its target, which could wait forever on a hung FUSE or NFS
  mount; where a stat is needed it is statx(AT_STATX_DONT_SYNC).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import NamedTuple

from ipctop.collectors.procfs import Denied, Gone, ProcFS, parse_mountinfo
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError

DEV_SHM = posix.DEV_SHM
MQUEUE_MOUNT = "/dev/mqueue"
MQUEUE_FILE_SIZE = 80  # FILENT_SIZE: every mqueue inode reports this size


class Places(NamedTuple):
    """Where this scan finds POSIX objects: /dev/shm's device, the mqueue mount, the mounts of its namespace."""

    shm_dev: int | None  # st_dev of /dev/shm (None: no /dev/shm)
    shm_mounts: frozenset[int]  # mount ids with that device
    mqueue_point: str | None  # a mounted mqueue filesystem of this IPC namespace
    mqueue_mounts: frozenset[int]
    mount_ids: frozenset[int]  # every mount of this mount namespace


def find_places(proc: ProcFS) -> Places:
    try:
        mounts = parse_mountinfo(proc.read_text("self", "mountinfo"))
    except OSError:
        mounts = {}
    try:
        shm_dev: int | None = os.stat(DEV_SHM).st_dev
    except OSError:
        shm_dev = None
    mqueues = [m for m in mounts.values() if m.fstype == "mqueue"]
    point = None
    if mqueues:
        # the one at /dev/mqueue if there is one (the last mounted is the one visible), else the last
        at_usual = [m for m in mqueues if m.point == MQUEUE_MOUNT]
        point = (at_usual or mqueues)[-1].point
    return Places(
        shm_dev=shm_dev,
        shm_mounts=frozenset(m.mount_id for m in mounts.values() if m.dev == shm_dev),
        mqueue_point=point,
        mqueue_mounts=frozenset(m.mount_id for m in mqueues),
        mount_ids=frozenset(mounts),
    )


# --- /dev/shm ------------------------------------------------------------------------


class ShmFile(NamedTuple):
    """A regular file of /dev/shm."""

    name: str  # the file name: NAME, or sem.NAME for a semaphore
    inode: int
    size: int
    blocks: int
    mode: int
    uid: int
    gid: int
    atime: float
    mtime: float
    ctime: float
    btime: float  # when it was made (0: unknown)

    @property
    def made_by(self) -> float:
        """The latest time it can have been made: its birth time, else the earliest of its times."""
        return self.btime or min(t for t in (self.atime, self.mtime, self.ctime))


def list_dev_shm(directory: str = DEV_SHM) -> dict[int, ShmFile]:
    """Every regular file in /dev/shm, by inode (subdirectories are not shm_open objects)."""
    files = {}
    try:
        names = os.listdir(directory)
    except OSError:
        return {}
    for name in names:
        try:
            st = posix.statx_nosync(f"{directory}/{name}", follow=False)  # statx: it has the birth time
        except OSError:
            continue  # removed meanwhile
        if not stat.S_ISREG(st.mode):
            continue
        files[st.ino] = ShmFile(name, st.ino, st.size, st.blocks, st.mode & 0o7777, st.uid, st.gid, st.atime,
                                st.mtime, st.ctime, st.btime)
    return files


def read_semaphore(path: str, mappers: list[tuple[int, int]]) -> bytes | None:
    """A named semaphore's first bytes without side effects: through a process that maps it
    (process_vm_readv), else from the file with O_NOATIME; None when neither is allowed."""
    for pid, address in mappers:
        try:
            data = posix.process_vm_read(pid, address, posix.SEM_SIZE)
        except OSError:
            continue
        if len(data) == posix.SEM_SIZE:
            return data
    try:
        return posix.read_noatime(path, posix.SEM_SIZE)
    except OSError:
        return None


# --- message queues ------------------------------------------------------------------


class QueueFile(NamedTuple):
    """A queue as its mqueue filesystem lists it."""

    name: str
    inode: int
    mode: int
    uid: int
    gid: int
    mtime: float
    path: str
    made_by: float  # the latest time it can have been made: the earliest of its times


def list_mqueues(point: str) -> dict[int, QueueFile]:
    queues = {}
    try:
        entries = list(os.scandir(point))
    except OSError:
        return {}
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            queues[st.st_ino] = QueueFile(entry.name, st.st_ino, st.st_mode & 0o7777, st.st_uid, st.st_gid,
                                          st.st_mtime, entry.path, min(st.st_atime, st.st_mtime, st.st_ctime))
    return queues


def queue_attributes(path: str) -> posix.QueueAttributes | None:
    """mq_getattr of the queue at `path` (in a mounted mqueue filesystem, or a /proc/PID/fd link to one):
    open(O_RDONLY) and mq_getattr change none of its times or contents.  None when refused."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not path.startswith("/proc/"):
        flags |= os.O_NOFOLLOW  # a file of the mqueue filesystem; a /proc/PID/fd link must be followed
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        return posix.mq_getattr(fd)
    except IpcError:
        return None  # not a queue after all
    finally:
        os.close(fd)


class QueueStatus(NamedTuple):
    queued_bytes: int
    notify_pid: int
    notify: int  # SIGEV_SIGNAL 0, SIGEV_NONE 1, SIGEV_THREAD 2
    signo: int


def parse_queue_status(text: str) -> QueueStatus:
    """`QSIZE:129 NOTIFY:2 SIGNO:0 NOTIFY_PID:8260`, the text of a queue's file."""
    values = {}
    for part in text.split():
        name, _, value = part.partition(":")
        if value:
            values[name] = int(value)
    return QueueStatus(values["QSIZE"], values.get("NOTIFY_PID", 0), values.get("NOTIFY", 0), values.get("SIGNO", 0))


def queue_status(path: str) -> QueueStatus | None:
    """QSIZE and NOTIFY_PID from the queue's file.  Reading it sets the queue's atime and
    ctime (ipc/mqueue.c, mqueue_read_file): only for a user who asked for it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return parse_queue_status(os.read(fd, 256).decode("ascii", "replace"))
    except (OSError, KeyError, ValueError):
        return None
    finally:
        os.close(fd)


def mount_mqueue(point: str = MQUEUE_MOUNT) -> str:
    """`mount -t mqueue none /dev/mqueue`, made on the user's request; returns a sentence, raises OSError."""
    import ctypes

    from ipctop.kernel.libc import libc

    os.makedirs(point, mode=0o1777, exist_ok=True)
    mount = libc().mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    if mount(b"none", os.fsencode(point), b"mqueue", 0, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), point)
    return f"mounted the mqueue filesystem on {point} (umount {point} undoes it)"


# --- fdinfo --------------------------------------------------------------------------


class FdInfo(NamedTuple):
    flags: int
    mnt_id: int
    inode: int


def read_fdinfo(proc: ProcFS, pid: int, fd: int | str) -> FdInfo | None:
    """The open flags, mount id and inode of one fd; None when it closed or may not be read."""
    try:
        text = proc.read_pid_record(pid, f"fdinfo/{fd}")
    except (Gone, Denied):
        return None
    flags = mnt_id = inode = -1
    for line in text.split(b"\n"):
        if line.startswith(b"flags:"):
            flags = int(line[6:], 8)
        elif line.startswith(b"mnt_id:"):
            mnt_id = int(line[7:])
        elif line.startswith(b"ino:"):
            inode = int(line[4:])
    if flags < 0 or inode < 0:
        return None
    return FdInfo(flags, mnt_id, inode)


def fd_status(proc: ProcFS, pid: int, fd: int) -> posix.FileStatus | None:
    """statx(AT_STATX_DONT_SYNC) through /proc/PID/fd/N; None when it is gone or refused."""
    try:
        return posix.statx_nosync(proc.path(pid, "fd", fd))
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.ESRCH):
            raise
        return None
