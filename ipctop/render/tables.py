"""Aligned text tables of a snapshot, in the manner of lsipc: keys in hex,
sizes human-readable, one section per object type."""

from __future__ import annotations

from collections.abc import Sequence

from ipctop.model import Fifo, Pipe, PipeEnd, Snapshot
from ipctop.render.escape import printable
from ipctop.render.formatting import hex_key, human_bytes, proc_label, rwx


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int] | None = None) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned, the last column left unpadded.

    Every cell is escaped (render/escape.py): a process or file name cannot act on the terminal
    or break a row in two."""
    numeric = numeric or set()
    cells = [[printable(str(c)) for c in row] for row in rows]
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


def shm_table(snapshot: Snapshot) -> str:
    rows = []
    for s in sorted(snapshot.shm.values(), key=lambda s: s.shmid):
        attached = ",".join(proc_label(a.comm, a.pid) for a in s.attachers) or "-"
        key = hex_key(s.key) + (f" (was {hex_key(s.original_key)})" if s.original_key is not None else "")
        rows.append([key, s.shmid, s.owner, rwx(s.perms), human_bytes(s.size), s.nattch,
                     ",".join(s.status) or "-", s.cpid, s.lpid, attached])
    headers = ["KEY", "SHMID", "OWNER", "PERMS", "SIZE", "NATTCH", "STATUS", "CPID", "LPID", "ATTACHED"]
    return table(headers, rows, numeric={1, 4, 5, 7, 8})


def msg_table(snapshot: Snapshot) -> str:
    rows = []
    for q in sorted(snapshot.msg.values(), key=lambda q: q.msqid):
        fill = f"{q.fill:.0%}" if q.fill is not None else "-"
        rows.append([hex_key(q.key), q.msqid, q.owner, rwx(q.perms), q.qnum, human_bytes(q.cbytes),
                     human_bytes(q.qbytes), fill, q.lspid, q.lrpid])
    headers = ["KEY", "MSQID", "OWNER", "PERMS", "MESSAGES", "USED", "CAPACITY", "FILL", "LSPID", "LRPID"]
    return table(headers, rows, numeric={1, 4, 5, 6, 7, 8, 9})


def sem_table(snapshot: Snapshot) -> str:
    rows = []
    for s in sorted(snapshot.sem.values(), key=lambda s: s.semid):
        def listed(values: tuple[int, ...]) -> str:
            return ",".join(map(str, values)) or "?"

        rows.append([hex_key(s.key), s.semid, s.owner, rwx(s.perms), s.nsems, listed(s.values),
                     listed(s.ncnt), listed(s.zcnt)])
    headers = ["KEY", "SEMID", "OWNER", "PERMS", "NSEMS", "VALUES", "NCNT", "ZCNT"]
    return table(headers, rows, numeric={1, 4})


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
    rows = []
    for p in sorted(snapshot.processes.values(), key=lambda p: p.pid):
        held = [f"shm:{i}" for i in p.shm] + [f"{h.kind}:{h.inode}/{h.fd}{h.mode}" for h in p.pipes]
        held += [f"msg:{i}" for i in p.msg] + [f"sem:{i}" for i in p.sem]
        rows.append([p.pid, p.ppid, p.user, p.state, p.wchan or "-", p.comm, " ".join(held) or "-"])
    return table(["PID", "PPID", "USER", "S", "WCHAN", "COMMAND", "HOLDS"], rows, numeric={0, 1})


SECTIONS = {
    "shm": ("Shared memory segments", shm_table, "shm"),
    "msg": ("Message queues", msg_table, "msg"),
    "sem": ("Semaphore sets", sem_table, "sem"),
    "pipe": ("Pipes", pipe_table, "pipes"),
    "fifo": ("FIFOs", fifo_table, "fifos"),
}
