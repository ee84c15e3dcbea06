"""Aligned text tables of a snapshot, in the manner of lsipc: keys in hex,
sizes human-readable, one section per object type.  System V objects of every IPC
namespace are listed, with a NAMESPACE column when any is not ipctop's own."""

from __future__ import annotations

from collections.abc import Sequence

from ipctop.model import Fifo, Pipe, PipeEnd, Snapshot
from ipctop.render.formatting import found_of, hex_key, human_bytes, proc_label, rwx


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int] | None = None) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned, the last column left unpadded."""
    numeric = numeric or set()
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            last = i == len(values) - 1
            if i in numeric:
                parts.append(value.rjust(widths[i]))
            else:
                parts.append(value if last else value.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(r) for r in cells)])


def _ends(ends: Sequence[PipeEnd]) -> str:
    return ",".join(f"{proc_label(e.comm, e.pid)}:{e.fd}" for e in ends) or "-"


def shows_namespaces(snapshot: Snapshot) -> bool:
    """True when the snapshot holds an object of another namespace than ipctop's own (or one that could not
    be read): tables then name each object's namespace."""
    return any(not ns.own and (ns.shm or ns.msg or ns.sem or ns.error) for ns in snapshot.namespaces)


def has_other_namespaces(snapshot: Snapshot) -> bool:
    """True when the snapshot knows of another IPC namespace than ipctop's own."""
    return any(not ns.own for ns in snapshot.namespaces)


def _with_namespace(snapshot: Snapshot, headers: list[str], rows: list[list[object]], objects: list,
                    numeric: set[int]) -> str:
    """The table, with a NAMESPACE column after the id when there is more than one namespace to tell apart."""
    if not shows_namespaces(snapshot):
        return table(headers, rows, numeric=numeric)
    rows = [[*row[:2], obj.container or "host", *row[2:]] for obj, row in zip(objects, rows, strict=True)]
    return table([*headers[:2], "NAMESPACE", *headers[2:]], rows, numeric={i + (i >= 2) for i in numeric})


def shm_table(snapshot: Snapshot) -> str:
    rows = []
    segments = _sorted(snapshot, snapshot.all_shm(), "shmid")
    for s in segments:
        attached = ",".join(proc_label(a.comm, a.pid) for a in s.attachers) or "-"
        if not s.attachers_complete:
            attached += f" ({found_of(s)})"
        key = hex_key(s.key) + (f" (was {hex_key(s.original_key)})" if s.original_key is not None else "")
        rows.append([key, s.shmid, s.owner, rwx(s.perms), human_bytes(s.size), s.nattch,
                     ",".join(s.status) or "-", s.cpid, s.lpid, attached])
    headers = ["KEY", "SHMID", "OWNER", "PERMS", "SIZE", "NATTCH", "STATUS", "CPID", "LPID", "ATTACHED"]
    return _with_namespace(snapshot, headers, rows, segments, {1, 4, 5, 7, 8})


def msg_table(snapshot: Snapshot) -> str:
    rows = []
    queues = _sorted(snapshot, snapshot.all_msg(), "msqid")
    for q in queues:
        fill = f"{q.fill:.0%}" if q.fill is not None else "-"
        rows.append([hex_key(q.key), q.msqid, q.owner, rwx(q.perms), q.qnum, human_bytes(q.cbytes),
                     human_bytes(q.qbytes), fill, q.lspid, q.lrpid])
    headers = ["KEY", "MSQID", "OWNER", "PERMS", "MESSAGES", "USED", "CAPACITY", "FILL", "LSPID", "LRPID"]
    return _with_namespace(snapshot, headers, rows, queues, {1, 4, 5, 6, 7, 8, 9})


def sem_table(snapshot: Snapshot) -> str:
    rows = []
    sets = _sorted(snapshot, snapshot.all_sem(), "semid")
    for s in sets:
        def listed(values: tuple[int, ...]) -> str:
            return ",".join(map(str, values)) or "?"

        rows.append([hex_key(s.key), s.semid, s.owner, rwx(s.perms), s.nsems, listed(s.values),
                     listed(s.ncnt), listed(s.zcnt)])
    headers = ["KEY", "SEMID", "OWNER", "PERMS", "NSEMS", "VALUES", "NCNT", "ZCNT"]
    return _with_namespace(snapshot, headers, rows, sets, {1, 4})


def _sorted(snapshot: Snapshot, objects: list, ident: str) -> list:
    """ipctop's own namespace's objects first, then each other namespace's as the snapshot lists them; by id."""
    order = {ns.inode: i for i, ns in enumerate(snapshot.namespaces)}
    return sorted(objects, key=lambda o: (order.get(o.ipc_ns, 0), getattr(o, ident)))


def _limit_use(used: int, limit: int) -> str:
    return f"{used}/{limit}" if limit else str(used)


def namespace_table(snapshot: Snapshot) -> str:
    """One line per IPC namespace: what it is, its processes, its objects against its own limits."""
    rows = []
    for ns in snapshot.namespaces:
        limits = ns.limits
        counts: list[object] = ["?", "?", "?"]
        if not ns.error:
            counts = [_limit_use(len(ns.shm), limits.shmmni if limits else 0),
                      _limit_use(len(ns.msg), limits.msgmni if limits else 0),
                      _limit_use(len(ns.sem), limits.semmni if limits else 0)]
        rows.append([ns.name, ns.inode, ns.kind, len(ns.members), ns.leader, *counts, ns.error or "-"])
    headers = ["NAME", "INODE", "KIND", "PROCS", "LEADER", "SHM/SHMMNI", "MSG/MSGMNI", "SEM/SEMMNI", "NOTE"]
    return table(headers, rows, numeric={1, 3, 4})



def _fill(pipe: Pipe | Fifo) -> str:
    return human_bytes(pipe.fill) if pipe.fill is not None else "-"


def pipe_table(snapshot: Snapshot) -> str:
    rows = [
        [p.inode, _fill(p), human_bytes(p.capacity), _ends(p.writers), _ends(p.readers)]
        for p in sorted(snapshot.pipes.values(), key=lambda p: p.inode)
    ]
    return table(["INODE", "WAITING", "CAPACITY", "WRITERS", "READERS"], rows, numeric={0, 1, 2})


def fifo_table(snapshot: Snapshot) -> str:
    rows = [
        [f.path, f.inode, _fill(f), human_bytes(f.capacity), _ends(f.writers), _ends(f.readers)]
        for f in sorted(snapshot.fifos.values(), key=lambda f: f.path)
    ]
    return table(["PATH", "INODE", "WAITING", "CAPACITY", "WRITERS", "READERS"], rows, numeric={1, 2, 3})


def process_table(snapshot: Snapshot) -> str:
    """Processes and what they hold (shmids, msqids and semids of their own IPC namespace)."""
    rows = []
    names = {f"ipc:[{ns.inode}]": ns.name for ns in snapshot.namespaces} if shows_namespaces(snapshot) else None
    for p in sorted(snapshot.processes.values(), key=lambda p: p.pid):
        held = [f"shm:{i}" for i in p.shm] + [f"{h.kind}:{h.inode}/{h.fd}{h.mode}" for h in p.pipes]
        held += [f"msg:{i}" for i in p.msg] + [f"sem:{i}" for i in p.sem]
        row: list[object] = [p.pid, p.ppid, p.user, p.state, p.wchan or "-", p.comm, " ".join(held) or "-"]
        if names is not None:
            row.insert(2, names.get(p.ipc_ns, "?"))
        rows.append(row)
    headers = ["PID", "PPID", "USER", "S", "WCHAN", "COMMAND", "HOLDS"]
    if names is not None:
        headers.insert(2, "NAMESPACE")
    return table(headers, rows, numeric={0, 1})


SECTIONS = {
    "shm": ("Shared memory segments", shm_table, "shm"),
    "msg": ("Message queues", msg_table, "msg"),
    "sem": ("Semaphore sets", sem_table, "sem"),
    "pipe": ("Pipes", pipe_table, "pipes"),
    "fifo": ("FIFOs", fifo_table, "fifos"),
}
