"""POSIX message queues (mq_open): files of the mqueue filesystem, or queues held open by a process."""

from __future__ import annotations

from ipctop.kinds.base import (
    Column,
    DetailText,
    Metric,
    ObjectKind,
    bytes_text,
    holder_users,
    holders_column,
    owner_field,
    perms_text,
    when,
)
from ipctop.model import PosixQueue, Snapshot
from ipctop.render.waits import blocked_users


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)


def _fill(obj: PosixQueue) -> str:
    return "-" if obj.fill is None else f"{obj.fill:.0%}"


def _status(obj: PosixQueue) -> str:
    if obj.unlinked:
        return "unlinked"
    return "-" if obj.listed else "held"


def _notify(obj: PosixQueue) -> str:
    if obj.notify_pid is None:
        return "?"
    return str(obj.notify_pid) if obj.notify_pid else "-"


def _waiters(obj: PosixQueue) -> str:
    """Who is blocked on it: `python[812] mq_timedreceive`."""
    return ", ".join(f"{w.comm}[{w.pid}] {w.call}" for w in obj.waiters) or "-"


def describe(obj: PosixQueue, snapshot: Snapshot) -> DetailText:
    fields = [
        ("name", obj.name + (" (unlinked)" if obj.unlinked else "")),
        ("inode", str(obj.inode)),
        owner_field(obj.uid, obj.gid, obj.owner),
        ("perms", "?" if obj.perms is None else f"{perms_text(obj.perms)} ({obj.perms:04o})"),
        ("messages (mq_curmsgs)", _number(obj.messages)),
        ("capacity (mq_maxmsg)", _number(obj.max_messages)),
        ("message size (mq_msgsize)", bytes_text(obj.message_size)),
        ("fill", _fill(obj)),
        ("bytes queued (QSIZE)", "not read" if obj.queued_bytes is None else bytes_text(obj.queued_bytes)),
        ("registered for mq_notify", "not read" if obj.notify_pid is None else _notify(obj)),
        ("last send or receive", when(obj.mtime)),
    ]
    notes = []
    if obj.messages is None:
        notes.append("Its attributes are unknown: ipctop may not open it (run as root, or as its owner).")
    if obj.queued_bytes is None:
        notes.append("QSIZE and NOTIFY_PID are in the queue's file, and reading it sets the queue's atime and "
                     "ctime: ipctop reads it only when asked (`ipctop list --queue-files`).")
    if not obj.listed:
        notes.append("Known from its holders' fds: /dev/mqueue is not mounted.")
    return DetailText(f"POSIX message queue {obj.name}", fields, blocked_users(obj.waiters) + holder_users(obj.holders),
                      notes)


KIND = ObjectKind(
    name="pmsg",
    field="pmsg",
    record=PosixQueue,
    title="POSIX message queues",
    noun="message queue",
    help="POSIX message queues (mq_open): the mqueue filesystem",
    columns=(
        Column("name", "NAME", lambda o: o.name, shrink_to=14),
        Column("messages", "MSGS", lambda o: _number(o.messages), numeric=True, sort=lambda o: o.messages or 0,
               width=5),
        Column("max", "MAX", lambda o: _number(o.max_messages), numeric=True, sort=lambda o: o.max_messages or 0,
               width=5),
        Column("msgsize", "MSGSIZE", lambda o: bytes_text(o.message_size), numeric=True,
               sort=lambda o: o.message_size or 0, width=7, priority=2),
        Column("fill", "FILL", _fill, numeric=True, sort=lambda o: o.fill or 0.0, width=5),
        Column("bytes", "QSIZE", lambda o: "?" if o.queued_bytes is None else bytes_text(o.queued_bytes),
               numeric=True, sort=lambda o: o.queued_bytes or 0, width=6),
        Column("notify", "NOTIFY", _notify, numeric=True, sort=lambda o: o.notify_pid or 0, priority=4),
        Column("owner", "OWNER", lambda o: o.owner, priority=3, shrink_to=6),
        Column("perms", "PERMS", lambda o: perms_text(o.perms), width=9, priority=5),
        Column("status", "STATUS", _status, priority=2),
        holders_column(),
        Column("waiters", "WAITERS", _waiters, sort=lambda o: len(o.waiters), priority=1, shrink_to=16),
    ),
    label=lambda o: o.name,
    describe=describe,
    level=lambda o: o.messages,
    metrics=(
        Metric("messages", "Messages in the queue (mq_curmsgs)", lambda o: o.messages),
        Metric("max_messages", "Messages it holds at most (mq_maxmsg)", lambda o: o.max_messages),
        Metric("holders", "Open fds on it", lambda o: len(o.holders)),
        Metric("waiters", "Threads blocked in mq_timedreceive or mq_timedsend on it", lambda o: len(o.waiters)),
    ),
)
