"""The record each running demo keeps in /tmp, so that what a killed demo left behind is found and removed.

A demo process opens `/tmp/ipctop-demo-XXXXXXXX.run` when it starts and holds an
exclusive flock(2) on it all its life.  The processes it forks share that open
file, so the lock is free only once every process of the demo has exited, however
they ended (SIGKILL included).  Before the demo makes an IPC object it appends
the key to the record, before it makes a file the path, and when it leaves an
object behind on purpose (shm-leak) that too; at its normal end it removes all it
made and then the record.

So a record whose lock anyone can take is a demo whose processes are all gone:
positive evidence that nothing of the demo will use its objects again.
`read_claims` tells the keys of live and of dead demos apart (for `ipctop clean`);
`sweep` removes what dead demos left (the next demo calls it when it starts).
A key or path that a record not known to be dead lists is never touched: a demo
that starts while the sweep runs claims its keys before it makes anything.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import random
import shutil
import string
import tempfile
from dataclasses import dataclass, field

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError

PREFIX = "ipctop-demo-"  # the demos' temporary directories and FIFOs start with it too
SUFFIX = ".run"
_NAME_CHARS = string.ascii_lowercase + string.digits
_KINDS = ("shm", "msg", "sem")
_RECORD_FD = 200  # the lowest descriptor number the record is kept at in a demo's processes


def temp_root() -> str:
    return tempfile.gettempdir()


def fresh_path(prefix: str = PREFIX, suffix: str = "") -> str:
    """A name in the temporary directory that nothing has now (to record before making it)."""
    while True:
        name = "".join(random.choices(_NAME_CHARS, k=8))
        path = os.path.join(temp_root(), f"{prefix}{name}{suffix}")
        if not os.path.lexists(path):
            return path


@dataclass
class Record:
    """What one demo wrote: keys by kind, objects kept on purpose, paths."""

    path: str
    keys: dict[str, set[int]] = field(default_factory=lambda: {kind: set() for kind in _KINDS})
    kept: set[tuple[str, int]] = field(default_factory=set)
    paths: list[str] = field(default_factory=list)

    @property
    def all_keys(self) -> set[int]:
        return set().union(*self.keys.values())


def _parse(path: str, text: str) -> Record:
    record = Record(path)
    for line in text.splitlines():
        fields = line.split(" ", 2)
        with contextlib.suppress(ValueError, IndexError, KeyError):
            if fields[0] == "key" and fields[1] in _KINDS:
                record.keys[fields[1]].add(int(fields[2], 16))
            elif fields[0] == "kept" and fields[1] in _KINDS:
                record.kept.add((fields[1], int(fields[2], 16)))
            elif fields[0] == "path":
                record.paths.append(line[len("path ") :])
    return record


class RunRecord:
    """The record of the running demo: open it first thing, write to it before making anything."""

    def __init__(self) -> None:
        for _ in range(100):
            path = fresh_path(suffix=SUFFIX)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                continue
            os.fchmod(fd, 0o644)  # whatever the umask: anyone's `ipctop clean` may read it and test the lock
            # Out of the way of the low numbers the lessons show (a FIFO opened as fd 3, as in C),
            # where the limit of open files allows it.
            with contextlib.suppress(OSError):
                high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _RECORD_FD)
                os.close(fd)
                fd = high
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while a sweep that took it for dead holds it
            if _names(fd, path):
                self.location, self.fd = path, fd
                return
            os.close(fd)  # a sweep removed it meanwhile: take another name
        raise OSError(errno.EEXIST, "no free name for the demo's record", temp_root())

    def _write(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def key(self, kind: str, key: int) -> None:
        """Before making an object of `kind` with `key` (or letting a child make it)."""
        self._write(f"key {kind} {key:#010x}")

    def kept(self, kind: str, key: int) -> None:
        self._write(f"kept {kind} {key:#010x}")

    def path(self, path: str) -> None:
        """Before making the file or directory `path`."""
        self._write(f"path {path}")

    def close(self) -> None:
        """At the demo's end, once it removed everything: the record goes, then the lock."""
        with contextlib.suppress(OSError):
            if _names(self.fd, self.location):
                os.unlink(self.location)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _names(fd: int, path: str) -> bool:
    """`path` is still the file open as `fd` (not removed, not replaced)."""
    try:
        held, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _record_paths() -> list[str]:
    return sorted(glob.glob(os.path.join(glob.escape(temp_root()), f"{PREFIX}*{SUFFIX}")))


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


@contextlib.contextmanager
def _dead_records():  # type: ignore[no-untyped-def]
    """Yield (dead, others): the records whose lock this process took (held until the end of the
    block: no demo can be using them), and the text of every other record, read afterwards."""
    held: list[tuple[int, Record]] = []
    try:
        for path in _record_paths():
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if not _names(fd, path):
                os.close(fd)
                continue
            held.append((fd, _parse(path, _read(path))))
        ours = {record.path for _, record in held}
        others = []
        for path in _record_paths():
            if path not in ours:
                with contextlib.suppress(OSError):
                    others.append(_parse(path, _read(path)))
        yield [record for _, record in held], others
    finally:
        for fd, _ in held:
            os.close(fd)


@dataclass(frozen=True, slots=True)
class Claims:
    """Keys and paths recorded by running demos and by demos whose processes are all gone."""

    live_keys: frozenset[int] = frozenset()
    dead_keys: frozenset[int] = frozenset()
    dead_paths: tuple[str, ...] = ()  # what dead demos made that still exists


def read_claims() -> Claims:
    """What every demo record claims (nothing is removed; a dead record's lock is let go at once)."""
    with _dead_records() as (dead, others):
        live_keys = frozenset().union(*(record.all_keys for record in others))
        dead_keys = frozenset().union(*(record.all_keys - {k for _, k in record.kept} for record in dead))
        paths = tuple(path for record in dead for path in record.paths
                      if os.path.lexists(path) and _is_demo_path(path))
    return Claims(live_keys=live_keys, dead_keys=dead_keys - live_keys, dead_paths=paths)


def _is_demo_path(path: str) -> bool:
    """Only what a demo makes: a file or directory named ipctop-demo-* in the temporary directory, or in one."""
    parent = os.path.dirname(path)
    if os.path.basename(path).startswith(PREFIX) and parent == temp_root():
        return True
    return os.path.basename(parent).startswith(PREFIX) and os.path.dirname(parent) == temp_root()


def _objects_with_key(kind: str, key: int) -> list[int]:
    ids = []
    with contextlib.suppress(OSError), open(f"/proc/sysvipc/{kind}") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields and int(fields[0]) & 0xFFFFFFFF == key:
                ids.append(int(fields[1]))
    return ids


_STAT = {"shm": sysv.shm_stat, "msg": sysv.msg_stat, "sem": sysv.sem_stat}
_REMOVE = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}


def _remove_object(kind: str, ident: int, key: int) -> bool:
    """IPC_RMID if `ident` still has `key` and, for a segment, nobody has it attached."""
    try:
        stat = _STAT[kind](ident)
        if stat.key != key or (isinstance(stat, sysv.ShmStat) and stat.nattch):
            return False
        _REMOVE[kind](ident)
    except IpcError:
        return False
    return True


def _remove_path(path: str) -> bool:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


def _claimed_now(key: int, held: list[Record]) -> bool:
    """Whether a record other than the dead ones this sweep holds lists `key` now."""
    ours = {record.path for record in held}
    for path in _record_paths():
        if path not in ours:
            with contextlib.suppress(OSError):
                if key in _parse(path, _read(path)).all_keys:
                    return True
    return False


def sweep(objects: bool = True, paths: bool = True) -> list[str]:
    """Remove what demos whose processes are all gone left behind; return what was removed.

    Objects (`objects`), then files and directories (`paths`), then the record
    itself.  A key or path that another record lists (a live demo's, or one that
    appeared meanwhile) is left alone, and so is what a demo kept on purpose.
    Without `objects` (for `ipctop clean`, which removes objects by its own rules)
    or `paths`, a record is removed only once none of its keys names an object and
    none of its paths exists any more.
    """
    removed: list[str] = []
    with _dead_records() as (dead, others):
        protected_keys = set().union(*(record.all_keys for record in others))
        protected_paths = {path for record in others for path in record.paths}
        for record in dead:
            kept_keys = {key for _, key in record.kept}
            left = False
            for kind, keys in record.keys.items():
                for key in sorted(keys - kept_keys - protected_keys):
                    for ident in _objects_with_key(kind, key):
                        # A demo that started meanwhile wrote the key before it made an object with it:
                        # read the records again now that an object is there.
                        if objects and not _claimed_now(key, held=dead) and _remove_object(kind, ident, key):
                            removed.append(f"{kind} {ident} (key {key:#010x})")
                        else:
                            left = True
            for path in reversed(record.paths):
                if not os.path.lexists(path):
                    continue
                if paths and path not in protected_paths and _is_demo_path(path) and _remove_path(path):
                    removed.append(path)
                else:
                    left = True
            if not left:
                with contextlib.suppress(OSError):
                    os.unlink(record.path)
    return removed
