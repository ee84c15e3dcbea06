"""Which objects a cleanup looks at: types, owner, keys and minimum idle time.

The parsers raise ValueError with one sentence naming the bad input, so the CLI
and the TUI can show it as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLEANABLE_TYPES = ("shm", "msg", "sem", "pshm", "psem", "pmsg")

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class LeakFilters:
    """What to look at; None means no restriction.

    `keys` matches a segment's original key too when IPC_RMID has zeroed it.
    `older_than` (seconds) keeps only objects untouched for longer than that,
    and is then also the grace period (see leaks.py).  `grace` sets the grace
    period alone (seconds an abandoned object must have been idle before it is
    proposed), for callers that list everything else as usual.
    """

    types: frozenset[str] = frozenset(CLEANABLE_TYPES)
    uid: int | None = None
    keys: frozenset[int] | None = None
    older_than: float | None = None
    # POSIX objects by name ("/name"); with `keys` but no names, no POSIX object is looked at
    names: frozenset[str] | None = None
    namespaces: frozenset[int] | None = None  # inodes of the IPC namespaces to look in (query.select_namespaces)
    grace: float | None = None


def parse_duration(text: str) -> int:
    """`90s`, `10m`, `2h`, `3d` -> seconds."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not a duration: write a whole number and a unit s, m, h or d, like 90s, 10m, 2h, 3d"
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_keys(texts: list[str] | str) -> frozenset[int]:
    """`0x49501234,1234` (hex with 0x, or decimal), given once or several times."""
    if isinstance(texts, str):
        texts = [texts]
    keys = set()
    for text in texts:
        for part in text.split(","):
            part = part.strip()
            try:
                key = int(part, 16) if part.lower().startswith("0x") else int(part, 10)
            except ValueError:
                raise ValueError(f"{part!r} is not a key: write it in hex (0x4950abcd) or in decimal") from None
            if not 0 <= key <= 0xFFFFFFFF:
                raise ValueError(f"{part!r} is not a key: keys are 32-bit numbers")
            keys.add(key)
    if not keys:
        raise ValueError("no key given")
    return frozenset(keys)


def parse_types(text: str | None) -> frozenset[str]:
    """`shm,msg` -> {"shm", "msg"}; None (not given) is every type, an empty text an error.  Pipes,
    FIFOs and memfds are never leaked (they die with their last holder)."""
    if text is None:
        return frozenset(CLEANABLE_TYPES)
    if not text.strip():
        raise ValueError("an empty value is not a type (leave --type out for every type)")
    types = {t.strip() for t in text.split(",") if t.strip()}
    unknown = types - set(CLEANABLE_TYPES)
    if unknown or not types:
        raise ValueError(
            f"unknown type {', '.join(sorted(unknown)) or repr(text)}: clean handles {', '.join(CLEANABLE_TYPES)}"
        )
    return frozenset(types)
