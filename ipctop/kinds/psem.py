"""POSIX named semaphores (sem_open): /dev/shm/sem.NAME, held by the processes that map it."""

from __future__ import annotations

from ipctop.kinds.base import (
    Column,
    DetailText,
    Metric,
    ObjectKind,
    holder_users,
    holders_column,
    owner_field,
    perms_text,
    status_text,
    when,
)
from ipctop.model import PosixSem, Snapshot
from ipctop.render.waits import blocked_users


def _value(obj: PosixSem) -> str:
    return "?" if obj.value is None else str(obj.value)


def _waiters(obj: PosixSem) -> str:
    """Who is asleep in sem_wait on it (`python3[836]`), as a queue's waiters are named; where glibc counts
    more than were seen (in processes ipctop may not read), `~N` more; `?` where neither is known."""
    seen = ", ".join(f"{w.comm}[{w.pid}]" for w in obj.waiters)
    unseen = (obj.blocked or 0) - len(obj.waiters)
    if unseen > 0:
        return f"{seen}, ~{unseen} more" if seen else f"~{unseen}"
    return seen or ("-" if obj.blocked is not None else "?")


def describe(obj: PosixSem, snapshot: Snapshot) -> DetailText:
    fields = [
        ("name", obj.name),
        ("file", f"/dev/shm/sem.{obj.name.lstrip('/')}" + (" (unlinked)" if obj.unlinked else "")),
        ("inode", str(obj.inode)),
        owner_field(obj.uid, obj.gid, obj.owner),
        ("perms", f"{perms_text(obj.perms)} ({obj.perms:04o})"),
        ("value", _value(obj)),
        ("blocked in sem_wait", f"{len(obj.waiters)} seen, {'?' if obj.blocked is None else obj.blocked} by "
                                "glibc's count"),
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
    if obj.blocked and len(obj.waiters) < obj.blocked:
        notes.append(f"glibc counts {obj.blocked} waiting, ipctop saw {len(obj.waiters)}: the others are in "
                     "processes whose system calls it may not read, or were just woken.")
    return DetailText(f"POSIX semaphore {obj.name}", fields, blocked_users(obj.waiters) + holder_users(obj.holders),
                      notes)


KIND = ObjectKind(
    name="psem",
    field="psem",
    record=PosixSem,
    title="POSIX named semaphores",
    noun="named semaphore",
    help="POSIX named semaphores (sem_open): /dev/shm/sem.NAME",
    columns=(
        Column("name", "NAME", lambda o: o.name, shrink_to=14),
        Column("value", "VALUE", _value, numeric=True, sort=lambda o: -1 if o.value is None else o.value, width=6),
        Column("waiters", "WAITERS", _waiters, sort=lambda o: len(o.waiters) or o.blocked or 0, shrink_to=16),
        Column("owner", "OWNER", lambda o: o.owner, priority=3, shrink_to=6),
        Column("perms", "PERMS", lambda o: perms_text(o.perms), width=9, priority=5),
        Column("status", "STATUS", lambda o: status_text(o.unlinked), priority=2),
        holders_column(),
    ),
    label=lambda o: o.name,
    describe=describe,
    born=lambda o: o.made,
    value=lambda o: o.value,
    metrics=(
        Metric("value", "The semaphore's value (glibc layout)", lambda o: o.value),
        Metric("waiters", "Threads blocked in sem_wait on it (seen, else glibc's count)",
               lambda o: len(o.waiters) or o.blocked),
        Metric("holders", "Processes mapping it", lambda o: len({h.pid for h in o.holders})),
    ),
)
