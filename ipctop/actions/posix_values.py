"""Turn user text into checked values for the POSIX actions, before anything is asked of the kernel.

Like validators.py: every parser raises ValidationError with one sentence naming
the field and the problem, and nothing here changes anything (the existence
checks list /dev/shm, or the mounted mqueue filesystem).
"""

from __future__ import annotations

import os
import stat

from ipctop.actions.validators import ValidationError, _in_range, _integer, show
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel import posix

MQ_PRIO_MAX = 32768  # priorities are 0..MQ_PRIO_MAX-1
SET_STEPS_MAX = 100_000  # psem set reaches a value by posts or waits: at most this many
NOUNS = {"pshm": "POSIX shared memory object", "psem": "named semaphore", "pmsg": "message queue"}


def parse_name(text: str, kind: str, field: str = "NAME") -> str:
    """A POSIX name as shm_open, sem_open and mq_open take it: `/name` or `name`, one component."""
    name = text.strip()
    body = name[1:] if name.startswith("/") else name
    limit = posix.NAME_MAX - len(posix.SEM_PREFIX) if kind == "psem" else posix.NAME_MAX
    if not body:
        raise ValidationError(field, "the name is empty; give one such as /jobs")
    if "/" in body:
        raise ValidationError(field, f"{show(text)} has a / after the first character; POSIX names are one "
                                     "component such as /jobs")  # fmt: skip
    if body in (".", ".."):
        raise ValidationError(field, f"{show(text)} is not a name an object can have")
    if "\0" in body:
        raise ValidationError(field, "the name contains a NUL byte")
    if len(os.fsencode(body)) > limit:
        raise ValidationError(field, f"the name is longer than {limit} bytes")
    return "/" + body


def _file_of(kind: str, name: str) -> str:
    return posix.sem_path(name) if kind == "psem" else posix.shm_path(name)


def existing_name(text: str, kind: str, field: str = "NAME") -> str:
    """The name of a POSIX shm object or named semaphore that exists now (a regular file in /dev/shm)."""
    name = parse_name(text, kind, field)
    try:
        st = os.lstat(_file_of(kind, name))
    except OSError:
        raise ValidationError(field, f"no {NOUNS[kind]} is named {name}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValidationError(field, f"{_file_of(kind, name)} is not a regular file, so not a {NOUNS[kind]}")
    return name


def existing_queue(text: str, field: str = "NAME", proc: ProcFS | None = None) -> str:
    """The name of a message queue; checked to exist where the mqueue filesystem is mounted
    (elsewhere mq_open says ENOENT, in one sentence too)."""
    from ipctop.collectors.posix import find_places

    name = parse_name(text, "pmsg", field)
    point = find_places(proc or ProcFS()).mqueue_point
    if point is not None and not os.path.lexists(f"{point}{name}"):
        raise ValidationError(field, f"no message queue is named {name}")
    return name


def shm_size(name: str) -> int:
    try:
        return os.lstat(posix.shm_path(name)).st_size
    except OSError:
        raise ValidationError("NAME", f"no POSIX shared memory object is named {name}") from None


def parse_shm_size(text: str, field: str = "--size") -> int:
    """A new object's size in bytes (or with K, M, G), 1 .. the size of /dev/shm."""
    from ipctop.actions.validators import _LONGEST_NUMBER, _SIZE, _SIZE_UNITS

    match = _SIZE.fullmatch(text.strip()) if len(text) <= _LONGEST_NUMBER else None
    if not match:
        raise ValidationError(field, f"{show(text)} is not a size in bytes (such as 4096, 64K or 1M)")
    number, unit = match.groups()
    size = int(number, 16 if number[:2].lower() == "0x" else 10) * _SIZE_UNITS[unit.lower()]
    if size < 1:
        raise ValidationError(field, "an object must be at least 1 byte")
    try:
        vfs = os.statvfs(posix.DEV_SHM)
        room = vfs.f_blocks * vfs.f_frsize
    except OSError:
        room = 0
    if room and size > room:
        raise ValidationError(field, f"{show(text.strip())} is larger than /dev/shm ({room} bytes)")
    return size


def _read_limit(name: str, default: int) -> int:
    try:
        with open(f"/proc/sys/fs/mqueue/{name}") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def parse_max_messages(text: str, field: str = "--max-messages") -> int:
    """mq_maxmsg: 1..fs/mqueue/msg_max (root may go above, up to HARD_MSGMAX, 65536)."""
    value = _integer(text, field, "a number of messages", allow_hex=False)
    high = 65536 if os.geteuid() == 0 else _read_limit("msg_max", 10)
    return _in_range(value, 1, high, field, text, "queue capacities (fs/mqueue/msg_max)")


def parse_message_size(text: str, field: str = "--message-size") -> int:
    """mq_msgsize: 1..fs/mqueue/msgsize_max (root: up to HARD_MSGSIZEMAX, 16 MiB)."""
    value = _integer(text, field, "a message size in bytes", allow_hex=False)
    high = 16 << 20 if os.geteuid() == 0 else _read_limit("msgsize_max", 8192)
    return _in_range(value, 1, high, field, text, "message sizes (fs/mqueue/msgsize_max)")


def parse_priority(text: str, field: str = "--priority") -> int:
    value = _integer(text, field, "a priority (a whole number)", allow_hex=False)
    return _in_range(value, 0, MQ_PRIO_MAX - 1, field, text, "priorities (0..MQ_PRIO_MAX-1)")


def parse_posix_sem_value(text: str, field: str = "VALUE") -> int:
    value = _integer(text, field, "a semaphore value (a whole number)", allow_hex=False)
    return _in_range(value, 0, posix.SEM_VALUE_MAX, field, text, "semaphore values (0..SEM_VALUE_MAX)")


def parse_count(text: str, field: str = "--count") -> int:
    value = _integer(text, field, "a number of posts", allow_hex=False)
    return _in_range(value, 1, SET_STEPS_MAX, field, text, "posts at once")


def parse_timeout(text: str | None, field: str = "--timeout") -> float | None:
    """Seconds to wait (0 or more, fractions allowed); None waits as long as it takes."""
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise ValidationError(field, f"{show(text)} is not a number of seconds") from None
    if not 0 <= seconds <= 86400 * 365:
        raise ValidationError(field, f"{show(text)} is outside 0..31536000 seconds")
    return seconds
