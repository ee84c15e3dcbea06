"""Shared memory without a name: memfds and shared anonymous mappings, one per object (inode)."""

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
        Column("name", "NAME", lambda o: o.name or "-"),
        Column("size", "SIZE", lambda o: bytes_text(o.size), numeric=True, sort=lambda o: o.size, width=6),
        Column("used", "USED", lambda o: bytes_text(o.allocated), numeric=True, sort=lambda o: o.allocated or 0,
               width=6),
        Column("owner", "OWNER", lambda o: o.owner),
        Column("holders", "HELD BY", lambda o: holders_text(o.holders), sort=lambda o: len(o.holders)),
    ),
    label=lambda o: o.label,
    describe=describe,
    owner_uid=lambda o: o.uid,
    metrics=(
        Metric("size_bytes", "Size of the object", lambda o: o.size),
        Metric("used_bytes", "Memory (or swap) it takes", lambda o: o.allocated),
        Metric("holders", "Open fds and mappings on it", lambda o: len(o.holders)),
    ),
)
