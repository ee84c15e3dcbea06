"""Recreate an object from its backup: same key, mode and contents, a new id.

It creates with IPC_EXCL, so it never touches an object that has the key now
(EEXIST: it refuses and says which id has it); the caller may give another key
to restore it under instead.  It creates the object with mode
0600 first, fills it, then sets the saved mode (a read-only mode would forbid
the filling) and, when run as root, the saved owner.  If any step fails the new
object is removed again: a restore either completes or leaves nothing.
The contents are read from the backup file a piece at a time as they are put
in (a segment's bytes, a queue's messages one by one).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from dataclasses import dataclass

from ipctop.cleanup.backup import Backup
from ipctop.cleanup.backup_file import BackupFileError
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.render.formatting import hex_key

_NAMES = {"shm": "a segment", "msg": "a queue", "sem": "a semaphore set"}
_REMOVE = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}
_FILL_MODE = 0o600
_PAGE = os.sysconf("SC_PAGE_SIZE")


class RestoreError(Exception):
    """The restore was refused or failed; nothing was left behind.  str() is one sentence."""


@dataclass(frozen=True, slots=True)
class Restored:
    kind: str
    id: int
    key: int
    notes: tuple[str, ...] = ()
    name: str = ""  # a POSIX object's name


_POSIX_NAMES = {"pshm": "a POSIX shared memory object", "psem": "a named semaphore", "pmsg": "a POSIX queue"}


def _restore_posix(backup: Backup, name: str | None) -> Restored:
    from ipctop.cleanup import posix_backup

    what = _POSIX_NAMES[backup.kind]
    target = name or backup.name
    try:
        notes = posix_backup.restore(backup, target)
    except IpcError as error:
        if error.errno == errno.EEXIST:
            raise RestoreError(
                f"{what} named {target} exists; restore never replaces an object, so remove that one first if it "
                "is the one to replace, or restore under another name (--name)"
            ) from None
        raise RestoreError(f"cannot make {what} named {target} again, and nothing was left: {error}") from None
    except BackupFileError as error:
        raise RestoreError(f"cannot make {what} named {target} again from the backup ({error}), and nothing was "
                           "left") from None
    return Restored(backup.kind, 0, 0, tuple(notes), name=target)


def _existing_id(kind: str, key: int) -> int | None:
    get = {"shm": lambda: sysv.shmget(key, 0, 0), "msg": lambda: sysv.msgget(key, 0),
           "sem": lambda: sysv.semget(key, 0, 0)}[kind]
    try:
        return get()
    except IpcError:
        return None


def _create(backup: Backup, key: int) -> int:
    flags = sysv.IPC_CREAT | sysv.IPC_EXCL | _FILL_MODE
    if backup.kind == "shm":
        return sysv.shmget(key, backup.size, flags)
    if backup.kind == "msg":
        return sysv.msgget(key, flags)
    return sysv.semget(key, len(backup.values), flags)


def _fill(backup: Backup, ident: int) -> None:
    if backup.kind == "shm":
        address = sysv.shmat(ident)
        try:
            offset = let_go_from = 0
            for chunk in backup.segment_chunks():
                if offset + len(chunk) > backup.size:
                    raise BackupFileError("its data is longer than the segment")
                ctypes.memmove(address + offset, chunk, len(chunk))
                offset += len(chunk)
                whole_pages = offset - offset % _PAGE
                if whole_pages > let_go_from:  # the bytes stay in the segment; this process's pages go
                    sysv.let_go(address + let_go_from, whole_pages - let_go_from)
                    let_go_from = whole_pages
        finally:
            sysv.shmdt(address)
    elif backup.kind == "msg":
        if backup.qbytes and backup.qbytes != sysv.msg_stat(ident).qbytes:
            sysv.msg_set(ident, qbytes=backup.qbytes)
        backup.each_message(lambda mtype, data: sysv.msgsnd(ident, mtype, data, nowait=True))
    else:
        sysv.sem_setall(ident, list(backup.values))


def _set_mode_and_owner(backup: Backup, ident: int) -> tuple[str, ...]:
    owner: dict[str, int] = {}
    notes: tuple[str, ...] = ()
    if (backup.uid, backup.gid) != (os.geteuid(), os.getegid()):
        if os.geteuid() == 0:
            owner = {"uid": backup.uid, "gid": backup.gid}
        else:
            notes = (f"it belongs to you (uid {os.geteuid()}), not to uid {backup.uid} as before: "
                     "only root may give it away",)
    setter = {"shm": sysv.shm_set, "msg": sysv.msg_set, "sem": sysv.sem_set}[backup.kind]
    setter(ident, mode=backup.mode, **owner)
    return notes


def restore(backup: Backup, key: int | None = None, name: str | None = None) -> Restored:
    """Recreate `backup`'s object, under `key` (System V) or `name` (POSIX) if given, else its own; raises
    RestoreError, leaving nothing half-made."""
    if backup.kind in _POSIX_NAMES:
        return _restore_posix(backup, name)
    what = _NAMES[backup.kind]
    key = backup.key if key is None else key
    try:
        ident = _create(backup, key)
    except IpcError as error:
        if error.errno == errno.EEXIST:
            holder = _existing_id(backup.kind, key)
            held = f" (id {holder})" if holder is not None else ""
            raise RestoreError(
                f"{what} with key {hex_key(key)} exists{held}; restore never replaces an object, "
                "so remove that one first if it is the one to replace, or restore under another key"
            ) from None
        raise RestoreError(f"cannot create {what} with key {hex_key(key)}: {error}") from None
    try:
        _fill(backup, ident)
        notes = _set_mode_and_owner(backup, ident)
    except (IpcError, BackupFileError, OSError) as error:
        with contextlib.suppress(IpcError):
            _REMOVE[backup.kind](ident)
        raise RestoreError(f"cannot fill the new {backup.kind} {ident}, so it was removed again: {error}") from None
    except BaseException:
        with contextlib.suppress(IpcError):
            _REMOVE[backup.kind](ident)
        raise
    return Restored(backup.kind, ident, key, notes)
