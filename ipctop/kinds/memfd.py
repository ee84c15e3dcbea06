"""Shared memory without a name: memfds and shared anonymous mappings, one per object (inode)."""

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
)
from ipctop.model import Snapshot, UnnamedShm


def describe(obj: UnnamedShm, snapshot: Snapshot) -> DetailText:
    what = "memfd (memfd_create)" if obj.source == "memfd" else "shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS)"
    fields = [
        ("kind", what),
        ("name", obj.name or "-"),
        ("inode", str(obj.inode)),
        ("owner", "unknown" if obj.uid is None else f"{obj.owner} (uid {obj.uid})"),
        ("size", exact_bytes(obj.size)),
        ("memory used", exact_bytes(obj.allocated)),
        ("holders", holding_counts(obj.holders)),
    ]
    notes = ["It has no name: it lives while a process holds an fd on it or maps it, and goes with the last."]
    if obj.allocated is None:
        notes.append("How much memory it uses is read through a holder's fd or /proc/PID/map_files (root only).")
    return DetailText(f"Unnamed shared memory {obj.label}", fields, holder_users(obj.holders), notes)


KIND = ObjectKind(
    name="memfd",
    field="memfd",
    record=UnnamedShm,
    title="Shared memory without a name (memfd, shared anonymous)",
    noun="unnamed shared memory",
    help="memfds and shared anonymous mappings (a database's buffers)",
    columns=(
        Column("inode", "INODE", lambda o: str(o.inode), numeric=True, sort=lambda o: o.inode),
        Column("source", "KIND", lambda o: o.source),
        Column("name", "NAME", lambda o: o.name or "-", shrink_to=14),
        *memory_columns(),
        Column("owner", "OWNER", lambda o: o.owner, priority=3, shrink_to=6),
        holders_column(),
    ),
    label=lambda o: o.label,
    describe=describe,
    owner_uid=lambda o: o.uid,
    metrics=memory_metrics(),
    word=lambda o: "memfd" if o.source == "memfd" else "anon",
)
