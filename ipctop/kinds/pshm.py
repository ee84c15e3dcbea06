"""POSIX shared memory (shm_open): files of /dev/shm, with every process that holds an fd or maps it."""

from __future__ import annotations

from ipctop.kinds.base import (
    Column,
    DetailText,
    Metric,
    ObjectKind,
    bytes_text,
    exact_bytes,
    holder_users,
    holders_text,
    holding_counts,
    owner_field,
    perms_text,
    status_text,
    when,
)
from ipctop.model import PosixShm, Snapshot


def describe(obj: PosixShm, snapshot: Snapshot) -> DetailText:
    fields = [
        ("name", obj.name),
        ("file", f"/dev/shm{obj.name}" + (" (unlinked)" if obj.unlinked else "")),
        ("inode", str(obj.inode)),
        owner_field(obj.uid, obj.gid, obj.owner),
        ("perms", f"{perms_text(obj.perms)} ({obj.perms:04o})"),
        ("size", exact_bytes(obj.size)),
        ("memory used", exact_bytes(obj.allocated)),
        ("holders", holding_counts(obj.holders)),
        ("last access", when(obj.atime)),
        ("last change", when(obj.mtime)),
    ]
    notes = []
    if obj.unlinked:
        notes.append("Unlinked (shm_unlink): its name is gone, its memory stays until the last holder closes "
                     "and unmaps it, like a System V segment marked for removal.")
    if not obj.holders:
        notes.append("Nobody holds it: it keeps its memory until it is unlinked (or the machine restarts).")
    return DetailText(f"POSIX shared memory {obj.name}", fields, holder_users(obj.holders), notes)


KIND = ObjectKind(
    name="pshm",
    field="pshm",
    record=PosixShm,
    title="POSIX shared memory",
    noun="shared memory object",
    help="POSIX shared memory (shm_open): files of /dev/shm",
    columns=(
        Column("name", "NAME", lambda o: o.name),
        Column("size", "SIZE", lambda o: bytes_text(o.size), numeric=True, sort=lambda o: o.size, width=6),
        Column("used", "USED", lambda o: bytes_text(o.allocated), numeric=True, sort=lambda o: o.allocated or 0,
               width=6),
        Column("owner", "OWNER", lambda o: o.owner),
        Column("perms", "PERMS", lambda o: perms_text(o.perms), width=9),
        Column("status", "STATUS", lambda o: status_text(o.unlinked)),
        Column("holders", "HELD BY", lambda o: holders_text(o.holders), sort=lambda o: len(o.holders)),
    ),
    label=lambda o: o.name,
    describe=describe,
    born=lambda o: o.made,
    metrics=(
        Metric("size_bytes", "Size of the object", lambda o: o.size),
        Metric("used_bytes", "Memory (or swap) it takes", lambda o: o.allocated),
        Metric("holders", "Open fds and mappings on it", lambda o: len(o.holders)),
    ),
)
