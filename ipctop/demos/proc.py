"""What the demos read from /proc to show the audience the kernel's view of a
process: where it sleeps (wchan), its state, and a zombie's wait status."""

from __future__ import annotations

import os


def wchan(pid: int) -> str:
    """The kernel function a sleeping process waits in ('0' when it runs)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may hold spaces; fields follow the last ')'.
    return text[text.rindex(")") + 2 :].split()


def state(pid: int) -> str:
    """One letter: R running, S sleeping, Z zombie...; '' when the pid is gone."""
    try:
        return _stat_fields(pid)[0]
    except (OSError, IndexError):
        return ""


def start_time(pid: int) -> int | None:
    """Start time in clock ticks since boot: with the pid it names one process."""
    try:
        return int(_stat_fields(pid)[19])
    except (OSError, IndexError, ValueError):
        return None


def zombie_status(pid: int) -> int | None:
    """The wait status of a zombie not yet reaped (field exit_code of /proc/PID/stat)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return None
    return int(fields[-1]) if fields[0] == "Z" else None


def is_same_process(pid: int, started: int) -> bool:
    return start_time(pid) == started


def fd_target(pid: int, fd: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return ""
