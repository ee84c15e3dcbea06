"""How the demos write the calls they make: as a C programmer would, like strace.

`shmget(0x4950d001, 4096, IPC_CREAT|IPC_EXCL|0666) = 3`, `write(4, "hello\\n", 6) = 6`,
`read(3, …) = -1 EAGAIN (Resource temporarily unavailable)`.
"""

from __future__ import annotations

import errno
import os
import signal

from ipctop.kernel import sysv

_IPC_FLAG_NAMES = ((sysv.IPC_CREAT, "IPC_CREAT"), (sysv.IPC_EXCL, "IPC_EXCL"), (sysv.IPC_NOWAIT, "IPC_NOWAIT"))
_OPEN_FLAG_NAMES = ((os.O_NONBLOCK, "O_NONBLOCK"), (os.O_CLOEXEC, "O_CLOEXEC"), (os.O_CREAT, "O_CREAT"))
_ACCESS_MODES = {os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY", os.O_RDWR: "O_RDWR"}


def cstr(data: bytes, limit: int = 32) -> str:
    """A C string literal of `data`, cut with … past `limit` bytes."""
    shown = data[:limit]
    text = "".join(_c_char(b) for b in shown)
    return f'"{text}"' + ("…" if len(data) > limit else "")


def _c_char(byte: int) -> str:
    escapes = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x00: "\\0", 0x22: '\\"', 0x5C: "\\\\"}
    if byte in escapes:
        return escapes[byte]
    return chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}"


def read_result(data: bytes) -> str:
    """What read() returned: the count and the bytes, or 0 at end of file."""
    return f"{len(data)} {cstr(data)}" if data else "0 (end of file)"


def ipc_flags(flags: int) -> str:
    """IPC_CREAT|IPC_EXCL|0666; the mode bits are left out when they are 0."""
    names = [name for bit, name in _IPC_FLAG_NAMES if flags & bit]
    if flags & 0o777 or not names:
        names.append(f"0{flags & 0o777:o}")
    return "|".join(names)


def open_flags(flags: int) -> str:
    names = [_ACCESS_MODES[flags & os.O_ACCMODE]]
    names += [name for bit, name in _OPEN_FLAG_NAMES if flags & bit]
    return "|".join(names)


def key(value: int) -> str:
    return f"0x{value:08x}"


def pointer(address: int) -> str:
    return f"{address:#x}"


def failure(err: int) -> str:
    """The result of a failed call: -1 and errno, the way strace prints it."""
    return f"-1 {errno.errorcode.get(err, str(err))} ({os.strerror(err)})"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def wait_status(status: int) -> str:
    """What waitpid's status says: exited with a code, or killed by a signal."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"status {status:#06x}: WIFSIGNALED, WTERMSIG = {number} ({signal_name(number)})"
    if os.WIFEXITED(status):
        return f"status {status:#06x}: WIFEXITED, WEXITSTATUS = {os.WEXITSTATUS(status)}"
    return f"status {status:#06x}"
