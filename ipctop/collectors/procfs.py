"""Where /proc is, and the one place where races and refusals become typed outcomes.

Processes vanish in the middle of a scan (FileNotFoundError, ProcessLookupError,
ESRCH) and an unprivileged reader is refused most of /proc/PID (PermissionError).
Neither is an error: `read_pid_file` and friends turn them into `Gone` / `Denied`
so that callers handle them in one way.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass


class Gone(Exception):
    """The process exited while it was being read."""


class Denied(Exception):
    """The reader may not look at this part of the process."""


_GONE_ERRNOS = {errno.ENOENT, errno.ESRCH, errno.ENOTDIR}
_DENIED_ERRNOS = {errno.EACCES, errno.EPERM}


def classify(error: OSError) -> Exception:
    """Map an OSError from /proc/PID to Gone or Denied (or leave it as it is)."""
    if error.errno in _GONE_ERRNOS:
        return Gone(str(error))
    if error.errno in _DENIED_ERRNOS:
        return Denied(str(error))
    return error


@dataclass(frozen=True, slots=True)
class ProcFS:
    """A procfs root; `/proc` unless a test points it at a fixture tree."""

    root: str = "/proc"

    @property
    def is_live(self) -> bool:
        """True for the real /proc, where system calls on the objects also work."""
        return self.root == "/proc"

    def path(self, *parts: str | int) -> str:
        return os.path.join(self.root, *(str(p) for p in parts))

    def read_text(self, *parts: str | int) -> str:
        """Read a system-wide file; missing files raise FileNotFoundError."""
        with open(self.path(*parts), encoding="utf-8", errors="replace") as f:
            return f.read()

    def read_int(self, *parts: str | int, default: int = 0) -> int:
        try:
            return int(self.read_text(*parts).split()[0])
        except (OSError, ValueError, IndexError):
            return default

    def pids(self) -> list[int]:
        return [int(name) for name in os.listdir(self.root) if name.isdigit()]

    def read_pid_bytes(self, pid: int, name: str) -> bytes:
        """Read /proc/PID/NAME, raising Gone or Denied for the normal races."""
        try:
            with open(self.path(pid, name), "rb") as f:
                return f.read()
        except OSError as error:
            raise classify(error) from None

    def read_pid_text(self, pid: int, name: str) -> str:
        return self.read_pid_bytes(pid, name).decode("utf-8", "replace")

    def readlink_pid(self, pid: int, name: str) -> str:
        try:
            return os.readlink(self.path(pid, name))
        except OSError as error:
            raise classify(error) from None
