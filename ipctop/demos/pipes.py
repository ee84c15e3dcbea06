"""The anonymous pipe demos: pipe, pipe-full, sigpipe, pipe-eof, pipeline.

Each function is a script run in the demo process with a DemoContext; the
children it forks run the nested functions.  See catalog.py for the lessons.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import termios
from collections.abc import Callable

from ipctop.demos import proc
from ipctop.demos.context import ChildContext, DemoContext, Narrator

F_GETPIPE_SZ = 1032
PIPE_BUF = 4096


def bytes_waiting(who: Narrator, fd: int) -> int:
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    who.call(f"ioctl({fd}, FIONREAD, &n)", f"0; n = {count[0]}")
    return count[0]


def set_nonblocking(who: Narrator, fd: int, nonblocking: bool) -> None:
    os.set_blocking(fd, not nonblocking)
    who.call(f"fcntl({fd}, F_SETFL, {'O_NONBLOCK' if nonblocking else '0'})", 0)


def pipe(ctx: DemoContext) -> None:
    ctx.step("pipe", "The parent creates a pipe: one read end, one write end")
    read_end, write_end = ctx.pipe()
    ctx.note(f"look: pipe:[inode] appears, both ends held by the parent {ctx.pid} (lsof -p {ctx.pid})")

    def child_body(child: ChildContext) -> None:
        child.close(read_end)
        child.ack()
        child.wait_poke()
        for number in range(1, 6):
            child.pause(1.0)
            child.write(write_end, f"hello {number}\n".encode())
            child.ack()
        child.wait_poke()
        child.close(write_end)
        child.call("exit(0)")

    ctx.step("fork", "fork(): the child inherits both ends; each closes the end it does not use")
    child = ctx.fork("child", child_body)
    ctx.wait_ack(child)
    ctx.close(write_end)
    ctx.note(f"look: now the parent reads (fd {read_end}) and the child {child} writes (fd {write_end})")

    ctx.step("talk", "The child writes five messages; the parent reads each one")
    ctx.poke(child)
    for _ in range(5):
        if not bytes_waiting(ctx, read_end):
            ctx.note(f"the pipe is empty: read blocks (the wchan of {ctx.pid} ends in pipe_read) until the child "
                     "writes")
        ctx.read(read_end)
        ctx.wait_ack(child)

    ctx.step("eof", "The child closes its end and exits: the parent's read returns 0, end of file")
    ctx.poke(child)
    data = ctx.read(read_end)
    ctx.result("eof_read", len(data or b""))
    ctx.note("no write end is left open anywhere, so read() says end of file")

    ctx.step("reap", "The parent reaps the child and closes its end: the pipe is gone")
    ctx.reap_and_tell(child)
    ctx.close(read_end)


def pipe_full(ctx: DemoContext) -> None:
    ctx.step("pipe", "A pipe: its capacity is F_GETPIPE_SZ, not PIPE_BUF")
    read_end, write_end = ctx.pipe()
    capacity = fcntl.fcntl(read_end, F_GETPIPE_SZ)
    ctx.call(f"fcntl({read_end}, F_GETPIPE_SZ)", capacity)
    ctx.result("pipe_capacity", capacity)
    ctx.note(f"PIPE_BUF is {PIPE_BUF}: the size up to which a write is atomic, not what the pipe holds")

    def writer_body(child: ChildContext) -> None:
        child.close(read_end)
        child.ack()
        child.wait_poke()
        set_nonblocking(child, write_end, True)
        total, writes = 0, 0
        while (count := child.write(write_end, b"x" * PIPE_BUF, quiet=True)) > 0:
            total, writes = total + count, writes + 1
        child.note(f"{writes} writes of {PIPE_BUF} bytes went in: {total} bytes, then EAGAIN")
        child.result("filled_bytes", total)
        child.ack()
        child.wait_poke()
        set_nonblocking(child, write_end, False)
        child.note("write of 1 byte on the full pipe: it blocks (its wchan ends in pipe_write)")
        child.write(write_end, b"y")
        child.ack()
        child.wait_poke()
        set_nonblocking(child, write_end, True)
        child.write(write_end, b"z" * PIPE_BUF)
        child.note(f"there are {PIPE_BUF - 1} bytes free in the last page, but a write of up to PIPE_BUF "
                   "goes in whole or not at all")
        child.ack()
        child.wait_poke()
        partial = child.write(write_end, b"w" * 2 * PIPE_BUF)
        child.result("partial_write", partial)
        child.note(f"a write of more than PIPE_BUF may go in part: {partial} of {2 * PIPE_BUF} bytes")
        child.ack()
        child.wait_poke()

    writer = ctx.fork("writer", writer_body)
    ctx.wait_ack(writer)
    ctx.close(write_end)

    ctx.step("fill", "The writer fills the pipe with non-blocking writes until EAGAIN; nobody reads")
    ctx.poke(writer)
    ctx.wait_ack(writer)
    ctx.result("fionread_full", bytes_waiting(ctx, read_end))

    ctx.step("block", "A blocking write on the full pipe: the writer sleeps in the kernel")
    ctx.poke(writer)
    where = ctx.wait_until(lambda: _sleeps_in(writer, "pipe_write"), f"the writer {writer} blocking")
    ctx.result("writer_wchan", where)
    ctx.note(f"look: /proc/{writer}/wchan is {where}; the pipe shows {capacity} of {capacity} bytes")

    ctx.step("drain", f"The reader takes {PIPE_BUF} bytes: the blocked writer wakes")
    read_quietly(ctx, read_end, PIPE_BUF)
    ctx.wait_ack(writer)
    bytes_waiting(ctx, read_end)

    ctx.step("atomic", "PIPE_BUF atomicity: a 4096-byte write is never split; an 8192-byte one may be")
    ctx.poke(writer)
    ctx.wait_ack(writer)
    read_quietly(ctx, read_end, PIPE_BUF)
    ctx.note("one page is free again")
    ctx.poke(writer)
    ctx.wait_ack(writer)
    ctx.poke(writer)
    ctx.reap_and_tell(writer)
    ctx.close(read_end)


def read_quietly(who: Narrator, fd: int, size: int) -> bytes:
    """read() of `size` bytes told by its count alone (the bytes are the writer's x's)."""
    return who.around(f"read({fd}, buf, {size})", lambda: os.read(fd, size), len)


def _sleeps_in(pid: int, function: str) -> str:
    """wchan when the process sleeps in `function` (pipe_write, or anon_pipe_write on Linux 6.14+)."""
    where = proc.wchan(pid)
    return where if where.endswith(function) else ""


def writer_with_one_message(
    ctx: DemoContext,
    pipe_step: str,
    message_step: tuple[str, str],
    message: bytes,
    afterwards: Callable[[ChildContext, int], None],
) -> tuple[int, int]:
    """The opening of sigpipe and pipe-eof: a pipe, a writer child that keeps only the write end,
    and one message it writes when poked, which the parent reads; poked once more, the writer
    goes on with `afterwards(child, write_end)`.  Returns (the writer's pid, the read end)."""
    ctx.step("pipe", pipe_step)
    read_end, write_end = ctx.pipe()

    def writer_body(child: ChildContext) -> None:
        child.close(read_end)
        child.ack()
        child.wait_poke()
        child.write(write_end, message)
        child.ack()
        child.wait_poke()
        afterwards(child, write_end)

    writer = ctx.fork("writer", writer_body)
    ctx.wait_ack(writer)
    ctx.close(write_end)

    ctx.step(*message_step)
    ctx.poke(writer)
    ctx.wait_ack(writer)
    ctx.read(read_end)
    return writer, read_end


def sigpipe(ctx: DemoContext) -> None:
    def write_again(child: ChildContext, write_end: int) -> None:
        child.note("write to a pipe that has no reader: the kernel sends SIGPIPE, whose default kills")
        child.write(write_end, b"anyone there?\n")
        child.note("not reached")

    writer, read_end = writer_with_one_message(
        ctx, "A pipe between the reader (the parent) and a writer child",
        ("talk", "The writer writes, the reader reads"), b"hello\n", write_again,
    )  # fmt: skip

    ctx.step("close", "The reader closes its end: the pipe has no reader left")
    ctx.close(read_end)

    ctx.step("write", "The writer writes again")
    ctx.poke(writer)
    ctx.wait_exit(writer)
    ctx.note(f"look: {writer} is a zombie now; /proc/{writer}/stat holds its wait status until it is reaped")

    ctx.step("reap", "waitpid() shows how it died: killed by SIGPIPE")
    status = ctx.reap_and_tell(writer)
    ctx.result("sigpipe_status", status)

    ctx.step("ignore", "With SIGPIPE ignored, the same write fails with EPIPE instead")
    read_end, write_end = ctx.pipe()

    def ignoring_body(child: ChildContext) -> int:
        import signal

        child.close(read_end)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        child.call("signal(SIGPIPE, SIG_IGN)", "SIG_DFL")
        child.ack()
        child.wait_poke()
        result = child.write(write_end, b"anyone there?\n")
        child.call(f"exit({-result})")
        return -result

    ignoring = ctx.fork("writer", ignoring_body)
    ctx.wait_ack(ignoring)
    ctx.close(write_end)
    ctx.close(read_end)
    ctx.poke(ignoring)
    ctx.wait_exit(ignoring)

    ctx.step("reap-epipe", "waitpid() shows that this writer exited normally")
    status = ctx.reap_and_tell(ignoring)
    ctx.result("epipe_status", status)
    ctx.note("the writer lived to see -1 EPIPE and exited with that errno (32) as its status")


def pipe_eof(ctx: DemoContext) -> None:
    def close_later(child: ChildContext, write_end: int) -> None:
        child.pause(2.0)
        child.close(write_end)
        child.note("the writer closed its end and lives on: it is the close that matters, not the exit")
        child.wait_poke()

    writer, read_end = writer_with_one_message(
        ctx, "A pipe and a writer child; each side closes the end it does not use",
        ("message", "The writer writes one message; the reader reads it"), b"last words\n", close_later,
    )  # fmt: skip

    ctx.step("eof", "The reader reads again: it blocks while the writer holds its end, then gets 0")
    ctx.poke(writer)
    ctx.note(f"the pipe is empty: read blocks (the wchan of {ctx.pid} ends in pipe_read) while a write end is open")
    data = ctx.read(read_end)
    ctx.result("eof_read", len(data or b""))
    ctx.poke(writer)
    ctx.reap_and_tell(writer)
    ctx.close(read_end)

    ctx.step("forgotten", "The classic bug: the reader forgets to close its own copy of the write end")
    read_end, write_end = ctx.pipe()

    def leaving_body(child: ChildContext) -> None:
        child.close(read_end)
        child.write(write_end, b"bye\n")
        child.close(write_end)
        child.call("exit(0)")

    leaving = ctx.fork("writer", leaving_body)
    ctx.read(read_end)
    ctx.reap_and_tell(leaving)
    timeout_ms = int(1000 / ctx.speed)
    ready = ctx.around(f"poll([{{fd={read_end}, events=POLLIN}}], 1, {timeout_ms})",
                       lambda: select.select([read_end], [], [], timeout_ms / 1000)[0],
                       lambda ready: "0 (timeout)" if not ready else 1)  # fmt: skip
    ctx.result("forgotten_end_poll", len(ready))
    ctx.note(f"no end of file: the reader itself still holds write end {write_end}; "
             f"look: lsof -p {ctx.pid} shows both ends")

    ctx.step("close", "The reader closes its copy of the write end: now read returns 0")
    ctx.close(write_end)
    data = ctx.read(read_end)
    ctx.result("eof_after_close", len(data or b""))
    ctx.close(read_end)


def read_downstream(child: ChildContext) -> bytes:
    """read(0, ...) in a pipeline stage (told when it returns: after the write whose bytes it got)."""
    return child.read(0, 64) or b""


def pipeline(ctx: DemoContext) -> None:
    ctx.step("pipes", "The shell makes two pipes for a | b | c")
    first_read, first_write = ctx.pipe()
    second_read, second_write = ctx.pipe()
    all_ends = (first_read, first_write, second_read, second_write)

    def plumb(child: ChildContext, stdin: int | None, stdout: int | None) -> None:
        for fd, target in ((stdin, 0), (stdout, 1)):
            if fd is not None:
                os.dup2(fd, target)
                child.call(f"dup2({fd}, {target})", target)
        for fd in all_ends:
            child.close(fd)

    def a_body(child: ChildContext) -> None:
        plumb(child, None, first_write)
        child.ack()
        child.wait_poke()
        for word in ("apple", "banana", "cherry", "damson", "elder"):
            child.pause(0.5)
            child.write(1, f"{word}\n".encode())
        child.call("exit(0)")

    def b_body(child: ChildContext) -> None:
        plumb(child, first_read, second_write)
        child.ack()
        while data := read_downstream(child):
            child.write(1, data.upper())
        child.call("exit(0)")

    def c_body(child: ChildContext) -> int:
        plumb(child, second_read, None)
        child.ack()
        lines = 0
        while data := read_downstream(child):
            lines += data.count(b"\n")
        child.note(f"c counted {lines} lines")
        child.result("lines", lines)
        return 0

    ctx.step("fork", "The shell forks a, b and c; each dup2()s its ends onto 0 and 1 and closes the rest")
    children = {}
    for name, body in (("a", a_body), ("b", b_body), ("c", c_body)):
        children[name] = ctx.fork(name, body)
        ctx.wait_ack(children[name])

    ctx.step("close", "The shell closes all four ends: each pipe has one writer and one reader")
    for fd in all_ends:
        ctx.close(fd)
    ctx.note(f"look: a {children['a']} writes pipe 1, b {children['b']} reads it and writes pipe 2, "
             f"c {children['c']} reads pipe 2")

    ctx.step("run", "Data flows down; when a exits, end of file flows down too")
    ctx.poke(children["a"])
    for name in ("a", "b", "c"):
        status = ctx.reap_and_tell(children[name])
        ctx.result(f"status_{name}", status)
    ctx.note("a shell's $? is the status of the last command, c")
