"""POSIX named semaphores (sem_open): /dev/shm/sem.NAME, held by the processes that map it."""

from __future__ import annotations

from ipctop.kinds.base import (
    Column,
    DetailText,
    Metric,
    ObjectKind,
    holder_users,
    holders_text,
    owner_field,
    perms_text,
    status_text,
    when,
)
from ipctop.model import PosixSem, Snapshot


def _value(obj: PosixSem) -> str:
    return "?" if obj.value is None else str(obj.value)


def _waiters(obj: PosixSem) -> str:
    return "?" if obj.waiters is None else str(obj.waiters)


def describe(obj: PosixSem, snapshot: Snapshot) -> DetailText:
    fields = [
        ("name", obj.name),
        ("file", f"/dev/shm/sem.{obj.name.lstrip('/')}" + (" (unlinked)" if obj.unlinked else "")),
        ("inode", str(obj.inode)),
        owner_field(obj.uid, obj.gid, obj.owner),
        ("perms", f"{perms_text(obj.perms)} ({obj.perms:04o})"),
        ("value", _value(obj)),
        ("waiters (glibc's count)", _waiters(obj)),
        ("layout", obj.layout),
        ("last change", when(obj.mtime)),
    ]
    notes = []
    if obj.value is None:
        notes.append("Its value is unknown: its bytes do not have glibc's layout, or ipctop may not read them.")
    if obj.unlinked:
        notes.append("Unlinked (sem_unlink): the name shown is the one in its holders' mappings; glibc maps a "
                     "new semaphore under a temporary name first, so it may not be the name it was opened by.")
    notes.append("glibc closes a named semaphore's fd once mapped: its holders are the processes that map it.")
    return DetailText(f"POSIX semaphore {obj.name}", fields, holder_users(obj.holders), notes)


KIND = ObjectKind(
    name="psem",
    field="psem",
    record=PosixSem,
    title="POSIX named semaphores",
    noun="named semaphore",
    help="POSIX named semaphores (sem_open): /dev/shm/sem.NAME",
    columns=(
        Column("name", "NAME", lambda o: o.name),
        Column("value", "VALUE", _value, numeric=True, sort=lambda o: -1 if o.value is None else o.value, width=6),
        Column("waiters", "WAITERS", _waiters, numeric=True, sort=lambda o: o.waiters or 0, width=7),
        Column("owner", "OWNER", lambda o: o.owner),
        Column("perms", "PERMS", lambda o: perms_text(o.perms), width=9),
        Column("status", "STATUS", lambda o: status_text(o.unlinked)),
        Column("holders", "HELD BY", lambda o: holders_text(o.holders), sort=lambda o: len(o.holders)),
    ),
    label=lambda o: o.name,
    describe=describe,
    born=lambda o: o.made,
    value=lambda o: o.value,
    metrics=(
        Metric("value", "The semaphore's value (glibc layout)", lambda o: o.value),
        Metric("waiters", "Processes waiting in sem_wait (glibc's count)", lambda o: o.waiters),
        Metric("holders", "Processes mapping it", lambda o: len({h.pid for h in o.holders})),
    ),
)
