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


# What the line leaves out, in this order, until it fits its width: the least telling first.
DROPS = ("queued", "dev_shm", "gaps", "every", "px", "fifos", "pipes", "limits")


def summary_markup(
    snapshot: Snapshot | None, interval: float, paused: bool, scope: Iterable[str] = (), *, width: int | None = None
) -> Content:
    """`shm 3/4096 150M  msg 2/32000 12K queued  sem …  every 2s  PAUSED`, as much of it as fits in `width`
    cells (None: all): DROPS says what goes first; what the view is limited to (`scope`) and PAUSED stay."""
    line = Content()
    for level in range(len(DROPS) + 1):
        line = _summary(snapshot, interval, paused, tuple(scope), frozenset(DROPS[:level]))
        if width is None or line.cell_length <= width:
            break
    return line


def summary_inputs(snapshot: Snapshot | None) -> tuple[object, ...] | None:
    """Everything of `snapshot` that the summary line shows (_summary, posix_part): a line made for
    the same inputs is the same line, so a scan that changed none of them need not make it again."""
    if snapshot is None:
        return None
    return (
        snapshot.limits,
        len(snapshot.shm), sum(s.size for s in snapshot.shm.values()),
        len(snapshot.msg), sum(q.cbytes for q in snapshot.msg.values()),
        len(snapshot.sem),
        len(snapshot.pshm), len(snapshot.psem), len(snapshot.pmsg), sum(o.size for o in snapshot.pshm.values()),
        len(snapshot.memfd), sum(o.size for o in snapshot.memfd.values()),
        len(snapshot.pipes), len(snapshot.fifos),
    )


def _summary(
    snapshot: Snapshot | None, interval: float, paused: bool, scope: tuple[str, ...], dropped: frozenset[str]
) -> Content:
    parts: list[Content] = []

    def part(label: str, value: str) -> None:
        parts.append(Content.from_markup("[$text-muted]$label[/] [b]$value[/b]", label=label, value=value))

    if snapshot is None:
        parts.append(Content.from_markup("[$text-muted]scanning…[/]"))
    else:
        # subset=pid: no /proc/sys either, so the kernel's limits read as 0: unknown, not 0
        limits = None if snapshot.tables_hidden else snapshot.limits

        def count(objects: int, limit: int | None) -> str:
            return str(objects) if "limits" in dropped else f"{objects}/{limit if limit is not None else '?'}"

        shm_bytes = sum(s.size for s in snapshot.shm.values())
        queued = sum(q.cbytes for q in snapshot.msg.values())
        part("shm", f"{count(len(snapshot.shm), limits.shmmni if limits else None)} {human_bytes(shm_bytes)}")
        queued_text = human_bytes(queued) if "queued" in dropped else f"{human_bytes(queued)} queued"
        part("msg", f"{count(len(snapshot.msg), limits.msgmni if limits else None)} {queued_text}")
        part("sem", count(len(snapshot.sem), limits.semmni if limits else None))
        posix_part(part, snapshot, dropped)
        if "pipes" not in dropped:
            part("pipes", str(len(snapshot.pipes)))
        if "fifos" not in dropped:
            part("fifos", str(len(snapshot.fifos)))
    if "every" in dropped:
        parts.append(Content.from_markup("[b]$value[/b]", value=interval_text(interval)))
    else:
        part("every", interval_text(interval))
    for text in scope:
        parts.append(Content.from_markup("[$text-accent]$text[/]", text=text))
    if paused:
        parts.append(Content.from_markup("[b $text-warning reverse] PAUSED [/]"))
    return Content(" " if "gaps" in dropped else "  ").join(parts)


def posix_part(part, snapshot: Snapshot, dropped: frozenset[str]) -> None:  # type: ignore[no-untyped-def]
    """POSIX objects and the memory of /dev/shm against its size, and shared memory without a name:
    `posix 9 /dev/shm 1.1M/23.5G  unnamed 1 142M` (with "px" dropped: `px 10 143M`, all of it in one);
    nothing where there is none of them (the line keeps its room for what there is)."""
    count = len(snapshot.pshm) + len(snapshot.psem) + len(snapshot.pmsg)
    if not count and not snapshot.memfd:
        return
    unnamed = sum(o.size for o in snapshot.memfd.values())
    limits = snapshot.limits
    if "px" in dropped:
        named = sum(o.size for o in snapshot.pshm.values())
        part("px", f"{count + len(snapshot.memfd)} {human_bytes(named + unnamed)}")
        return
    used = limits.dev_shm_used if limits is not None else None
    size = limits.dev_shm_size if limits is not None else None
    shown = "dev_shm" not in dropped and used is not None and size
    part("posix", f"{count} /dev/shm {human_bytes(used)}/{human_bytes(size)}" if shown else str(count))
    part("unnamed", f"{len(snapshot.memfd)} {human_bytes(unnamed)}")


class SummaryBar(Static):
    """One line summing up the machine's IPC, as much of it as fits (summary_markup)."""

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
    """One sentence on the processes whose fds or maps could not be read, and what /proc hides from this
    user (hidepid, subset=pid: Snapshot.hidden_note), or ''."""
    if snapshot is None:
        return ""
    refused = uninspected_sentence(snapshot.uninspectable, os.geteuid() == 0, short=True)
    # brief, as the refused ones are: `ipctop list` and the JSON have the whole of hidden_note
    hidden = ("No System V tables: /proc is mounted with subset=pid." if snapshot.tables_hidden else "",
              "Other users' processes are hidden (/proc hidepid): not shown." if snapshot.processes_hidden else "")
    return " ".join(part for part in (*hidden, refused) if part)
