"""System V message queues: messages, bytes and capacity."""

from __future__ import annotations

from collections.abc import Iterable

from ipctop.exporter.kinds.base import LimitUse, ObjectKind, Sample
from ipctop.exporter.metric import Metric
from ipctop.exporter.waits import Waits
from ipctop.model import MsgQueue, Snapshot
from ipctop.render.formatting import hex_key

_ID = ("msqid", "key", "owner")
MESSAGES = Metric("ipctop_msgq_messages", "Messages waiting in a System V message queue.", _ID, scoped=True)
BYTES = Metric("ipctop_msgq_bytes", "Bytes of the messages waiting in a queue.", _ID, scoped=True)
CAPACITY = Metric("ipctop_msgq_capacity_bytes", "Most bytes a queue may hold (msg_qbytes); a sender blocks when the "
                  "next message does not fit. Absent when msgctl(IPC_STAT) is refused.", _ID, scoped=True)


class SysvMsg(ObjectKind):
    name = "msg"
    identity = _ID
    metrics = (MESSAGES, BYTES, CAPACITY)
    leaks = True

    def objects(self, snapshot: Snapshot) -> Iterable[MsgQueue]:
        return snapshot.all_msg()  # of every IPC namespace: build.py labels each with its own

    def labels(self, obj: MsgQueue) -> tuple[str, ...]:
        return str(obj.msqid), hex_key(obj.key), obj.owner

    def rank(self, obj: MsgQueue, waits: Waits) -> tuple:
        return obj.fill or 0.0, obj.cbytes, obj.qnum, -obj.msqid

    def samples(self, obj: MsgQueue, waits: Waits) -> Iterable[Sample]:
        yield Sample(MESSAGES, obj.qnum)
        yield Sample(BYTES, obj.cbytes)
        if obj.qbytes is not None:
            yield Sample(CAPACITY, obj.qbytes)

    def held_bytes(self, obj: MsgQueue) -> int:
        return obj.cbytes

    def find(self, snapshot: Snapshot, ident: int, ipc_ns: int = 0) -> MsgQueue | None:
        namespace = snapshot.namespace(ipc_ns) if ipc_ns else None
        return (namespace.msg if namespace is not None else snapshot.msg).get(ident)

    def limit_uses(self, snapshot: Snapshot) -> Iterable[LimitUse]:
        if snapshot.limits is not None:
            yield LimitUse("msg_queues", "objects", snapshot.limits.msgmni, len(snapshot.msg))


KIND = SysvMsg()
