"""Waits in words: "msgrcv on queue 4, type 99", "poll on pipe 5021 (fd 4 in)": what a process is blocked on.

Shared by `ipctop list`, the detail screen and the panes.  A wait guessed from
the kernel's wait point (the system call could not be read) says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ipctop.model import Fifo, Wait

GUESS = "guessed from wchan"
_OBJECT_NAMES = {"msg": "queue", "sem": "set", "pipe": "pipe", "fifo": "FIFO", "psem": "semaphore",
                 "pmsg": "POSIX queue", "pshm": "shared memory", "memfd": "shared memory"}


def object_words(wait: Wait, fifos: Mapping[int, Fifo] | None = None) -> str:
    """`queue 4`, `pipe 5021`, `FIFO /tmp/x` (its path where known), or `a queue` when not known."""
    name = _OBJECT_NAMES.get(wait.kind, wait.kind)
    if wait.id is None:
        return f"a {name}"
    if wait.kind == "fifo" and fifos is not None and wait.id in fifos:
        return f"FIFO {fifos[wait.id].path}"
    return f"{name} {wait.id}"


_POSIX_KINDS = ("psem", "pmsg", "pshm", "memfd")


def _on_object(wait: Wait, fifos: Mapping[int, Fifo] | None) -> str:
    if wait.kind in _POSIX_KINDS and wait.id is not None:
        return f"{_OBJECT_NAMES[wait.kind]} {wait.detail}"  # the detail names it: `semaphore /jobs (sem_wait)`
    target = object_words(wait, fifos)
    if not wait.detail:
        return target
    if wait.kind in ("msg", "sem"):
        return f"{target}, {wait.detail}" if wait.id is not None else wait.detail
    return f"{target} ({wait.detail})"


def wait_words(waits: Iterable[Wait], fifos: Mapping[int, Fifo] | None = None, brief: bool = False) -> list[str]:
    """One phrase per blocked call (a poll on two pipes is one): `msgrcv on queue 4, type 99`,
    `thread 812: poll on pipe 5021 (fd 4 in), pipe 5022 (fd 6 in)`; `brief`: the first object
    and how many more (`poll on pipe 5021 (fd 4 in) +1`), a guess marked `?`."""
    calls: dict[tuple[int, str], list[Wait]] = {}
    for wait in waits:
        calls.setdefault((wait.tid, wait.call), []).append(wait)
    phrases = []
    for (tid, call), found in calls.items():
        first = found[0]
        thread = f"thread {tid}: " if tid != first.pid else ""
        if brief:
            objects = _on_object(first, fifos) + (f" +{len(found) - 1}" if len(found) > 1 else "")
            guess = "" if first.exact else "?"
        else:
            objects = ", ".join(_on_object(w, fifos) for w in found)
            guess = "" if first.exact else f" ({GUESS})"
        phrases.append(f"{thread}{call} on {objects}{guess}")
    return phrases


def waits_cell_text(waits: Iterable[Wait], fifos: Mapping[int, Fifo] | None = None, limit: int = 40) -> str:
    """What a process is blocked on, within about `limit` characters, for a table cell."""
    text = "; ".join(wait_words(waits, fifos, brief=True))
    return text if len(text) <= limit else text[: limit - 1] + "…"



def blocked_users(waiters: Iterable[Wait]) -> list[tuple[int, str]]:
    """Each waiter as a user of its object, for a detail: (pid, `blocked in msgrcv, type 99`)."""
    users = []
    for wait in waiters:
        how = f"blocked in {wait.call}" + (f", {wait.detail}" if wait.detail else "")
        if wait.tid != wait.pid:
            how = f"thread {wait.tid} {how}"
        users.append((wait.pid, how if wait.exact else f"{how} ({GUESS})"))
    return users
