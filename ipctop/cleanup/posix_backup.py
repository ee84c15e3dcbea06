"""Backups of POSIX objects: read one whole, write it in backup.py's file format, make it again.

- shared memory: its bytes, read with O_NOATIME (nothing of it changes), a piece
  at a time as the backup is written (contents());
- a named semaphore: its value, read from its bytes (glibc's layout) or by
  sem_getvalue;
- a queue: its capacity and its messages with their priorities.  POSIX queues
  have nothing like MSG_COPY: the messages are received, which empties the queue
  (the backup says so), and `put_back` sends them again, in the order they came
  out, if the backup or the removal then fails.

`restore` makes the object again under its name (or another) with O_EXCL, so it
never touches an object of that name; it fills it with mode 0600, then gives it
its saved mode (and owner, as root); if a step fails the new object is unlinked:
a restore completes or leaves nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from typing import Any

from ipctop.cleanup.backup import CHUNK, Backup
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError

_FILL_MODE = 0o600


def _common(kind: str, name: str, st: os.stat_result, reason: str) -> dict[str, Any]:
    return dict(kind=kind, id=st.st_ino, key=0, mode=st.st_mode & 0o777, uid=st.st_uid, gid=st.st_gid,
                cuid=st.st_uid, cgid=st.st_gid, ctime=int(st.st_ctime), taken_at=time.time(), reason=reason,
                name=name)


def capture(kind: str, name: str, reason: str = "", queue_point: str | None = None) -> Backup:
    """Read the object whole; raises IpcError (kind pshm/psem/pmsg) when it cannot be read."""
    label = f"{kind} {name}"
    try:
        if kind == "pshm":
            st = os.lstat(posix.shm_path(name))
            return Backup(**_common(kind, name, st, reason), size=st.st_size)  # its bytes: contents()
        if kind == "psem":
            st = os.lstat(posix.sem_path(name))
            decoded = posix.decode_glibc_semaphore(posix.read_noatime(posix.sem_path(name), posix.SEM_SIZE))
            value = decoded.value if decoded is not None else _sem_value(name)
            return Backup(**_common(kind, name, st, reason), values=(value,))
    except OSError as error:
        raise IpcError(kind, label, error.errno or errno.EIO, "read for the backup") from None
    fd = posix.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        attributes = posix.mq_getattr(fd, label)
        messages = []
        try:
            while (received := posix.mq_receive(fd, attributes.message_size, None, label)) is not None:
                messages.append((received[1], received[0]))
        except IpcError as error:
            if error.errno != errno.EAGAIN:
                put_back(name, messages)
                raise
    finally:
        os.close(fd)
    return Backup(**_common(kind, name, st, reason), messages=tuple(messages), received=True,
                  max_messages=attributes.max_messages, message_size=attributes.message_size)


def contents(backup: Backup, piece: int = CHUNK) -> Iterator[bytes]:
    """A shared memory object's bytes, `piece` at a time, read with O_NOATIME (raises OSError)."""
    fd = os.open(posix.shm_path(backup.name), os.O_RDONLY | os.O_NOATIME | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        offset = 0
        while offset < backup.size:
            data = os.pread(fd, min(piece, backup.size - offset), offset)
            if not data:
                break  # made smaller meanwhile: write_backup says so
            yield data
            offset += len(data)
    finally:
        os.close(fd)


def _sem_value(name: str) -> int:
    address = posix.sem_open(name, 0)
    try:
        return posix.sem_getvalue(address)
    finally:
        posix.sem_close(address)


def put_back(name: str, messages: list[tuple[int, bytes]] | tuple[tuple[int, bytes], ...]) -> int:
    """Send received messages again in the order they came out; returns how many could not be sent."""
    try:
        fd = posix.mq_open(name, os.O_WRONLY | os.O_NONBLOCK)
    except IpcError:
        return len(messages)
    try:
        for index, (priority, data) in enumerate(messages):
            try:
                posix.mq_send(fd, data, priority)
            except IpcError:
                return len(messages) - index
    finally:
        os.close(fd)
    return 0


# --- restoring -----------------------------------------------------------------------


def restore(backup: Backup, name: str) -> list[str]:
    """Make the object again as `name`; raises IpcError (EEXIST when the name is taken), or BackupFileError
    (the file changed since it was read), leaving nothing.  Returns notes for the user."""
    kind = backup.kind
    if kind == "pshm":
        fd = posix.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, _FILL_MODE)
        undo = posix.shm_unlink
    elif kind == "psem":
        address = posix.sem_open(name, os.O_CREAT | os.O_EXCL, _FILL_MODE, backup.values[0])
        posix.sem_close(address)
        fd = os.open(posix.sem_path(name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        undo = posix.sem_unlink
    else:
        fd = posix.mq_open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NONBLOCK, _FILL_MODE,
                           backup.max_messages, backup.message_size)
        undo = posix.mq_unlink
    try:
        if kind == "pshm":
            os.ftruncate(fd, backup.size)
            offset = 0
            for data in backup.segment_chunks():  # from the backup file, a piece at a time
                while data:
                    written = os.pwrite(fd, data, offset)
                    offset, data = offset + written, data[written:]
        elif kind == "pmsg":
            backup.each_message(lambda priority, data: posix.mq_send(fd, data, priority))
        return _give_back(backup, fd, name)
    except (OSError, IpcError) as error:
        with contextlib.suppress(IpcError):
            undo(name)
        if isinstance(error, IpcError):
            raise
        raise IpcError(kind, f"{kind} {name}", error.errno or errno.EIO, "restore") from None
    except BaseException:
        with contextlib.suppress(IpcError):
            undo(name)
        raise
    finally:
        os.close(fd)


def _give_back(backup: Backup, fd: int, name: str) -> list[str]:
    notes = []
    uid, gid = -1, -1
    if (backup.uid, backup.gid) != (os.geteuid(), os.getegid()):
        if os.geteuid() == 0:
            uid, gid = backup.uid, backup.gid
        else:
            notes.append(f"it belongs to you (uid {os.geteuid()}), not to uid {backup.uid} as before: "
                         "only root may give it away")
    posix.fd_set_owner(backup.kind, fd, f"{backup.kind} {name}", backup.mode, uid, gid)
    return notes
