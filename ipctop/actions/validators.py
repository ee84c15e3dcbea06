"""Turn user text into typed, checked values before anything is asked of the kernel.

Every parser takes the text as typed and a `field` name (an option such as
`--size` on the command line, a label in a form) and returns a typed value or
raises ValidationError, whose str() is one sentence naming the field and the
problem.  Nothing here changes anything: the checks that need the system read
/proc (limits, /proc/sysvipc, /proc/PID) or make read-only calls.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import signal
from dataclasses import dataclass

from ipctop.collectors.limits import read_limits
from ipctop.collectors.procfs import ProcFS
from ipctop.collectors.sysvipc import MsgRow, SemRow, ShmRow, read_msg, read_sem, read_shm
from ipctop.kernel import sysv
from ipctop.model import Limits

KEY_MAX = 0xFFFF_FFFF
LONG_MAX = (1 << 63) - 1
ID_MAX = (1 << 31) - 1
ID_T_MAX = (1 << 32) - 2  # uid_t / gid_t; (uid_t)-1 means "unchanged" to the kernel
PID_MAX_LIMIT = 4_194_304  # the largest pid_max Linux allows
SEMVMX = sysv.SEMVMX
OBJECT_NAMES = {"shm": "segment", "msg": "queue", "sem": "semaphore set"}

_DECIMAL = re.compile(r"[+-]?[0-9]+")
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")
_MODE = re.compile(r"(?:0[oO]?)?([0-7]{1,4})")
_SIZE = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]+)\s*([kKmMgG]?)(?:i?[bB])?")
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_LONGEST_NUMBER = 40  # anything longer is not a number a user meant


class ValidationError(ValueError):
    """A value a user typed cannot be used; str() is one sentence for the user."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def show(text: str, limit: int = 40) -> str:
    """Quote user text for a message: escaped, and cut short when long."""
    return repr(text[:limit] + "…") if len(text) > limit else repr(text)


def _integer(text: str, field: str, what: str, *, allow_hex: bool = True) -> int:
    stripped = text.strip()
    if len(stripped) <= _LONGEST_NUMBER:
        if allow_hex and _HEX.fullmatch(stripped):
            return int(stripped, 16)
        if _DECIMAL.fullmatch(stripped):
            return int(stripped, 10)
    raise ValidationError(field, f"{show(text)} is not {what}")


def _in_range(value: int, low: int, high: int, field: str, text: str, what: str) -> int:
    if not low <= value <= high:
        raise ValidationError(field, f"{show(text.strip())} is outside {low}..{high}, the range of {what}")
    return value


def current_limits(limits: Limits | None = None) -> Limits:
    return limits if limits is not None else read_limits(ProcFS())


# --- keys --------------------------------------------------------------------


def parse_key(text: str, field: str = "key") -> int:
    """A System V key: hex (0x1234) or decimal, 1..0xffffffff (0 is IPC_PRIVATE)."""
    key = _integer(text, field, "a key in hex (0x1234) or decimal")
    if key == 0:
        raise ValidationError(field, "0 is IPC_PRIVATE, not a key; ask for a private object instead")
    if not 0 < key <= KEY_MAX:
        raise ValidationError(field, f"{show(text.strip())} does not fit in 32 bits (0x1..0xffffffff)")
    return key


def parse_project_id(text: str, field: str = "project id") -> int:
    """ftok's project id: a number 1..255, or one character as in ftok(path, 'A')."""
    stripped = text.strip()
    if len(stripped) == 1 and not stripped.isdigit() and 0 < ord(stripped) <= 255:
        return ord(stripped)
    value = _integer(text, field, "a project id (1..255, or one character)")
    return _in_range(value, 1, 255, field, text, "ftok project ids")


def parse_ftok(path: str, project: str, field: str = "ftok") -> int:
    """The key ftok(3) makes from an existing file and a project id (glibc's formula)."""
    proj_id = parse_project_id(project, f"{field} project id")
    if not path:
        raise ValidationError(f"{field} path", "the path is empty")
    try:
        st = os.stat(path)
    except (OSError, ValueError) as error:
        reason = error.strerror.lower() if isinstance(error, OSError) and error.strerror else "it cannot be used"
        raise ValidationError(f"{field} path", f"{show(path)} cannot be used: {reason}") from None
    return ((proj_id & 0xFF) << 24) | ((st.st_dev & 0xFF) << 16) | (st.st_ino & 0xFFFF)


# --- shared memory -----------------------------------------------------------


def parse_size(text: str, limits: Limits | None = None, field: str = "size") -> int:
    """A segment size in bytes (or with K, M, G), 1..shmmax."""
    match = _SIZE.fullmatch(text.strip()) if len(text) <= _LONGEST_NUMBER else None
    if not match:
        raise ValidationError(field, f"{show(text)} is not a size in bytes (such as 4096, 64K or 1M)")
    number, unit = match.groups()
    size = int(number, 16 if number[:2].lower() == "0x" else 10) * _SIZE_UNITS[unit.lower()]
    shmmax = current_limits(limits).shmmax
    if size < 1:
        raise ValidationError(field, "a segment must be at least 1 byte (SHMMIN)")
    if size > shmmax:
        raise ValidationError(field, f"{show(text.strip())} is larger than shmmax ({shmmax} bytes)")
    return size


def parse_mode(text: str, field: str = "mode") -> int:
    """Permission bits in octal, with or without the leading 0: 600, 0640, 0o644."""
    match = _MODE.fullmatch(text.strip())
    if not match:
        raise ValidationError(field, f"{show(text)} is not an octal mode such as 600 or 0640")
    mode = int(match.group(1), 8)
    if mode > 0o777:
        raise ValidationError(field, f"{show(text.strip())} is above 0777; only the nine permission bits can be set")
    return mode


def parse_offset(text: str, size: int, field: str = "offset") -> int:
    """A byte offset into a segment of `size` bytes: 0..size-1."""
    offset = _integer(text, field, "a byte offset")
    return _in_range(offset, 0, max(size - 1, 0), field, text, f"offsets in a {size}-byte segment")


def parse_length(text: str, available: int, field: str = "length") -> int:
    """How many bytes to read when `available` bytes remain: 1..available."""
    length = _integer(text, field, "a number of bytes")
    return _in_range(length, 1, max(available, 1), field, text, "bytes left from that offset")


def check_fits(offset: int, length: int, size: int, field: str = "text") -> None:
    """Refuse data that would run past the end of a segment."""
    if offset + length > size:
        raise ValidationError(
            field, f"{length} bytes at offset {offset} would run past the end of the {size}-byte segment"
        )


def encode_text(text: str, field: str = "text") -> bytes:
    """User text as bytes (UTF-8; undecodable bytes of a command line come back as they were)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ValidationError(field, "the text contains characters that cannot be encoded as UTF-8") from None


# --- message queues ----------------------------------------------------------


def parse_send_type(text: str, field: str = "type") -> int:
    """The type of a message to send: a positive long."""
    mtype = _integer(text, field, "a message type (a whole number above 0)")
    if mtype <= 0:
        raise ValidationError(field, f"{show(text.strip())} is not above 0; a message's type must be positive")
    return _in_range(mtype, 1, LONG_MAX, field, text, "message types")


def parse_receive_type(text: str, field: str = "type") -> int:
    """msgrcv's type: 0 the first message, > 0 that type, < 0 the lowest type <= |t|."""
    mtype = _integer(text, field, "a message type (a whole number)")
    return _in_range(mtype, -LONG_MAX, LONG_MAX, field, text, "message types")


def parse_message(text: str, limits: Limits | None = None, field: str = "text", msgmax: int | None = None) -> bytes:
    """The text of a message as bytes, at most msgmax of them."""
    data = encode_text(text, field)
    msgmax = msgmax if msgmax is not None else current_limits(limits).msgmax
    if len(data) > msgmax:
        raise ValidationError(field, f"the message is {len(data)} bytes, more than msgmax ({msgmax})")
    return data


# --- semaphores --------------------------------------------------------------


def parse_sem_value(text: str, field: str = "value") -> int:
    value = _integer(text, field, "a semaphore value (a whole number)")
    return _in_range(value, 0, SEMVMX, field, text, "semaphore values (0..SEMVMX)")


def parse_sem_values(text: str, limits: Limits | None = None, field: str = "values") -> list[int]:
    """Initial values of a new set, `1,0,3`: one per semaphore, 1..semmsl of them."""
    parts = [part.strip() for part in text.split(",")]
    if len(text) > 200_000 or not text.strip():
        raise ValidationError(field, "give one value per semaphore, separated by commas, such as 1,0,3")
    semmsl = current_limits(limits).semmsl or 32000
    if len(parts) > semmsl:
        raise ValidationError(field, f"{len(parts)} values is more than semmsl ({semmsl}) semaphores in a set")
    values = []
    for position, part in enumerate(parts, 1):
        try:
            values.append(parse_sem_value(part, field))
        except ValidationError as error:
            raise ValidationError(field, f"value {position} of {len(parts)}: {error.problem}") from None
    return values


def parse_nsems(text: str, limits: Limits | None = None, field: str = "semaphores") -> int:
    count = _integer(text, field, "a number of semaphores")
    semmsl = current_limits(limits).semmsl or 32000
    return _in_range(count, 1, semmsl, field, text, "semaphores in a set (1..semmsl)")


def parse_sem_index(text: str, nsems: int, field: str = "index") -> int:
    index = _integer(text, field, "a semaphore index (a whole number)")
    return _in_range(index, 0, max(nsems - 1, 0), field, text, f"indexes in a set of {nsems}")


def parse_sem_delta(text: str, field: str = "delta") -> int:
    """What semop adds: > 0 adds, < 0 takes (waiting until it can), 0 waits for zero."""
    delta = _integer(text, field, "a change such as +1 or -1")
    return _in_range(delta, -SEMVMX, SEMVMX, field, text, "semaphore operations")


# --- processes and owners ----------------------------------------------------


def parse_signal(text: str, field: str = "signal") -> int:
    """A signal by name (TERM, SIGTERM, term) or number."""
    stripped = text.strip()
    if _DECIMAL.fullmatch(stripped) and len(stripped) <= _LONGEST_NUMBER:
        number = int(stripped)
        return _in_range(number, 1, signal.SIGRTMAX, field, text, "signal numbers")
    name = stripped.upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    if name in signal.Signals.__members__ and name not in ("SIG_DFL", "SIG_IGN"):
        return int(signal.Signals[name])
    raise ValidationError(field, f"{show(text)} is not a signal name (such as TERM, INT, KILL) or number")


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def parse_pid(text: str, proc: ProcFS | None = None, field: str = "pid") -> int:
    """The pid of a running process (a pid, never a process group)."""
    pid = _integer(text, field, "a process id", allow_hex=False)
    _in_range(pid, 1, PID_MAX_LIMIT, field, text, "process ids")
    if not os.path.exists((proc or ProcFS()).path(pid, "stat")):
        raise ValidationError(field, f"no process has pid {pid}")
    return pid


def check_may_signal(pid: int, field: str = "pid") -> int:
    """Refuse the processes a signal from ipctop would hurt more than help: init, ipctop itself and its parent."""
    if pid == 1:
        raise ValidationError(field, "1 is init, the first process, which ipctop never signals")
    if pid == os.getpid():
        raise ValidationError(field, f"{pid} is this ipctop itself, which ipctop never signals")
    if pid == os.getppid():
        raise ValidationError(field, f"{pid} is ipctop's parent (the shell or program that started it), "
                                     "which ipctop never signals")  # fmt: skip
    return pid


@dataclass(frozen=True, slots=True)
class Owner:
    """A new owner for IPC_SET; None leaves that part as it is."""

    uid: int | None
    gid: int | None


def _account(text: str, field: str, kind: str) -> int:
    if _DECIMAL.fullmatch(text) and len(text) <= _LONGEST_NUMBER:
        return _in_range(int(text), 0, ID_T_MAX, field, text, f"{kind} ids")
    try:
        return pwd.getpwnam(text).pw_uid if kind == "user" else grp.getgrnam(text).gr_gid
    except (KeyError, ValueError):
        raise ValidationError(field, f"no {kind} is named {show(text)}") from None


def parse_owner(text: str, field: str = "owner") -> Owner:
    """USER, USER:GROUP or :GROUP, by name or number."""
    user, _, group = text.strip().partition(":")
    if not user and not group:
        raise ValidationError(field, "give USER, USER:GROUP or :GROUP")
    uid = _account(user, field, "user") if user else None
    gid = _account(group, field, "group") if group else None
    return Owner(uid, gid)


# --- ids of existing objects -------------------------------------------------


def lookup(kind: str, ident: int, proc: ProcFS | None = None) -> ShmRow | MsgRow | SemRow | None:
    """The /proc/sysvipc row of an object, or None when there is none."""
    proc = proc or ProcFS()
    rows: list = {"shm": read_shm, "msg": read_msg, "sem": read_sem}[kind](proc)
    id_name = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]
    return next((row for row in rows if getattr(row, id_name) == ident), None)


def parse_id(text: str, kind: str, proc: ProcFS | None = None, field: str = "id") -> int:
    """The id of a shm segment, queue or semaphore set that exists now."""
    noun = OBJECT_NAMES[kind]
    ident = _integer(text, field, f"a {noun} id (a whole number)", allow_hex=False)
    _in_range(ident, 0, ID_MAX, field, text, "ids")
    if lookup(kind, ident, proc) is None:
        raise ValidationError(field, f"no {noun} has id {ident}")
    return ident


def segment_size(shmid: int, proc: ProcFS | None = None) -> int:
    row = lookup("shm", shmid, proc)
    if row is None:
        raise ValidationError("id", f"no segment has id {shmid}")
    return row.size  # type: ignore[union-attr]


def set_size(semid: int, proc: ProcFS | None = None) -> int:
    row = lookup("sem", semid, proc)
    if row is None:
        raise ValidationError("id", f"no semaphore set has id {semid}")
    return row.nsems  # type: ignore[union-attr]
