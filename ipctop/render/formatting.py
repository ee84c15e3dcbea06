"""Small formatters shared by the tables, the TUI and the CLI."""

from __future__ import annotations

import stat
import time
from collections.abc import Sequence

from ipctop.model import ShmSegment, Uninspectable


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
    """An age to the second: `45s`, `12m34s`, `3h05m`, `2d03h`."""
    return _age(seconds_since_epoch, now, True)


def short_age(seconds_since_epoch: float, now: float | None = None) -> str:
    """An age as a table shows it, redrawn at every scan: seconds for the first minute, then whole
    minutes, hours and minutes, days and hours (as kubectl and docker show ages).  A table of things
    older than a minute changes on screen once a minute, not at every scan; the exact times are on
    the detail screen."""
    return _age(seconds_since_epoch, now, False)


def _age(seconds_since_epoch: float, now: float | None, seconds: bool) -> str:
    if not seconds_since_epoch:
        return "-"
    delta = max(0, int((now if now is not None else time.time()) - seconds_since_epoch))
    if delta < 60:
        return f"{delta}s"
    if delta < 3600:
        return f"{delta // 60}m{delta % 60:02d}s" if seconds else f"{delta // 60}m"
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


def found_of(segment: ShmSegment) -> str:
    """'2 of 3 found': how much of an incomplete segment's nattch its attachers account for."""
    return f"{segment.attachments_found} of {segment.nattch} found"


INCOMPLETE_WHY = (
    "The rest could not be found: attachments changed while ipctop read the processes, "
    "or some processes could not be read."
)


def uninspected_sentence(uninspectable: Sequence[Uninspectable], privileged: bool, short: bool = False) -> str:
    """One sentence on the processes whose fds or maps could not be read, and why ('' for none);
    `short` leaves out the pids and the verb (for a one-line notice on screen)."""
    if not uninspectable:
        return ""
    reasons: dict[str, list[int]] = {}
    for item in uninspectable:
        reasons.setdefault(item.reason, []).append(item.pid)
    if short:
        why = ", ".join(reason + (f" ×{len(pids)}" if len(reasons) > 1 else "") for reason, pids in reasons.items())
    else:
        why = "; ".join(
            f"{reason}: pid {', '.join(map(str, pids[:5]))}{', …' if len(pids) > 5 else ''}"
            for reason, pids in reasons.items()
        )
    many = len(uninspectable)
    verb, they = ("was ", "it holds") if many == 1 else ("were ", "they hold")
    advice = "" if privileged else f" Run as root to see what {they}."
    noun = count(many, "process", "processes")
    return f"{noun} {'' if short else verb}not inspected ({why}): what {they} is not shown.{advice}"
