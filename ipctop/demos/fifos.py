"""The named pipe demos: fifo and fifo-nonblock.  See catalog.py for the lessons."""

from __future__ import annotations

import os
import select
import stat

from ipctop.demos import ccalls, proc
from ipctop.demos.context import ChildContext, DemoContext, Narrator
from ipctop.demos.pipes import bytes_waiting

OPEN_WAIT = "wait_for_partner"  # where open() of a FIFO sleeps until the other side opens


def make_fifo(ctx: DemoContext) -> str:
    directory = ctx.make_temp_dir()
    ctx.call(f"mkdtemp({ccalls.cstr(b'/tmp/ipctop-demo-XXXXXX')})", ccalls.cstr(directory.encode(), 64))
    path = os.path.join(directory, "demo.fifo")
    ctx.track_path(path)
    os.mkfifo(path, 0o666)
    ctx.call(f"mkfifo({ccalls.cstr(path.encode(), 64)}, 0666)", 0)
    show_size(ctx, path)
    umask = os.umask(0o022)
    os.umask(umask)
    if umask & 0o666:
        ctx.note(f"the mode is 0666 less the umask {umask:03o}, as for any file")
    return path


def show_size(who: Narrator, path: str) -> int:
    info = os.stat(path)
    kind = "S_IFIFO" if stat.S_ISFIFO(info.st_mode) else oct(stat.S_IFMT(info.st_mode))
    who.call(f"stat({ccalls.cstr(path.encode(), 64)}, &st)", f"0; st_mode {kind}|{info.st_mode & 0o777:o}, "
             f"st_size {info.st_size}")
    return info.st_size


def remove_fifo(ctx: DemoContext, path: str) -> None:
    os.unlink(path)
    ctx.call(f"unlink({ccalls.cstr(path.encode(), 64)})", 0)
    ctx.forget_path(path)
    directory = os.path.dirname(path)
    os.rmdir(directory)
    ctx.call(f"rmdir({ccalls.cstr(directory.encode(), 64)})", 0)
    ctx.forget_path(directory)


def fork_writer_blocked_in_open(
    ctx: DemoContext, path: str, role: str, data: bytes, first_note: str | None = None
) -> tuple[int, str]:
    """A child that opens the FIFO for writing without O_NONBLOCK, writes `data`, closes it and
    exits; returned (its pid, its wchan) once it waits in open() for a reader."""

    def writer_body(child: ChildContext) -> None:
        if first_note:
            child.note(first_note)
        out = child.open(path, os.O_WRONLY)
        child.write(out, data)
        child.close(out)
        child.call("exit(0)")

    writer = ctx.fork(role, writer_body)
    where = ctx.wait_until(lambda: proc.wchan(writer) if proc.wchan(writer) == OPEN_WAIT else "",
                           f"the writer {writer} blocking in open()")  # fmt: skip
    return writer, where


def fifo(ctx: DemoContext) -> None:
    ctx.step("mkfifo", "The server makes a FIFO: a pipe with a name in the file system")
    path = make_fifo(ctx)
    ctx.note(f"look: ls -l shows type p; ipctop's FIFO pane shows {path}")

    def client_body(child: ChildContext) -> None:
        child.wait_poke()
        child.pause(2.0)
        fd = child.open(path, os.O_WRONLY)
        child.ack()
        child.wait_poke()
        for number in range(1, 4):
            child.write(fd, f"line {number}\n".encode())
        child.ack()
        child.wait_poke()
        child.close(fd)
        child.call("exit(0)")

    client = ctx.fork("client", client_body)

    ctx.step("open-read", "The server opens the FIFO for reading: open() blocks until a writer opens it")
    ctx.poke(client)
    ctx.note(f"open blocks: the wchan of the server {ctx.pid} is {OPEN_WAIT}, until the client {client} opens")
    fd = ctx.open(path, os.O_RDONLY)
    ctx.wait_ack(client)
    ctx.note("both open() calls returned together")

    ctx.step("write", "The client writes three lines; they wait in the kernel, not in the file")
    ctx.poke(client)
    ctx.wait_ack(client)
    waiting = bytes_waiting(ctx, fd)
    size = show_size(ctx, path)
    ctx.result("fifo_bytes_waiting", waiting)
    ctx.result("fifo_file_size", size)
    ctx.note(f"{waiting} bytes wait in the pipe buffer, the file on disk has size {size}")

    ctx.step("read", "The server reads; the client closes; the server gets end of file")
    ctx.read(fd)
    ctx.poke(client)
    while ctx.read(fd):
        pass
    ctx.reap_and_tell(client)
    ctx.close(fd)

    ctx.step("open-write", "The reverse: a writer opens first and blocks until a reader opens")
    writer, where = fork_writer_blocked_in_open(ctx, path, "client", b"hello\n",
                                                "open for writing with no reader: open() blocks")  # fmt: skip
    ctx.result("writer_open_wchan", where)
    ctx.note(f"look: /proc/{writer}/wchan is {where}; the writer holds no descriptor for the FIFO yet")

    ctx.step("release", "The server opens for reading: the writer's open() returns; then the FIFO is removed")
    fd = ctx.open(path, os.O_RDONLY)
    while ctx.read(fd):
        pass
    ctx.reap_and_tell(writer)
    ctx.close(fd)
    remove_fifo(ctx, path)
    ctx.note("the data never reached the disk; removing the name does not touch pipes still open")


def fifo_nonblock(ctx: DemoContext) -> None:
    ctx.step("mkfifo", "A FIFO nobody has open")
    path = make_fifo(ctx)

    ctx.step("read-nonblock", "open(O_RDONLY|O_NONBLOCK) returns at once, writer or not")
    reader = ctx.open(path, os.O_RDONLY | os.O_NONBLOCK)
    ctx.read(reader)
    ctx.note("with no writer at all, read() says end of file rather than EAGAIN")

    ctx.step("write-with-reader", "open(O_WRONLY|O_NONBLOCK) works while someone has it open for reading")
    writer = ctx.open(path, os.O_WRONLY | os.O_NONBLOCK)
    ctx.result("write_open_with_reader", writer)
    ctx.close(writer)
    ctx.close(reader)

    ctx.step("write-alone", "With no reader, open(O_WRONLY|O_NONBLOCK) fails with ENXIO")
    failed = ctx.open(path, os.O_WRONLY | os.O_NONBLOCK)
    ctx.result("write_open_alone", failed)
    ctx.note("ENXIO: no process has the FIFO open for reading; a blocking open would wait instead")

    ctx.step("blocking-writer", "A writer without O_NONBLOCK waits in open() for a reader")
    child, where = fork_writer_blocked_in_open(ctx, path, "writer", b"hi\n")
    ctx.note(f"look: /proc/{child}/wchan is {where}")

    ctx.step("release", "A non-blocking open for reading releases the blocked writer")
    reader = ctx.open(path, os.O_RDONLY | os.O_NONBLOCK)
    select.select([reader], [], [], ctx.patience)
    ctx.read(reader)
    ctx.reap_and_tell(child)
    ctx.close(reader)
    remove_fifo(ctx, path)
