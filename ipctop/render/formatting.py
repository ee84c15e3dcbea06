"""Small formatters shared by the tables, the TUI and the CLI."""

from __future__ import annotations

import stat
import time


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{int(value)}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}".replace(".0", "")
        value /= 1024
    return f"{n}B"


def rwx(perms: int) -> str:
    """0o640 -> 'rw-r-----'."""
    return stat.filemode(perms & 0o777)[1:]


def hex_key(key: int) -> str:
    return f"0x{key:08x}"


def age(seconds_since_epoch: float, now: float | None = None) -> str:
    if not seconds_since_epoch:
        return "-"
    delta = max(0, int((now if now is not None else time.time()) - seconds_since_epoch))
    if delta < 60:
        return f"{delta}s"
    if delta < 3600:
        return f"{delta // 60}m{delta % 60:02d}s"
    if delta < 86400:
        return f"{delta // 3600}h{delta % 3600 // 60:02d}m"
    return f"{delta // 86400}d{delta % 86400 // 3600:02d}h"


def clock(seconds_since_epoch: int) -> str:
    if not seconds_since_epoch:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds_since_epoch))


def count(n: int, noun: str, nouns: str | None = None) -> str:
    """`1 semaphore`, `2 semaphores`; `nouns` for an irregular plural (`process`, `processes`)."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def proc_label(comm: str, pid: int) -> str:
    return f"{comm}[{pid}]"
