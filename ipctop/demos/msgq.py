"""The System V message queue demos: msgq and msgq-full.  See catalog.py for the lessons."""

from __future__ import annotations

import os

from ipctop.demos import ccalls, proc
from ipctop.demos.context import ChildContext, DemoContext, Narrator
from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError

MESSAGES = ((3, b"three"), (1, b"one"), (2, b"two"), (1, b"one again"), (5, b"five"))


def send(who: Narrator, msqid: int, mtype: int, data: bytes, nowait: bool = False, quiet: bool = False) -> int:
    """msgsnd, told; 0, or -errno for EAGAIN and EIDRM."""
    call = f"msgsnd({msqid}, {{mtype={mtype}, {ccalls.cstr(data, 16)}}}, {len(data)}, " \
           f"{'IPC_NOWAIT' if nowait else '0'})"
    if quiet:  # told only when it fails
        try:
            sysv.msgsnd(msqid, mtype, data, nowait=nowait)
        except IpcError as error:
            who.call(call, ccalls.failure(error.errno))
            return -error.errno
        return 0
    try:
        who.around(call, lambda: sysv.msgsnd(msqid, mtype, data, nowait=nowait), lambda _none: 0)
    except IpcError as error:
        return -error.errno
    return 0


def receive(who: Narrator, msqid: int, mtype: int) -> tuple[int, bytes]:
    def told(message: tuple[int, bytes]) -> str:
        return f"{len(message[1])}; msg = {{mtype={message[0]}, {ccalls.cstr(message[1])}}}"

    return who.around(f"msgrcv({msqid}, &msg, 64, {mtype}, 0)", lambda: sysv.msgrcv(msqid, mtype, 64), told)


def tell_queue(who: Narrator, msqid: int) -> sysv.MsgStat:
    stat = sysv.msg_stat(msqid)
    who.call(f"msgctl({msqid}, IPC_STAT, &ds)", f"0; msg_qnum {stat.qnum}, msg_cbytes {stat.cbytes}, "
             f"msg_qbytes {stat.qbytes}")
    return stat


def msgq(ctx: DemoContext) -> None:
    ctx.step("create", "The sender creates a queue; a receiver process starts")
    msqid, _ = ctx.create_msg(0o600)
    received: list[str] = []

    def receiver_body(child: ChildContext) -> None:
        for mtype in (0, 2, -2, -2, 4, 0):
            child.wait_poke()
            if mtype == 4:
                child.note("no message of type 4 is waiting: msgrcv blocks (wchan do_msgrcv)")
            received_type, data = receive(child, msqid, mtype)
            child.result(f"received_{len(received)}", f"{mtype}:{received_type}:{data.decode()}")
            received.append(data.decode())
            child.ack()
        child.wait_poke()
        child.call("exit(0)")

    receiver = ctx.fork("receiver", receiver_body)

    ctx.step("send", "The sender sends five messages of types 3, 1, 2, 1, 5")
    for mtype, data in MESSAGES:
        send(ctx, msqid, mtype, data)
    tell_queue(ctx, msqid)
    ctx.note(f"look: queue {msqid} holds 5 messages; nothing has been received yet")

    def take(explanation: str) -> None:
        ctx.poke(receiver)
        ctx.wait_ack(receiver)
        ctx.note(explanation)

    ctx.step("type-0", "msgrcv type 0: the oldest message, whatever its type")
    take("type 0 takes the head of the queue: the type 3 message sent first")

    ctx.step("type-positive", "msgrcv type 2: the oldest message of type 2, skipping the others")
    take("type 2 skips the older messages of types 1")

    ctx.step("type-negative", "msgrcv type -2: the lowest type up to 2, oldest first")
    take("type -2 takes the lowest type <= 2: a type 1 message")
    take("again: the other type 1 message; the type 5 message is never taken by -2")
    tell_queue(ctx, msqid)

    ctx.step("blocked", "msgrcv type 4 with no such message: the receiver blocks")
    ctx.poke(receiver)
    where = ctx.wait_until(lambda: proc.wchan(receiver) if proc.wchan(receiver) == "do_msgrcv" else "",
                           f"the receiver {receiver} blocking in msgrcv")
    ctx.result("receiver_wchan", where)
    ctx.note(f"look: /proc/{receiver}/wchan is {where}; the type 5 message stays in the queue")

    ctx.step("wake", "The sender sends a type 4 message: the receiver wakes; then the queue is removed")
    send(ctx, msqid, 4, b"four")
    ctx.wait_ack(receiver)
    take("type 0 again: the last message left")
    ctx.poke(receiver)
    ctx.reap_and_tell(receiver)
    tell_queue(ctx, msqid)
    ctx.remove("msg", msqid)


def msgq_full(ctx: DemoContext) -> None:
    ctx.step("create", "The owner creates a queue: it holds msg_qbytes bytes (msgmnb)")
    msqid, _ = ctx.create_msg(0o600)
    qbytes = tell_queue(ctx, msqid).qbytes
    with open("/proc/sys/kernel/msgmax") as f:
        size = min(1024, int(f.read()))
    ctx.result("qbytes", qbytes)

    def sender_body(child: ChildContext) -> int:
        child.wait_poke()
        data = b"m" * size
        count = qbytes // size
        for _ in range(count):
            send(child, msqid, 1, data, quiet=True)
        child.note(f"{count} messages of {size} bytes sent: the queue holds {count * size} of {qbytes} bytes")
        child.note("the next msgsnd blocks until there is room (wchan do_msgsnd)")
        result = send(child, msqid, 1, data)
        child.call(f"exit({-result})")
        return -result

    sender = ctx.fork("sender", sender_body)

    ctx.step("fill", "A sender fills the queue; its next msgsnd blocks")
    ctx.poke(sender)
    where = ctx.wait_until(lambda: proc.wchan(sender) if proc.wchan(sender) == "do_msgsnd" else "",
                           f"the sender {sender} blocking in msgsnd")
    stat = tell_queue(ctx, msqid)
    ctx.result("sender_wchan", where)
    ctx.result("full_cbytes", stat.cbytes)
    ctx.note(f"look: /proc/{sender}/wchan is {where}; the queue shows {stat.cbytes} of {stat.qbytes} bytes")

    ctx.step("nowait", "The owner tries to send with IPC_NOWAIT: EAGAIN instead of blocking")
    ctx.result("nowait_result", send(ctx, msqid, 1, b"m" * size, nowait=True))

    ctx.step("rmid", "The owner removes the queue: the blocked sender wakes with EIDRM")
    ctx.remove("msg", msqid)
    ctx.wait_exit(sender)
    ctx.note(f"look: {sender} is a zombie; it exited with the errno it got as its status")

    ctx.step("reap", "waitpid() shows the sender's exit status: 43 is EIDRM")
    status = ctx.reap_and_tell(sender)
    ctx.result("sender_status", status)
    ctx.note(f"errno {os.WEXITSTATUS(status)} is EIDRM: identifier removed")
