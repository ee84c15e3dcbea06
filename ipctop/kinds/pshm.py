"""POSIX shared memory (shm_open): files of /dev/shm, with every process that holds an fd or maps it."""

from __future__ import annotations

from ipctop.kinds.base import (
    Column,
    DetailText,
    ObjectKind,
    exact_bytes,
    holder_users,
    holders_column,
    holding_counts,
    memory_columns,
    memory_metrics,
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
        Column("name", "NAME", lambda o: o.name, shrink_to=14),
        *memory_columns(),
        Column("owner", "OWNER", lambda o: o.owner, priority=3, shrink_to=6),
        Column("perms", "PERMS", lambda o: perms_text(o.perms), width=9, priority=5),
        Column("status", "STATUS", lambda o: status_text(o.unlinked), priority=2),
        holders_column(),
    ),
    label=lambda o: o.name,
    describe=describe,
    born=lambda o: o.made,
    metrics=memory_metrics(),
)
