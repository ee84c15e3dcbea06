"""Aligned text tables of a snapshot, in the manner of lsipc: keys in hex,
sizes human-readable, one section per object type.  System V objects of every IPC
namespace are listed, with a NAMESPACE column when any is not ipctop's own.

Given a `width` (`ipctop list` on a terminal), a table fits it as the monitor's
do (ipctop/render/fit.py): the least important columns are left out first, text
columns are cut with `…` and lists of processes end in `+N`.  Without one
(piped, or `--wide`) every column is printed in full.  Processes are named as
the monitor names them (`postgres: checkpointer[7026]`), and pipes carry the
monitor's state words (`writer blocked (full)`, `no reader → SIGPIPE`).  Queues,
sets, pipes and FIFOs list who is blocked on them (`WAITERS`), processes what
they are blocked on (`WAITS ON`), from their system calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ipctop.model import Fifo, HeldObject, Pipe, PipeEnd, ShmSegment, Snapshot, Wait
from ipctop.pipelines import pipe_state
from ipctop.render.escape import printable
from ipctop.render.fit import ColumnFit, ellipsize, fit_list, fit_widths
from ipctop.render.formatting import found_of, hex_key, human_bytes, rwx
from ipctop.render.procinfo import brief_label, label, name_of
from ipctop.render.waits import GUESS, wait_words

GAP = 2  # spaces between columns


@dataclass(frozen=True, slots=True)
class Listed:
    """Processes in a cell: `a[1], b[2]`, cut to `a[1] +1`, or named `short`ly where that lets one be read."""

    items: tuple[str, ...]
    short: tuple[str, ...]


Cell = str | int | Listed


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    priority: int = 0  # 0: always printed; a narrow terminal leaves out the highest numbers first
    numeric: bool = False  # right-aligned, never cut
    shrink_to: int | None = None  # a text column may be cut down to this width; None: never cut


def _text(cell: Cell) -> str:
    return ", ".join(cell.items) if isinstance(cell, Listed) else str(cell)


def _fitted(cell: Cell, width: int) -> str:
    if isinstance(cell, Listed):
        return fit_list(cell.items, width, short=cell.short)
    return ellipsize(str(cell), width)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int] | None = None) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned, the last column left unpadded."""
    columns = [Col(header, numeric=i in (numeric or set())) for i, header in enumerate(headers)]
    return fitted_table(columns, [[str(c) for c in row] for row in rows])


def _escaped(cell: Cell) -> Cell:
    """The cell with every character from the machine made printable (render/escape.py): a process
    or file name cannot act on the terminal or break a row in two."""
    if isinstance(cell, Listed):
        return Listed(tuple(map(printable, cell.items)), tuple(map(printable, cell.short)))
    return cell if isinstance(cell, int) else printable(cell)


def fitted_table(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int | None = None) -> str:
    """Columns padded to their widest cell, numeric ones right-aligned, the last one left unpadded;
    within `width` when given.  Every cell is escaped first."""
    rows = [[_escaped(cell) for cell in row] for row in rows]
    natural = [max([len(c.header)] + [len(_text(row[i])) for row in rows]) for i, c in enumerate(columns)]
    widths: list[int | None] = list(natural)
    if width is not None and sum(natural) + GAP * (len(columns) - 1) > width:
        fits = [
            ColumnFit(c.priority, n, n if c.numeric or c.shrink_to is None else min(n, max(c.shrink_to, len(c.header))))
            for c, n in zip(columns, natural, strict=True)
        ]
        widths = fit_widths(fits, width + GAP, gap=GAP)  # the last column needs no gap after it
    shown = [i for i, w in enumerate(widths) if w is not None]

    def line(values: Sequence[Cell]) -> str:
        parts = []
        for position, i in enumerate(shown):
            room = widths[i]
            assert room is not None
            text = _fitted(values[i], room) if len(_text(values[i])) > room else _text(values[i])
            if columns[i].numeric:
                parts.append(text.rjust(room))
            else:
                parts.append(text if position == len(shown) - 1 else text.ljust(room))
        return (" " * GAP).join(parts).rstrip()

    return "\n".join([line([c.header for c in columns]), *(line(r) for r in rows)])


def _ends(snapshot: Snapshot, ends: Sequence[PipeEnd], unseen: bool = False) -> Listed | str:
    """`unseen`: the kernel says this side is held, by a process ipctop could not inspect (Pipe.unseen)."""
    if not ends:
        return "(unseen)" if unseen else "-"
    return Listed(tuple(f"{label(e.pid, snapshot.known_processes, e.comm)}:{e.fd}" for e in ends),
                  tuple(f"{brief_label(e.pid, snapshot.known_processes, e.comm)}:{e.fd}" for e in ends))  # fmt: skip


def shows_namespaces(snapshot: Snapshot) -> bool:
    """True when the snapshot holds an object of another namespace than ipctop's own (or one that could not
    be read): tables then name each object's namespace."""
    return any(not ns.own and (ns.shm or ns.msg or ns.sem or ns.error) for ns in snapshot.namespaces)


def has_other_namespaces(snapshot: Snapshot) -> bool:
    """True when the snapshot knows of another IPC namespace than ipctop's own."""
    return any(not ns.own for ns in snapshot.namespaces)


NAMESPACE = Col("NAMESPACE", shrink_to=10)


def _with_namespace(snapshot: Snapshot, columns: list[Col], rows: list[list[Cell]], objects: list,
                    width: int | None) -> str:
    """The table, with a NAMESPACE column after the id when there is more than one namespace to tell apart."""
    if shows_namespaces(snapshot):
        rows = [[*row[:2], obj.container or "host", *row[2:]] for obj, row in zip(objects, rows, strict=True)]
        columns = [*columns[:2], NAMESPACE, *columns[2:]]
    return fitted_table(columns, rows, width)


def _sorted(snapshot: Snapshot, objects: list, ident: str) -> list:
    """ipctop's own namespace's objects first, then each other namespace's as the snapshot lists them; by id."""
    order = {ns.inode: i for i, ns in enumerate(snapshot.namespaces)}
    return sorted(objects, key=lambda o: (order.get(o.ipc_ns, 0), getattr(o, ident)))


def _waiters(snapshot: Snapshot, waiters: Sequence[Wait]) -> Listed | str:
    """Who is blocked on an object: `python[812] msgrcv type 99`, a guess said to be one."""
    if not waiters:
        return "-"

    def words(wait: Wait, name: str) -> str:
        text = " ".join(part for part in (name, wait.call, wait.detail) if part)
        return text if wait.exact else f"{text} ({GUESS})"

    procs = snapshot.known_processes
    return Listed(tuple(words(w, label(w.pid, procs, w.comm)) for w in waiters),
                  tuple(words(w, brief_label(w.pid, procs, w.comm)) for w in waiters))  # fmt: skip


def attached(snapshot: Snapshot, segment: ShmSegment) -> Listed | str:
    """Each attaching process once, `×N` for one that attached N times (nattch counts attachments)."""
    times = Counter(a.pid for a in segment.attachers)
    comms = {a.pid: a.comm for a in segment.attachers}
    missing = () if segment.attachers_complete else (f"({found_of(segment)})",)
    if not times:
        return missing[0] if missing else "-"
    procs = snapshot.known_processes
    names = [tuple(name(pid, procs, comms[pid]) + (f"×{n}" if n > 1 else "") for pid, n in times.items())
             + missing for name in (label, brief_label)]  # fmt: skip
    return Listed(*names)


def shm_table(snapshot: Snapshot, width: int | None = None) -> str:
    rows: list[list[Cell]] = []
    segments = _sorted(snapshot, snapshot.all_shm(), "shmid")
    for s in segments:
        key = hex_key(s.key) + (f" (was {hex_key(s.original_key)})" if s.original_key is not None else "")
        rows.append([key, s.shmid, s.owner, rwx(s.perms), human_bytes(s.size), s.nattch,
                     ",".join(s.status) or "-", s.cpid, s.lpid, attached(snapshot, s)])
    columns = [Col("KEY", shrink_to=10), Col("SHMID", numeric=True), Col("OWNER", 3, shrink_to=6), Col("PERMS", 5),
               Col("SIZE", 1, numeric=True), Col("NATTCH", numeric=True), Col("STATUS", 2),
               Col("CPID", 4, numeric=True), Col("LPID", 4, numeric=True), Col("ATTACHED", shrink_to=16)]  # fmt: skip
    return _with_namespace(snapshot, columns, rows, segments, width)


def msg_table(snapshot: Snapshot, width: int | None = None) -> str:
    rows = []
    queues = _sorted(snapshot, snapshot.all_msg(), "msqid")
    for q in queues:
        fill = f"{q.fill:.0%}" if q.fill is not None else "-"
        rows.append([hex_key(q.key), q.msqid, q.owner, rwx(q.perms), q.qnum, human_bytes(q.cbytes),
                     human_bytes(q.qbytes), fill, q.lspid, q.lrpid, _waiters(snapshot, q.waiters)])
    columns = [Col("KEY"), Col("MSQID", numeric=True), Col("OWNER", 3, shrink_to=6), Col("PERMS", 5),
               Col("MESSAGES", numeric=True), Col("USED", 1, numeric=True), Col("CAPACITY", 2, numeric=True),
               Col("FILL", 1, numeric=True), Col("LSPID", 4, numeric=True), Col("LRPID", 4, numeric=True),
               Col("WAITERS", 1, shrink_to=16)]  # fmt: skip
    return _with_namespace(snapshot, columns, rows, queues, width)


def sem_table(snapshot: Snapshot, width: int | None = None) -> str:
    rows = []
    sets = _sorted(snapshot, snapshot.all_sem(), "semid")
    for s in sets:
        def listed(values: tuple[int, ...]) -> str:
            return ",".join(map(str, values)) or "?"

        rows.append([hex_key(s.key), s.semid, s.owner, rwx(s.perms), s.nsems, listed(s.values),
                     listed(s.ncnt), listed(s.zcnt), _waiters(snapshot, s.waiters)])
    columns = [Col("KEY"), Col("SEMID", numeric=True), Col("OWNER", 3, shrink_to=6), Col("PERMS", 5),
               Col("NSEMS", 2, numeric=True), Col("VALUES", shrink_to=8), Col("NCNT", 1, shrink_to=6),
               Col("ZCNT", 1, shrink_to=6), Col("WAITERS", 1, shrink_to=16)]  # fmt: skip
    return _with_namespace(snapshot, columns, rows, sets, width)


def _limit_use(used: int, limit: int) -> str:
    return f"{used}/{limit}" if limit else str(used)


def namespace_table(snapshot: Snapshot, width: int | None = None) -> str:
    """One line per IPC namespace: what it is, its processes, its objects against its own limits."""
    rows: list[list[Cell]] = []
    for ns in snapshot.namespaces:
        limits = ns.limits
        counts: list[Cell] = ["?", "?", "?"]
        if not ns.error:
            counts = [_limit_use(len(ns.shm), limits.shmmni if limits else 0),
                      _limit_use(len(ns.msg), limits.msgmni if limits else 0),
                      _limit_use(len(ns.sem), limits.semmni if limits else 0)]
        rows.append([ns.name, ns.inode, ns.kind, len(ns.members), ns.leader, *counts, ns.error or "-"])
    columns = [Col("NAME", shrink_to=12), Col("INODE", 3, numeric=True), Col("KIND", 2), Col("PROCS", 1, numeric=True),
               Col("LEADER", 4, numeric=True), Col("SHM/SHMMNI"), Col("MSG/MSGMNI"), Col("SEM/SEMMNI"),
               Col("NOTE", shrink_to=12)]  # fmt: skip
    return fitted_table(columns, rows, width)


def _fill(pipe: Pipe | Fifo) -> str:
    return human_bytes(pipe.fill) if pipe.fill is not None else "-"


ENDS = (Col("WRITERS", shrink_to=12), Col("READERS", shrink_to=12))
WAITERS = Col("WAITERS", 2, shrink_to=16)


def pipe_table(snapshot: Snapshot, width: int | None = None) -> str:
    rows = [
        [p.inode, pipe_state(p, snapshot.known_processes).text, _fill(p), human_bytes(p.capacity),
         _ends(snapshot, p.writers, p.unseen == "w"), _ends(snapshot, p.readers, p.unseen == "r"),
         _waiters(snapshot, p.waiters)]
        for p in sorted(snapshot.pipes.values(), key=lambda p: p.inode)
    ]  # fmt: skip
    columns = [Col("INODE", numeric=True), Col("STATE"), Col("WAITING", 1, numeric=True),
               Col("CAPACITY", 2, numeric=True), *ENDS, WAITERS]
    return fitted_table(columns, rows, width)


def fifo_table(snapshot: Snapshot, width: int | None = None) -> str:
    rows = [
        [f.path, f.inode, pipe_state(f, snapshot.known_processes).text, _fill(f), human_bytes(f.capacity),
         _ends(snapshot, f.writers, f.unseen == "w"), _ends(snapshot, f.readers, f.unseen == "r"),
         _waiters(snapshot, f.waiters)]
        for f in sorted(snapshot.fifos.values(), key=lambda f: f.path)
    ]  # fmt: skip
    columns = [Col("PATH", shrink_to=12), Col("INODE", 3, numeric=True), Col("STATE"), Col("WAITING", 1, numeric=True),
               Col("CAPACITY", 2, numeric=True), *ENDS, WAITERS]
    return fitted_table(columns, rows, width)


def _held_posix(snapshot: Snapshot, held: HeldObject) -> str:
    obj = getattr(snapshot, held.kind).get(held.inode)  # the Snapshot's fields are named as the kinds
    how = f"/{held.fd}{held.mode}" if held.fd is not None else f"@{held.mode}"
    if held.kind == "memfd":
        # memfd:NAME, or anon:INODE for shared anonymous memory (which has no name)
        label = f"memfd:{obj.name}" if obj is not None and obj.source == "memfd" else f"anon:{held.inode}"
        return f"{label}{how}"
    name = obj.name if obj is not None else str(held.inode)
    return f"{held.kind}:{name}{how}"


def process_table(snapshot: Snapshot, width: int | None = None) -> str:
    """Processes and what they hold (shmids, msqids and semids of their own IPC namespace)."""
    rows = []
    names = {f"ipc:[{ns.inode}]": ns.name for ns in snapshot.namespaces} if shows_namespaces(snapshot) else None
    for p in sorted(snapshot.processes.values(), key=lambda p: p.pid):
        held = [f"shm:{i}" for i in p.shm] + [f"{h.kind}:{h.inode}/{h.fd}{h.mode}" for h in p.pipes]
        held += [f"msg:{i}" for i in p.msg] + [f"sem:{i}" for i in p.sem]
        held += [_held_posix(snapshot, h) for h in p.posix]
        waits = "; ".join(wait_words(p.waits, snapshot.fifos)) or "-"
        row: list[Cell] = [p.pid, p.ppid, p.user, p.state, name_of(p), " ".join(held) or "-", waits]
        if names is not None:
            row.insert(2, names.get(p.ipc_ns, "?"))
        rows.append(row)
    columns = [Col("PID", numeric=True), Col("PPID", 3, numeric=True), Col("USER", 2, shrink_to=6), Col("S"),
               Col("COMMAND", shrink_to=10), Col("HOLDS", shrink_to=12), Col("WAITS ON", 1, shrink_to=16)]  # fmt: skip
    if names is not None:
        columns.insert(2, NAMESPACE)
    return fitted_table(columns, rows, width)


SECTIONS = {
    "shm": ("Shared memory segments", shm_table, "shm"),
    "msg": ("Message queues", msg_table, "msg"),
    "sem": ("Semaphore sets", sem_table, "sem"),
    "pipe": ("Pipes", pipe_table, "pipes"),
    "fifo": ("FIFOs", fifo_table, "fifos"),
}
