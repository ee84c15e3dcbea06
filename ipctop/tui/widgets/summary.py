"""The line at the top: what the machine holds against its limits, the interval, PAUSED."""

from __future__ import annotations

import os
from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from ipctop.model import Snapshot
from ipctop.render.formatting import human_bytes, uninspected_sentence


def interval_text(seconds: float) -> str:
    return f"{seconds:g}s"


def summary_markup(
    snapshot: Snapshot | None, interval: float, paused: bool, scope: Iterable[str] = (), *, compact: bool = False
) -> Content:
    """`shm 3/4096 150M  msg 2/32000 12K queued  sem …  every 2s  PAUSED`; `compact` fits 80 columns."""
    parts: list[Content] = []

    def part(label: str, value: str) -> None:
        parts.append(Content.from_markup("[$text-muted]$label[/] [b]$value[/b]", label=label, value=value))

    if snapshot is None:
        parts.append(Content.from_markup("[$text-muted]scanning…[/]"))
    else:
        limits = snapshot.limits
        shm_bytes = sum(s.size for s in snapshot.shm.values())
        queued = sum(q.cbytes for q in snapshot.msg.values())
        part("shm", f"{len(snapshot.shm)}/{limits.shmmni if limits else '?'} {human_bytes(shm_bytes)}")
        queued_text = human_bytes(queued) if compact else f"{human_bytes(queued)} queued"
        part("msg", f"{len(snapshot.msg)}/{limits.msgmni if limits else '?'} {queued_text}")
        part("sem", f"{len(snapshot.sem)}/{limits.semmni if limits else '?'}")
        posix_part(part, snapshot, compact)
        part("pipes", str(len(snapshot.pipes)))
        part("fifos", str(len(snapshot.fifos)))
    if compact:
        parts.append(Content.from_markup("[b]$value[/b]", value=interval_text(interval)))
    else:
        part("every", interval_text(interval))
    for text in scope:
        parts.append(Content.from_markup("[$text-accent]$text[/]", text=text))
    if paused:
        parts.append(Content.from_markup("[b $text-warning reverse] PAUSED [/]"))
    return Content(" " if compact else "  ").join(parts)


def posix_part(part, snapshot: Snapshot, compact: bool) -> None:  # type: ignore[no-untyped-def]
    """POSIX objects and the memory of /dev/shm against its size, and shared memory without a name:
    `posix 9 /dev/shm 1.1M/23.5G  unnamed 1 142M` (compact: `px 10 143M`, all of it in one); nothing
    where there is none of them (the line keeps its room for what there is)."""
    count = len(snapshot.pshm) + len(snapshot.psem) + len(snapshot.pmsg)
    if not count and not snapshot.memfd:
        return
    unnamed = sum(o.size for o in snapshot.memfd.values())
    limits = snapshot.limits
    if compact:
        named = sum(o.size for o in snapshot.pshm.values())
        part("px", f"{count + len(snapshot.memfd)} {human_bytes(named + unnamed)}")
        return
    used = limits.dev_shm_used if limits is not None else None
    size = limits.dev_shm_size if limits is not None else None
    shm_text = f" /dev/shm {human_bytes(used)}/{human_bytes(size)}" if used is not None and size else ""
    part("posix", f"{count}{shm_text}")
    part("unnamed", f"{len(snapshot.memfd)} {human_bytes(unnamed)}")


class SummaryBar(Static):
    """One line summing up the machine's IPC; compact below 100 columns."""

    def on_resize(self) -> None:
        self.screen.call_later(getattr(self.screen, "show_summary", lambda: None))


NEAR_LIMIT = 0.8  # a namespace's use of a limit worth naming in its summary


def namespaces_line(snapshot: Snapshot | None) -> str:
    """One line per machine with containers: each IPC namespace with what it holds (and a limit it is
    near), `host` first; '' when ipctop's own is the only one (or others cannot be entered: the
    snapshot's note says so)."""
    if snapshot is None:
        return ""
    if snapshot.namespace_note:
        return snapshot.namespace_note
    if not any(not ns.own for ns in snapshot.namespaces):
        return ""
    parts = []
    for ns in snapshot.namespaces:
        if ns.error:
            parts.append(f"{ns.name} not read")
            continue
        held = [f"{len(table)} {kind}" for kind, table in (("shm", ns.shm), ("msg", ns.msg), ("sem", ns.sem)) if table]
        limits = ns.limits
        if limits is not None:
            for kind, count, limit in (("shmmni", len(ns.shm), limits.shmmni), ("msgmni", len(ns.msg), limits.msgmni),
                                       ("semmni", len(ns.sem), limits.semmni)):
                if limit and count >= NEAR_LIMIT * limit:
                    held.append(f"{count / limit:.0%} of {kind}")
        parts.append(f"{ns.name} {', '.join(held) or 'nothing'}")
    return f"IPC namespaces ({len(snapshot.namespaces)}): " + " │ ".join(parts)


def uninspectable_notice(snapshot: Snapshot | None) -> str:
    """One sentence on the processes whose fds or maps could not be read, or ''."""
    if snapshot is None:
        return ""
    return uninspected_sentence(snapshot.uninspectable, os.geteuid() == 0, short=True)
