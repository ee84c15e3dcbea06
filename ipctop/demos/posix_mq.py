"""The posix-mq demo: mq_open with a capacity, mq_notify, priorities, and a full queue blocking a sender.
See catalog.py for the lesson."""

from __future__ import annotations

import errno
import os
import signal

from ipctop.demos import ccalls, proc
from ipctop.demos.context import ChildContext, DemoContext
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError

MAX_MESSAGES = 4
MESSAGE_SIZE = 64
NOTIFY_SIGNAL = signal.SIGRTMIN + 1


def _send(who, fd: int, text: str, priority: int, flags: str = "") -> None:  # type: ignore[no-untyped-def]
    data = text.encode()
    call = f"mq_send({fd}, {ccalls.cstr(data)}, {len(data)}, {priority})"
    try:
        posix.mq_send(fd, data, priority)
    except IpcError as error:
        who.call(call, ccalls.failure(error.errno))
        raise
    who.call(call, 0)


def _receive(who, fd: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    received = posix.mq_receive(fd, MESSAGE_SIZE)
    assert received is not None
    data, priority = received
    who.call(f"mq_receive({fd}, buf, {MESSAGE_SIZE}, &prio)", f"{len(data)} {ccalls.cstr(data)}; prio = {priority}")
    return data.decode(), priority


def _tell_attributes(who, fd: int) -> int:  # type: ignore[no-untyped-def]
    attributes = posix.mq_getattr(fd)
    who.call(f"mq_getattr({fd}, &attr)", f"0; mq_curmsgs = {attributes.messages}, mq_maxmsg = "
             f"{attributes.max_messages}, mq_msgsize = {attributes.message_size}")
    return attributes.messages


def posix_mq(ctx: DemoContext) -> None:
    ctx.step("create", f"The owner makes a queue of {MAX_MESSAGES} messages of up to {MESSAGE_SIZE} bytes")
    fd, name = ctx.create_posix(
        "pmsg",
        lambda n: posix.mq_open(n, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, MAX_MESSAGES, MESSAGE_SIZE),
        lambda n: f"mq_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL|O_RDWR, 0600, "
                  f"{{mq_maxmsg={MAX_MESSAGES}, mq_msgsize={MESSAGE_SIZE}}})")
    ctx.note("a queue has a name like a file (/dev/mqueue shows it where mounted) and lives until mq_unlink")

    def receiver_body(child: ChildContext) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {NOTIFY_SIGNAL})
        mine = posix.mq_open(name, os.O_RDONLY)
        child.call(f"mq_open({ccalls.cstr(name.encode(), 64)}, O_RDONLY)", mine)
        posix.mq_notify(mine, NOTIFY_SIGNAL)
        child.call(f"mq_notify({mine}, {{SIGEV_SIGNAL, SIGRTMIN+1}})", 0)
        child.note("registered: the kernel signals this process when a message arrives in the empty queue")
        child.ack()
        signal.sigwait({NOTIFY_SIGNAL})
        child.call("sigwait({SIGRTMIN+1})", "SIGRTMIN+1: a message arrived")
        _receive(child, mine)
        child.ack()
        child.wait_poke()
        order = [_receive(child, mine) for _ in range(3)]
        child.note("highest priority first: " + ", ".join(f"{text} ({priority})" for text, priority in order))
        child.result("priority_order", ",".join(str(priority) for _, priority in order))
        child.ack()
        child.wait_poke()
        child.call("exit(0)")

    ctx.step("notify", "A receiver asks to be told when a message arrives (mq_notify), then one is sent")
    receiver = ctx.fork("receiver", receiver_body)
    ctx.wait_ack(receiver)
    ctx.note("look: `ipctop list --queue-files` shows the receiver as NOTIFY_PID")
    _send(ctx, fd, "wake up", 1)
    ctx.wait_ack(receiver)
    ctx.note("a notification is for one arrival only: the receiver would register again for the next")

    ctx.step("priorities", "Three messages with priorities 1, 7 and 3: they come out highest first")
    for text, priority in (("low", 1), ("urgent", 7), ("middle", 3)):
        _send(ctx, fd, text, priority)
    ctx.poke(receiver)
    ctx.wait_ack(receiver)
    ctx.poke(receiver)
    ctx.reap_and_tell(receiver)

    ctx.step("full", f"The queue fills to {MAX_MESSAGES} messages: a sender blocks in mq_send")
    for number in range(MAX_MESSAGES):
        _send(ctx, fd, f"message {number}", 0)
    _tell_attributes(ctx, fd)

    def sender_body(child: ChildContext) -> None:
        mine = posix.mq_open(name, os.O_WRONLY)
        child.call(f"mq_open({ccalls.cstr(name.encode(), 64)}, O_WRONLY)", mine)
        child.ack()
        _send(child, mine, "one too many", 0)
        child.note("mq_send returned: a place came free")
        child.wait_poke()
        child.call("exit(0)")

    sender = ctx.fork("sender", sender_body)
    ctx.wait_ack(sender)
    ctx.wait_until(lambda: proc.wchan(sender) not in ("", "0"), "the sender blocking in mq_send")
    ctx.note(f"look: sender {sender} sleeps in {proc.wchan(sender)} (mq_timedsend): the queue is full")
    ctx.result("sender_wchan", proc.wchan(sender))

    ctx.step("nonblock", "With O_NONBLOCK a full queue says EAGAIN instead of blocking; a receive frees a place")
    nonblocking = posix.mq_open(name, os.O_WRONLY | os.O_NONBLOCK)
    ctx.call(f"mq_open({ccalls.cstr(name.encode(), 64)}, O_WRONLY|O_NONBLOCK)", nonblocking)
    try:
        _send(ctx, nonblocking, "no room", 0)
    except IpcError as error:
        if error.errno != errno.EAGAIN:
            raise
        ctx.result("nonblocking_errno", error.errno)
    ctx.close(nonblocking)
    _receive(ctx, fd)
    ctx.wait_until(lambda: posix.mq_getattr(fd).messages == MAX_MESSAGES, "the blocked send completing")
    _tell_attributes(ctx, fd)

    ctx.step("unlink", "mq_unlink and close: the queue and its messages are gone")
    ctx.poke(sender)
    ctx.reap_and_tell(sender)
    ctx.unlink_posix("pmsg", name)
    ctx.close(fd)
    ctx.note("mq_unlink removes the name at once; the queue goes when the last descriptor is closed")
