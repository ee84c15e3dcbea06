"""Backups of System V objects: read one from the kernel, write it to a JSON file, read it back.

One file per object, mode 0600 in a 0700 directory (a segment may hold secrets),
written to a temporary name, fsynced and renamed, so a file that exists is
complete.  The file holds the metadata (key, mode, owner, creator, size or set
size, ctime) and the data: a segment's bytes (base64), a queue's messages with
their types (base64), a set's semaphore values.

A queue is read with msgrcv(MSG_COPY), which copies messages without taking
them, so the queue is untouched if the backup cannot be written.  Kernels
without CONFIG_CHECKPOINT_RESTORE lack MSG_COPY; there the messages must be
received, which empties the queue: the backup says so, and `put_back` sends
them again if the backup or the removal then fails.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.render.formatting import hex_key

FORMAT = "ipctop-backup"
VERSION = 1


class BackupError(Exception):
    """A backup could not be written or read; str() is one sentence."""


@dataclass(frozen=True, slots=True)
class Backup:
    """One object's metadata and contents, as read from the kernel or from a file."""

    kind: str  # "shm", "msg" or "sem"
    id: int
    key: int
    mode: int  # the nine mode bits
    uid: int
    gid: int
    cuid: int
    cgid: int
    ctime: int
    taken_at: float
    reason: str = ""
    size: int = 0  # shm: bytes
    data: bytes = b""  # shm
    qbytes: int = 0  # msg: capacity
    messages: tuple[tuple[int, bytes], ...] = ()  # msg: (type, bytes), oldest first
    received: bool = False  # msg: read by msgrcv, which emptied the queue
    values: tuple[int, ...] = ()  # sem: one per semaphore
    host: str = field(default_factory=socket.gethostname)
    namespace: str = ""  # the name of its IPC namespace, when that was not ipctop's own

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id} (key {hex_key(self.key)})"


# --- reading objects from the kernel -------------------------------------------


def capture(kind: str, ident: int, reason: str = "", copy_messages: bool = True) -> Backup:
    """Read object `ident` of `kind` whole; raises IpcError when the kernel refuses.

    `copy_messages` False receives a queue's messages even where MSG_COPY works,
    as kernels without it must (the tests use it to exercise that path).
    """
    if kind == "shm":
        return _capture_shm(ident, reason)
    if kind == "msg":
        return _capture_msg(ident, reason, copy_messages)
    return _capture_sem(ident, reason)


def _common(stat: sysv.IpcStat, kind: str, ident: int, reason: str) -> dict[str, Any]:
    return dict(kind=kind, id=ident, key=stat.key, mode=stat.mode & 0o777, uid=stat.uid, gid=stat.gid,
                cuid=stat.cuid, cgid=stat.cgid, ctime=stat.ctime, taken_at=time.time(), reason=reason)


def _capture_shm(shmid: int, reason: str) -> Backup:
    import ctypes

    stat = sysv.shm_stat(shmid)
    address = sysv.shmat(shmid, readonly=True)
    try:
        data = ctypes.string_at(address, stat.size)
    finally:
        sysv.shmdt(address)
    return Backup(**_common(stat, "shm", shmid, reason), size=stat.size, data=data)


def _capture_msg(msqid: int, reason: str, copy_messages: bool) -> Backup:
    stat = sysv.msg_stat(msqid)
    # A message is never longer than the bytes the queue holds in all.
    max_size = max(stat.cbytes, 1)
    messages: list[tuple[int, bytes]] = []
    received = not copy_messages
    try:
        while not received:
            messages.append(sysv.msg_copy(msqid, len(messages), max_size))
    except IpcError as error:
        if error.errno == errno.ENOSYS:
            received = True
        elif error.errno != errno.ENOMSG:
            raise
    if received:
        messages = _receive_all(msqid, max_size)
    return Backup(**_common(stat, "msg", msqid, reason), qbytes=stat.qbytes, messages=tuple(messages),
                  received=received)


def _receive_all(msqid: int, max_size: int) -> list[tuple[int, bytes]]:
    messages: list[tuple[int, bytes]] = []
    try:
        while True:
            messages.append(sysv.msgrcv(msqid, 0, max_size, nowait=True))
    except IpcError as error:
        if error.errno != errno.ENOMSG:
            put_back(msqid, messages)
            raise
    return messages


def put_back(msqid: int, messages: list[tuple[int, bytes]] | tuple[tuple[int, bytes], ...]) -> int:
    """Send received messages again, oldest first; returns how many could not be sent."""
    for index, (mtype, data) in enumerate(messages):
        try:
            sysv.msgsnd(msqid, mtype, data, nowait=True)
        except IpcError:
            return len(messages) - index
    return 0


def _capture_sem(semid: int, reason: str) -> Backup:
    stat = sysv.sem_stat(semid)
    return Backup(**_common(stat, "sem", semid, reason), values=sysv.sem_getall(semid, stat.nsems))


# --- files ------------------------------------------------------------------------


def to_json(backup: Backup) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kind": backup.kind,
        "id": backup.id,
        "key": backup.key,
        "key_hex": hex_key(backup.key),
        "mode": f"{backup.mode:04o}",
        "uid": backup.uid,
        "gid": backup.gid,
        "cuid": backup.cuid,
        "cgid": backup.cgid,
        "ctime": backup.ctime,
        "taken_at": backup.taken_at,
        "host": backup.host,
        "reason": backup.reason,
    }
    if backup.namespace:
        doc["ipc_namespace"] = backup.namespace
    if backup.kind == "shm":
        doc["size"] = backup.size
        doc["data"] = base64.b64encode(backup.data).decode("ascii")
    elif backup.kind == "msg":
        doc["qbytes"] = backup.qbytes
        doc["read_by"] = (
            "msgrcv: the messages were received, which empties a queue; restore sends them again"
            if backup.received
            else "msgrcv(MSG_COPY): the messages were copied and the queue left as it was"
        )
        doc["messages"] = [{"type": t, "data": base64.b64encode(d).decode("ascii")} for t, d in backup.messages]
    else:
        doc["nsems"] = len(backup.values)
        doc["values"] = list(backup.values)
    return doc


def write_backup(backup: Backup, directory: str | os.PathLike) -> Path:
    """Write `backup` into `directory` (made if missing) and return its path; raises BackupError."""
    folder = Path(directory)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(backup.taken_at))
    name = f"{backup.kind}-{backup.key:08x}-id{backup.id}-{stamp}"
    text = json.dumps(to_json(backup), indent=1) + "\n"
    temporary = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{name}.json"
        counter = 1
        while path.exists():
            counter += 1
            path = folder / f"{name}-{counter}.json"
        temporary = folder / f".{path.name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temporary, path)
        temporary = None
        directory_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
    except OSError as error:
        raise BackupError(f"cannot write a backup of {backup.label} in {folder}: {error.strerror or error}") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return path


def read_backup(path: str | os.PathLike) -> Backup:
    """The backup in `path`; raises BackupError naming what is wrong with the file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BackupError(f"{path} is not an ipctop backup: it is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError(f"{path} is not an ipctop backup: it has no \"format\": \"{FORMAT}\"")
    if doc.get("version") != VERSION:
        raise BackupError(f"{path} is a backup of version {doc.get('version')!r}; this ipctop reads version {VERSION}")
    try:
        return _from_json(doc)
    except (KeyError, TypeError, ValueError) as error:
        raise BackupError(f"{path} is a damaged ipctop backup: {_describe(error)}") from None


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the field {error.args[0]!r} is missing"
    return str(error) or type(error).__name__


def _number(doc: dict[str, Any], name: str, low: int = 0, high: int = 2**63) -> int:
    value = doc[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"the field {name!r} is not a number in {low}..{high}")
    return value


def _from_json(doc: dict[str, Any]) -> Backup:
    kind = doc["kind"]
    if kind not in ("shm", "msg", "sem"):
        raise ValueError(f"the kind {kind!r} is not shm, msg or sem")
    mode = int(doc["mode"], 8)
    if not 0 <= mode <= 0o777:
        raise ValueError(f"the mode {doc['mode']!r} is not a mode")
    common: dict[str, Any] = dict(
        kind=kind, id=_number(doc, "id"), key=_number(doc, "key", high=0xFFFFFFFF), mode=mode,
        uid=_number(doc, "uid", high=0xFFFFFFFF), gid=_number(doc, "gid", high=0xFFFFFFFF),
        cuid=_number(doc, "cuid", high=0xFFFFFFFF), cgid=_number(doc, "cgid", high=0xFFFFFFFF),
        ctime=_number(doc, "ctime"), taken_at=float(doc["taken_at"]), reason=str(doc.get("reason", "")),
        host=str(doc.get("host", "")), namespace=str(doc.get("ipc_namespace", "")),
    )
    if kind == "shm":
        data = base64.b64decode(doc["data"], validate=True)
        size = _number(doc, "size", low=1)
        if len(data) != size:
            raise ValueError(f"its data holds {len(data)} bytes, not the {size} of the segment")
        return Backup(**common, size=size, data=data)
    if kind == "msg":
        messages = tuple(
            (_number(m, "type", low=1), base64.b64decode(m["data"], validate=True)) for m in doc["messages"]
        )
        return Backup(**common, qbytes=_number(doc, "qbytes"), messages=messages,
                      received=str(doc.get("read_by", "")).startswith("msgrcv:"))
    values = doc["values"]
    if not isinstance(values, list) or not values or not all(
        isinstance(v, int) and 0 <= v <= sysv.SEMVMX for v in values
    ):
        raise ValueError(f"its values are not 1 or more numbers in 0..{sysv.SEMVMX}")
    return Backup(**common, values=tuple(values))
