"""Backups of System V objects: write one to a JSON file as it is read from the kernel, read one back.

One file per object, mode 0600 in a 0700 directory that only its owner may write
(a segment may hold secrets, and whoever can replace a backup chooses what root
later restores), written to a temporary name, fsynced and renamed, so a file that
exists is complete.  The file holds the metadata (key, mode, owner, creator, size
or set size, ctime) and the data: a segment's bytes (base64), a queue's messages
with their types (base64), a set's semaphore values.

Contents stream in pieces both ways: a segment is read from its attachment a
CHUNK at a time and written out as base64, and read back from the file
(backup_file.py) a piece at a time when restored; memory does not grow with the
object's size.

A queue is read with msgrcv(MSG_COPY), which copies messages without taking
them, so the queue is untouched if the backup cannot be written.  Kernels
without CONFIG_CHECKPOINT_RESTORE lack MSG_COPY; there the messages must be
received, which empties the queue: they are then kept in memory (at most the
queue's capacity) so that `put_back` can send them again if the backup or the
removal fails, and the backup says so.

POSIX shared memory, semaphores and queues are backed up in the same format
(the end of this file; cleanup/posix_backup.py reads them from the kernel and
makes them again): shared memory streams from its file, a queue's messages,
which POSIX cannot copy, are received and kept in memory as above.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import itertools
import json
import os
import socket
import stat as stat_mode
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from ipctop.cleanup import backup_file
from ipctop.cleanup.backup_file import ALLOWANCE, MESSAGE_ALLOWANCE, BackupFileError, Span, base64_length
from ipctop.kernel import posix, sysv
from ipctop.kernel.errors import IpcError
from ipctop.render.formatting import hex_key

FORMAT = "ipctop-backup"
POSIX_KINDS = ("pshm", "psem", "pmsg")
VERSION = 1


class BackupError(Exception):
    """A backup could not be written or read; str() is one sentence."""


@dataclass(frozen=True, slots=True)
class Backup:
    """One object's metadata and contents, as read from the kernel or from a file."""

    kind: str  # "shm", "msg" or "sem", or "pshm", "psem" or "pmsg"
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
    # POSIX objects (pshm, psem, pmsg; cleanup/posix_backup.py): the name, and a queue's capacity;
    # a queue's messages are (priority, bytes) in the order they are received
    name: str = ""
    max_messages: int = 0
    message_size: int = 0
    namespace: str = ""  # the name of its IPC namespace, when that was not ipctop's own
    source: _Source | None = None  # read from a file: the contents are read from it again, in pieces

    @property
    def label(self) -> str:
        if self.name:
            return f"{self.kind} {self.name}"
        return f"{self.kind} {self.id} (key {hex_key(self.key)})"

    def segment_chunks(self) -> Iterator[bytes]:
        """A segment's bytes, in pieces (from the file when read from one)."""
        if self.source is None:
            yield self.data
        else:
            yield from self.source.data_chunks()

    def each_message(self, send: Callable[[int, bytes], None]) -> None:
        """Call `send(type, data)` for each of a queue's messages, oldest first, one held at a time."""
        if self.source is None:
            for mtype, data in self.messages:
                send(mtype, data)
        else:
            self.source.each_message(send)


@dataclass(frozen=True, slots=True)
class _Source:
    """The file a Backup was read from, as it was then (so that a file changed since is noticed)."""

    path: str
    identity: tuple[int, int, int, int]  # device, inode, size, mtime_ns
    data: Span | None
    largest_message: int

    def _open(self) -> int:
        fd = _open_regular(self.path)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) != self.identity:
            os.close(fd)
            raise BackupFileError("it changed since it was read")
        return fd

    def data_chunks(self) -> Iterator[bytes]:
        if self.data is None:
            return
        fd = self._open()
        try:
            yield from backup_file.read_span(fd, self.data)
        finally:
            os.close(fd)

    def each_message(self, send: Callable[[int, bytes], None]) -> None:
        fd = self._open()
        try:
            backup_file.parse(fd, self.identity[2], _bound, on_message=send, max_message=self.largest_message)
        finally:
            os.close(fd)


# --- reading objects from the kernel -------------------------------------------

CHUNK = 3 * 1024 * 1024  # bytes of a segment read at a time: a multiple of 3 (base64 pieces join) and of pages


def capture(kind: str, ident: int, reason: str = "", copy_messages: bool = True) -> Backup:
    """Read a queue or a set whole (a queue holds at most its capacity); raises IpcError when the kernel
    refuses.  Segments are only ever streamed to a file: `save`.

    `copy_messages` False receives a queue's messages even where MSG_COPY works,
    as kernels without it must (the tests use it to exercise that path).
    """
    if kind == "msg":
        stat = sysv.msg_stat(ident)
        messages, received = _read_messages(ident, stat, copy_messages)
        return Backup(**_common(stat, "msg", ident, reason), qbytes=stat.qbytes, messages=tuple(messages),
                      received=received)
    if kind == "sem":
        stat = sysv.sem_stat(ident)
        return Backup(**_common(stat, "sem", ident, reason), values=sysv.sem_getall(ident, stat.nsems))
    raise ValueError(f"capture reads queues and sets, not {kind}: a segment is streamed by save()")


def _common(stat: sysv.IpcStat, kind: str, ident: int, reason: str, namespace: str = "") -> dict[str, Any]:
    return dict(kind=kind, id=ident, key=stat.key, mode=stat.mode & 0o777, uid=stat.uid, gid=stat.gid,
                cuid=stat.cuid, cgid=stat.cgid, ctime=stat.ctime, taken_at=time.time(), reason=reason,
                namespace=namespace)


def _read_messages(msqid: int, stat: sysv.MsgStat, copy: bool) -> tuple[list[tuple[int, bytes]], bool]:
    """Every message, copied (MSG_COPY) if it can be, else received (which empties the queue)."""
    max_size = max(stat.cbytes, 1)  # a message is never longer than the bytes the queue holds in all
    messages = list(_copies(msqid, max_size)) if copy else None
    if messages is not None:
        return messages, False
    return _receive_all(msqid, max_size), True


def _copies(msqid: int, max_size: int) -> Iterator[tuple[int, bytes]]:
    """Each message copied with MSG_COPY, oldest first; raises _NoCopy (before any) where it is missing."""
    index = 0
    while True:
        try:
            message = sysv.msg_copy(msqid, index, max_size)
        except IpcError as error:
            if error.errno == errno.ENOMSG:
                return
            if error.errno == errno.ENOSYS and index == 0:
                raise _NoCopy from None
            raise
        yield message
        index += 1


class _NoCopy(Exception):
    """This kernel has no MSG_COPY."""


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


# --- writing a backup file ---------------------------------------------------------

_READ_BY_COPY = "msgrcv(MSG_COPY): the messages were copied and the queue left as it was"
_READ_BY_RECEIVE = "msgrcv: the messages were received, which empties a queue; restore sends them again"


def _header(backup: Backup) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION, "kind": backup.kind, "id": backup.id, "key": backup.key,
        "key_hex": hex_key(backup.key), "mode": f"{backup.mode:04o}", "uid": backup.uid, "gid": backup.gid,
        "cuid": backup.cuid, "cgid": backup.cgid, "ctime": backup.ctime, "taken_at": backup.taken_at,
        "host": backup.host, "reason": backup.reason,
    } | ({"ipc_namespace": backup.namespace} if backup.namespace else {})


def _field(out: IO[bytes], name: str, value: Any, first: bool = False) -> None:
    out.write(("" if first else ",\n ").encode() + f"{json.dumps(name)}: {json.dumps(value)}".encode())


def _write_messages(out: IO[bytes], messages: Iterator[tuple[int, bytes]] | list[tuple[int, bytes]]) -> None:
    out.write(b',\n "messages": [')
    for index, (mtype, data) in enumerate(messages):
        out.write((", " if index else "").encode() + b'{"type": ' + str(mtype).encode() + b', "data": "')
        out.write(base64.b64encode(data))
        out.write(b'"}')
    out.write(b"]")


def save(kind: str, ident: int, directory: str | os.PathLike, reason: str = "",
         copy_messages: bool = True, namespace: str = "") -> tuple[Path, Backup]:
    """Back object `ident` up into a new file in `directory`, streaming its contents; (path, metadata).

    Raises IpcError when the kernel refuses to let it be read, BackupError when the
    file cannot be written (then a queue whose messages had to be received gets them
    back, and nothing is left in `directory`).
    """
    folder = Path(directory)
    with _new_file(folder, kind, ident) as (out, finish):
        backup = _stream(kind, ident, reason, out, copy_messages, namespace)
        try:
            out.write(b"\n}\n")
            path = finish(backup)
        except BackupError:
            if backup.received and backup.messages:
                lost = put_back(ident, backup.messages)
                if lost:
                    raise BackupError(f"cannot write a backup of {backup.label} in {folder}, and {lost} of the "
                                      "messages received for it could not be sent back") from None
            raise
    return path, backup


def _stream(kind: str, ident: int, reason: str, out: IO[bytes], copy_messages: bool, namespace: str = "") -> Backup:
    if kind == "shm":
        stat = sysv.shm_stat(ident)
        backup = Backup(**_common(stat, "shm", ident, reason, namespace), size=stat.size)
        _write_header(out, backup)
        _field(out, "size", stat.size)
        out.write(b',\n "data": "')
        address = sysv.shmat(ident, readonly=True)
        try:
            for offset in range(0, stat.size, CHUNK):
                length = min(CHUNK, stat.size - offset)
                out.write(base64.b64encode(ctypes.string_at(address + offset, length)))
                sysv.let_go(address + offset, length)
        finally:
            sysv.shmdt(address)
        out.write(b'"')
        return backup
    if kind == "sem":
        backup = replace(capture("sem", ident, reason), namespace=namespace)
        _write_header(out, backup)
        _field(out, "nsems", len(backup.values))
        _field(out, "values", list(backup.values))
        return backup
    stat = sysv.msg_stat(ident)
    backup = Backup(**_common(stat, "msg", ident, reason, namespace), qbytes=stat.qbytes)
    _write_header(out, backup)
    _field(out, "qbytes", stat.qbytes)
    max_size = max(stat.cbytes, 1)
    if copy_messages:
        copies = _copies(ident, max_size)
        try:
            first = list(itertools.islice(copies, 1))  # raises _NoCopy before anything is written
        except _NoCopy:
            pass
        else:
            _write_messages(out, itertools.chain(first, copies))  # one message in memory at a time
            _field(out, "read_by", _READ_BY_COPY)
            return backup
    received = _receive_all(ident, max_size)
    backup = Backup(**{**_common(stat, "msg", ident, reason, namespace), "taken_at": backup.taken_at},
                    qbytes=stat.qbytes, messages=tuple(received), received=True)
    _write_messages(out, received)
    _field(out, "read_by", _READ_BY_RECEIVE)
    return backup


def _write_header(out: IO[bytes], backup: Backup) -> None:
    out.write(b"{")
    for index, (name, value) in enumerate(_header(backup).items()):
        _field(out, name, value, first=index == 0)


@contextlib.contextmanager
def _new_file(folder: Path, kind: str, ident: int):  # type: ignore[no-untyped-def]
    """A temporary file in `folder` to write to, and `finish(backup)`: fsync, give it its name, return it."""
    temporary: Path | None = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = folder / f".{kind}-id{ident}-{os.getpid()}-{time.monotonic_ns()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise BackupError(f"cannot write a backup of {kind} {ident} in {folder}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as out:

            def finish(backup: Backup) -> Path:
                nonlocal temporary
                try:
                    out.flush()
                    os.fsync(out.fileno())
                    path = _free_name(folder, backup)
                    os.rename(temporary, path)  # type: ignore[arg-type]
                    temporary = None
                    _sync_directory(folder)
                except OSError as error:
                    raise BackupError(f"cannot write a backup of {backup.label} in {folder}: "
                                      f"{error.strerror or error}") from None
                return path

            try:
                yield out, finish
            except OSError as error:
                raise BackupError(f"cannot write a backup of {kind} {ident} in {folder}: "
                                  f"{error.strerror or error}") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _free_name(folder: Path, backup: Backup) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(backup.taken_at))
    name = f"{backup.kind}-{backup.key:08x}-id{backup.id}-{stamp}"
    if backup.name:
        name = f"{backup.kind}-{backup.name.lstrip('/')}-{stamp}"
    path = folder / f"{name}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{name}-{counter}.json"
    return path


def _sync_directory(folder: Path) -> None:
    directory_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def check_directory(directory: str | os.PathLike) -> None:
    """Refuse a backup directory that someone else could write in; BackupError says why and how to fix it.

    Whoever can replace a file in it chooses what is restored later (by root, often).
    It must be this user's own and writable by nobody else; a symbolic link to it
    must be this user's own too.
    """
    from ipctop.collectors.processes import user_name

    me = os.geteuid()
    path = os.fspath(directory)
    try:
        link = os.lstat(path)
        info = os.stat(path)
    except OSError as error:
        raise BackupError(f"cannot use {path!r} for backups: {error.strerror or error}") from None
    if not stat_mode.S_ISDIR(info.st_mode):
        raise BackupError(f"{path!r} is not a directory")
    for what, owner in (("the symbolic link", link.st_uid if stat_mode.S_ISLNK(link.st_mode) else me),
                        ("it", info.st_uid)):
        if owner != me:
            raise BackupError(
                f"{path!r}: {what} belongs to {user_name(owner)} (uid {owner}), not to you (uid {me}), who could "
                f"replace a backup before it is restored; use a directory of your own (mkdir -m 700 DIR)"
            )
    if info.st_mode & 0o022:
        raise BackupError(
            f"{path!r} may be written by its group or by others (mode {info.st_mode & 0o7777:04o}), who could "
            f"replace a backup before it is restored; make it yours alone (chmod go-w {path}) or use another"
        )


# --- reading a backup file -----------------------------------------------------------


def _open_regular(path: str | os.PathLike) -> int:
    """Open for reading without blocking (a FIFO would wait for a writer) and only if a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise BackupFileError(error.strerror or str(error)) from None
    info = os.fstat(fd)
    if not stat_mode.S_ISREG(info.st_mode):
        os.close(fd)
        raise BackupFileError(f"it is not a regular file but {_file_kind(info.st_mode)}")
    return fd


def _file_kind(mode: int) -> str:
    for test, name in ((stat_mode.S_ISFIFO, "a FIFO"), (stat_mode.S_ISDIR, "a directory"),
                       (stat_mode.S_ISCHR, "a character device"), (stat_mode.S_ISBLK, "a block device"),
                       (stat_mode.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _bound(fields: dict[str, Any]) -> int | None:
    """The largest a backup of the object that `fields` describe can be (None: not known yet)."""
    kind = fields.get("kind")
    if kind in POSIX_KINDS:
        return _posix_bound(fields)
    if kind == "shm":
        size = fields.get("size")
        return ALLOWANCE + base64_length(size) if type(size) is int and size >= 0 else None
    if kind == "msg":
        qbytes = fields.get("qbytes")
        # The messages hold at most qbytes bytes, and a queue at most qbytes messages.
        return ALLOWANCE + base64_length(qbytes) + MESSAGE_ALLOWANCE * (qbytes + 1) \
            if type(qbytes) is int and qbytes >= 0 else None
    if kind == "sem":
        return ALLOWANCE + 16 * backup_file.MAX_VALUES
    return None


def read_backup(path: str | os.PathLike) -> Backup:
    """The backup in `path` (its contents are read again, in pieces, when restored); raises BackupError
    naming what is wrong with the file, in one sentence."""
    try:
        fd = _open_regular(path)
    except BackupFileError as error:
        raise BackupError(f"cannot read {os.fspath(path)}: {error}") from None
    try:
        info = os.fstat(fd)
        try:
            parsed = backup_file.parse(fd, info.st_size, _bound)
        except UnicodeDecodeError:
            raise BackupFileError("it is not JSON") from None
        except OSError as error:
            raise BackupFileError(f"it cannot be read: {(error.strerror or str(error)).lower()}") from None
    except BackupFileError as error:
        raise BackupError(f"{os.fspath(path)} is not a valid ipctop backup: {error}") from None
    finally:
        os.close(fd)
    doc = parsed.fields
    if doc.get("format") != FORMAT:
        raise BackupError(f"{os.fspath(path)} is not an ipctop backup: it has no \"format\": \"{FORMAT}\"")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise BackupError(f"{os.fspath(path)} is a backup of version {version!r}; this ipctop reads version {VERSION}")
    source = _Source(os.fspath(path), (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns), parsed.data,
                     parsed.largest_message)
    try:
        return _from_fields(doc, parsed, source)
    except (KeyError, TypeError, ValueError) as error:
        raise BackupError(f"{os.fspath(path)} is a damaged ipctop backup: {_describe(error)}") from None


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the field {error.args[0]!r} is missing"
    return str(error) or type(error).__name__


def _number(doc: dict[str, Any], name: str, low: int = 0, high: int = 2**63) -> int:
    value = doc[name]
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"the field {name!r} is not a whole number in {low}..{high}")
    return value


def _text(doc: dict[str, Any], name: str, default: str | None = None) -> str:
    value = doc.get(name, default) if default is not None else doc[name]
    if type(value) is not str:
        raise ValueError(f"the field {name!r} is not a text")
    return value


def _from_fields(doc: dict[str, Any], parsed: backup_file.Parsed, source: _Source) -> Backup:
    kind = _text(doc, "kind")
    if kind not in ("shm", "msg", "sem", *POSIX_KINDS):
        raise ValueError(f"the kind {kind!r} is not shm, msg, sem, pshm, psem or pmsg")
    mode_text = _text(doc, "mode")
    if not (mode_text.isascii() and mode_text.isdigit() and set(mode_text) <= set("01234567")) or \
            int(mode_text, 8) > 0o777:
        raise ValueError(f"the mode {mode_text!r} is not a mode (octal, up to 0777)")
    taken_at = doc.get("taken_at", 0)
    if type(taken_at) not in (int, float) or not 0 <= taken_at < 2**53:
        raise ValueError("the field 'taken_at' is not a time")
    common: dict[str, Any] = dict(
        kind=kind, id=_number(doc, "id", high=2**63 if kind in POSIX_KINDS else 2**31),  # POSIX: an inode
        key=_number(doc, "key", high=0xFFFFFFFF),
        mode=int(mode_text, 8), uid=_number(doc, "uid", high=0xFFFFFFFF), gid=_number(doc, "gid", high=0xFFFFFFFF),
        cuid=_number(doc, "cuid", high=0xFFFFFFFF), cgid=_number(doc, "cgid", high=0xFFFFFFFF),
        ctime=_number(doc, "ctime", high=2**53), taken_at=float(taken_at), reason=_text(doc, "reason", ""),
        host=_text(doc, "host", ""), namespace=_text(doc, "ipc_namespace", ""),
    )
    if kind in POSIX_KINDS:
        return _posix_from_fields(doc, parsed, source, common)
    if kind == "shm":
        size = _number(doc, "size", low=1)
        if parsed.data is None:
            raise KeyError("data")
        if parsed.data.decoded != size:
            raise ValueError(f"its data holds {parsed.data.decoded} bytes, not the {size} of the segment")
        return Backup(**common, size=size, source=source)
    if kind == "msg":
        qbytes = _number(doc, "qbytes")
        if parsed.message_bytes > qbytes:
            raise ValueError(f"its messages hold {parsed.message_bytes} bytes, more than the queue's {qbytes}")
        read_by = _text(doc, "read_by", "")
        return Backup(**common, qbytes=qbytes, received=read_by.startswith("msgrcv:"), source=source)
    values = doc.get("values")
    if not isinstance(values, list) or not values or not all(
        type(v) is int and 0 <= v <= sysv.SEMVMX for v in values
    ):
        raise ValueError(f"its values are not 1 or more whole numbers in 0..{sysv.SEMVMX}")
    return Backup(**common, values=tuple(values), source=source)


# --- POSIX objects (cleanup/posix_backup.py reads and restores them) ---------------------
#
# The same file: the header, then "name", and a shared memory object's "size" and "data"
# (streamed), a semaphore's "value", or a queue's "max_messages", "message_size" and
# "messages" with their priorities.

_READ_BY_MQ_RECEIVE = "mq_receive: the messages were received, which empties a queue; restore sends them again"


def write_backup(backup: Backup, directory: str | os.PathLike, chunks: Iterable[bytes] | None = None) -> Path:
    """Write the backup of a POSIX object into a new file in `directory`; its bytes (shared memory) are
    `chunks` when given (read as they are written), else `backup.data`.  Raises BackupError."""
    folder = Path(directory)
    with _new_file(folder, backup.kind, backup.id) as (out, finish):
        _write_header(out, backup)
        _field(out, "name", backup.name)
        if backup.kind == "pshm":
            _field(out, "size", backup.size)
            out.write(b',\n "data": "')
            written = 0
            for piece in (chunks if chunks is not None else (backup.data,)):
                out.write(base64.b64encode(piece))
                written += len(piece)
            if written != backup.size:
                raise BackupError(f"cannot back {backup.label} up: it held {written} bytes, not {backup.size}, "
                                  "when read (it changed meanwhile)")
            out.write(b'"')
        elif backup.kind == "psem":
            _field(out, "value", backup.values[0])
        else:
            _field(out, "max_messages", backup.max_messages)
            _field(out, "message_size", backup.message_size)
            _field(out, "read_by", _READ_BY_MQ_RECEIVE)
            out.write(b',\n "messages": [')
            for index, (priority, data) in enumerate(backup.messages):
                out.write((", " if index else "").encode() + b'{"priority": ' + str(priority).encode()
                          + b', "data": "' + base64.b64encode(data) + b'"}')
            out.write(b"]")
        out.write(b"\n}\n")
        return finish(backup)


def _posix_bound(fields: dict[str, Any]) -> int | None:
    kind = fields.get("kind")
    if kind == "pshm":
        size = fields.get("size")
        return ALLOWANCE + base64_length(size) if type(size) is int and size >= 0 else None
    if kind == "psem":
        return ALLOWANCE
    count, size = fields.get("max_messages"), fields.get("message_size")
    if type(count) is int and type(size) is int and count >= 0 and size >= 0:
        return ALLOWANCE + count * (base64_length(size) + MESSAGE_ALLOWANCE)
    return None


def _posix_from_fields(doc: dict[str, Any], parsed: backup_file.Parsed, source: _Source,
                       common: dict[str, Any]) -> Backup:
    from ipctop.actions.posix_values import parse_name
    from ipctop.actions.validators import ValidationError

    try:
        name = parse_name(_text(doc, "name"), common["kind"], field="name")
    except ValidationError as error:
        raise ValueError(str(error)) from None
    common = {**common, "name": name}
    if common["kind"] == "pshm":
        size = _number(doc, "size")
        if size and parsed.data is None:
            raise KeyError("data")
        decoded = parsed.data.decoded if parsed.data is not None else 0
        if decoded != size:
            raise ValueError(f"its data holds {decoded} bytes, not the {size} of the object")
        return Backup(**common, size=size, source=source)
    if common["kind"] == "psem":
        return Backup(**common, values=(_number(doc, "value", high=posix.SEM_VALUE_MAX),))
    count, size = _number(doc, "max_messages", low=1), _number(doc, "message_size", low=1)
    if parsed.messages > count or parsed.largest_message > size:
        raise ValueError(f"its messages ({parsed.messages}, the largest {parsed.largest_message} bytes) do not fit "
                         f"the queue's {count} of {size} bytes")
    return Backup(**common, received=True, max_messages=count, message_size=size, source=source)
